"""The migration page's charting library, fetched from the npm registry at install time.

No third-party code is kept in the repository: ``make install`` and the Dockerfile run
``python -m bridge.web.assets``, which downloads the pinned Chart.js release's tarball from the
npm registry, checks it against the pinned ``sha512`` integrity (also the one the registry's
metadata names: Subresource Integrity form, ``sha512-<base64>``), and writes its UMD build and
licence into :data:`VENDOR_DIR` (``bridge/web/static/vendor/``, gitignored). Without the file
the migration page still shows every number in its tables, and says how to get the charts.

The files go beside the imported module: run from a checkout before ``pip install .`` (the
package data then carries them; the Dockerfile and the README's install do so), or with the
installed package, into it. ``--registry URL`` (default https://registry.npmjs.org) points at
a mirror; the tarball must still match the pinned integrity.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).with_name("static") / "vendor"
DEFAULT_REGISTRY = "https://registry.npmjs.org"
_TIMEOUT = 60  # seconds per request


@dataclass(frozen=True)
class NpmAsset:
    """Files taken from one exact version of an npm package: tarball path → file name."""

    package: str
    version: str
    integrity: str  # "sha512-<base64 digest>" of the tarball
    files: dict[str, str]

    @property
    def stamp(self) -> str:
        """What the stamp file holds once the files are in place."""
        return f"{self.package}@{self.version} {self.integrity}\n"


CHART_JS = NpmAsset(
    "chart.js",
    "4.5.1",
    "sha512-GIjfiT9dbmHRiYi6Nl2yFCq7kkwdkp1W/lp2J99rX0yo9tgJGn3lKQATztIjb5tVtevcBtIdICNWqlq5+E8/Pw==",
    {
        "package/dist/chart.umd.min.js": "chart.umd.min.js",
        "package/LICENSE.md": "chart.js.LICENSE.md",
    },
)
ASSETS = (CHART_JS,)


class AssetError(Exception):
    """An asset could not be fetched or did not match its pinned integrity (the message says
    which and why)."""


def integrity_of(data: bytes) -> str:
    """The Subresource Integrity string (``sha512-<base64>``) of ``data``."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json, */*"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            data: bytes = response.read()
            return data
    except OSError as error:  # URLError and HTTPError are OSErrors
        raise AssetError(f"could not fetch {url}: {error}") from error


def tarball_url(asset: NpmAsset, registry: str) -> str:
    """The tarball's URL from the registry's metadata of the pinned version, after checking
    that the registry names the pinned integrity. Raises AssetError otherwise."""
    url = f"{registry.rstrip('/')}/{asset.package}/{asset.version}"
    try:
        dist = json.loads(_get(url))["dist"]
    except (ValueError, KeyError, TypeError) as error:
        raise AssetError(f"{url} is not npm package metadata: {error}") from error
    if dist.get("integrity") != asset.integrity:
        raise AssetError(
            f"the registry names integrity {dist.get('integrity')!r} for "
            f"{asset.package}@{asset.version}, not the pinned {asset.integrity!r}"
        )
    return str(dist["tarball"])


def unpack(asset: NpmAsset, tarball: bytes, target: Path) -> list[Path]:
    """Check ``tarball`` against the pinned integrity and write the asset's files into
    ``target`` (each written whole, then renamed). Raises AssetError on a mismatch or a
    missing file."""
    found = integrity_of(tarball)
    if found != asset.integrity:
        raise AssetError(
            f"{asset.package}@{asset.version}: the tarball's integrity is {found}, "
            f"not the pinned {asset.integrity}"
        )
    target.mkdir(parents=True, exist_ok=True)
    written = []
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member_name, file_name in asset.files.items():
            try:
                member = archive.getmember(member_name)
            except KeyError as error:
                raise AssetError(f"{asset.package}@{asset.version} has no {member_name}") from error
            source = archive.extractfile(member) if member.isfile() else None
            if source is None:
                raise AssetError(f"{member_name} in {asset.package} is not a file")
            path = target / file_name
            partial = path.with_suffix(path.suffix + ".partial")
            partial.write_bytes(source.read())
            partial.replace(path)
            written.append(path)
    (target / f"{asset.package}.stamp").write_text(asset.stamp)
    return written


def is_current(asset: NpmAsset, target: Path) -> bool:
    """Whether ``target`` already holds the asset's files of the pinned version."""
    stamp = target / f"{asset.package}.stamp"
    return (
        stamp.is_file()
        and stamp.read_text() == asset.stamp
        and all((target / name).is_file() for name in asset.files.values())
    )


def fetch(asset: NpmAsset, target: Path, registry: str, *, force: bool = False) -> str:
    """Fetch the asset into ``target`` unless it is already there; a line saying what was done.
    Raises AssetError."""
    if not force and is_current(asset, target):
        return f"{asset.package}@{asset.version}: already in {target}"
    tarball = _get(tarball_url(asset, registry))
    files = unpack(asset, tarball, target)
    return f"{asset.package}@{asset.version}: wrote " + ", ".join(str(p) for p in files)


def main(argv: list[str] | None = None) -> int:
    """``python -m bridge.web.assets [--registry URL] [--force] [--dir DIR]``; exit 1 on a
    failure (the reason on stderr)."""
    parser = argparse.ArgumentParser(
        prog="python -m bridge.web.assets",
        description="Fetch the migration page's charting library from the npm registry.",
    )
    parser.add_argument(
        "--registry", default=DEFAULT_REGISTRY, help="an npm registry or mirror: %(default)s"
    )
    parser.add_argument("--dir", type=Path, default=VENDOR_DIR, help="default: %(default)s")
    parser.add_argument("--force", action="store_true", help="fetch even if already there")
    args = parser.parse_args(argv)
    try:
        for asset in ASSETS:
            print(fetch(asset, args.dir, args.registry, force=args.force))
    except (AssetError, OSError) as error:
        print(
            f"Could not fetch the migration page's charting library: {error}\n"
            "The page still shows its tables; run `python -m bridge.web.assets` again to get "
            "the charts.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
