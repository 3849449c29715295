"""The migration page's parts without a bridge: the OpenID check against a stand-in
homeserver (answers, cache, where other servers are looked for) and the charting library's
install step (integrity pinned, files unpacked, nothing fetched twice)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bridge.web import assets
from bridge.web.assets import AssetError, NpmAsset, fetch, integrity_of, is_current, unpack
from bridge.web.openid import (
    USERINFO_PATH,
    OpenIDRefused,
    OpenIDVerifier,
    admin_possible_on,
    split_server_name,
)

# ---- OpenID ---------------------------------------------------------------------------------


def test_only_servers_where_an_admin_could_be_are_asked() -> None:
    permissions = {"*": "relay", "example.com": "user", "@boss:example.org": "admin"}
    assert admin_possible_on("example.org", permissions)
    assert not admin_possible_on("example.com", permissions)
    assert not admin_possible_on("org", permissions)  # no suffix match
    assert admin_possible_on("anything.test", {"*": "admin"})
    assert admin_possible_on("team.example", {"team.example": "ADMIN"})


def test_server_names() -> None:
    assert split_server_name("example.org") == ("example.org", None)
    assert split_server_name("matrix.example.org:8449") == ("matrix.example.org", 8449)
    assert split_server_name("[::1]:8448") == ("[::1]", 8448)
    for bad in ("", "exa mple.org", "example.org:0", "example.org:99999", "a/b", "x:y"):
        assert split_server_name(bad) is None, bad


class StandIn:
    """A homeserver's userinfo route: token → answer (status, body); counts the requests."""

    def __init__(self, answers: dict[str, tuple[int, Any]]) -> None:
        self.answers, self.asked = answers, 0

    async def userinfo(self, request: web.Request) -> web.Response:
        self.asked += 1
        status, body = self.answers.get(request.query.get("access_token", ""), (401, {}))
        return web.json_response(body, status=status)


async def test_tokens_are_checked_with_the_homeserver_and_cached() -> None:
    stand_in = StandIn(
        {
            "good": (200, {"sub": "@boss:hs.test"}),
            "stranger": (200, {"sub": "@boss:elsewhere.test"}),
            "broken": (500, {}),
        }
    )
    app = web.Application()
    app.router.add_get(USERINFO_PATH, stand_in.userinfo)
    async with TestServer(app, host="127.0.0.1") as server:
        verifier = OpenIDVerifier("hs.test", str(server.make_url("/")))
        assert await verifier.user_of("hs.test", "good") == "@boss:hs.test"
        assert await verifier.user_of("hs.test", "good") == "@boss:hs.test"
        assert stand_in.asked == 1  # the second time from the cache
        cases = {
            "expired": (403, "hs.test does not know this OpenID token"),
            "stranger": (403, "hs.test answered for no user of its own"),
            "broken": (502, "hs.test answered HTTP 500"),
            "two words": (403, "That is not an OpenID token"),
        }
        for token, (status, reason) in cases.items():
            with pytest.raises(OpenIDRefused) as refused:
                await verifier.user_of("hs.test", token)
            assert refused.value.status == status and str(refused.value).startswith(reason)
        assert stand_in.asked == 4  # the malformed token was not sent
    with pytest.raises(OpenIDRefused) as refused:  # the homeserver is gone
        await verifier.user_of("hs.test", "other")
    assert refused.value.status == 502 and "Could not ask hs.test" in str(refused.value)


async def test_other_servers_are_looked_for_as_federation_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier = OpenIDVerifier("hs.test", "http://127.0.0.1:8008/")
    delegations = {"example.org": ("matrix.example.org", None), "team.test": ("fed.team.test", 443)}

    async def well_known(_: Any, host: str) -> tuple[str, int | None] | None:
        return delegations.get(host)

    monkeypatch.setattr(verifier, "_well_known", well_known)
    expected = {
        "hs.test": "http://127.0.0.1:8008",  # this bridge's own: homeserver.address
        "example.org": "https://matrix.example.org:8448",
        "team.test": "https://fed.team.test:443",
        "plain.test": "https://plain.test:8448",
        "ported.test:8000": "https://ported.test:8000",  # a port: no .well-known
        "10.0.0.7": "https://10.0.0.7:8448",
    }
    for name, base in expected.items():
        assert await verifier._base_url(None, name) == base, name  # type: ignore[arg-type]


# ---- the charting library's install step ----------------------------------------------------


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


PACKED = tarball({"package/dist/lib.js": b"window.Lib = 1;", "package/LICENSE": b"MIT"})
ASSET = NpmAsset(
    "lib", "1.2.3", integrity_of(PACKED), {"package/dist/lib.js": "lib.js", "package/LICENSE": "L"}
)


def test_the_pinned_tarball_is_unpacked_and_stamped(tmp_path: Path) -> None:
    assert not is_current(ASSET, tmp_path)
    unpack(ASSET, PACKED, tmp_path)
    assert (tmp_path / "lib.js").read_bytes() == b"window.Lib = 1;"
    assert (tmp_path / "L").read_text() == "MIT"
    assert is_current(ASSET, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["L", "lib.js", "lib.stamp"]


def test_another_tarball_is_refused(tmp_path: Path) -> None:
    other = tarball({"package/dist/lib.js": b"alert(1)", "package/LICENSE": b"MIT"})
    with pytest.raises(AssetError, match="the tarball's integrity is sha512-"):
        unpack(ASSET, other, tmp_path)
    assert list(tmp_path.iterdir()) == []
    missing = NpmAsset("lib", "1.2.3", ASSET.integrity, {"package/dist/gone.js": "gone.js"})
    with pytest.raises(AssetError, match="has no package/dist/gone.js"):
        unpack(missing, PACKED, tmp_path)


def test_fetch_checks_the_registry_metadata_and_fetches_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[str] = []
    metadata = {"dist": {"integrity": ASSET.integrity, "tarball": "https://r.test/lib.tgz"}}

    def get(url: str) -> bytes:
        fetched.append(url)
        return PACKED if url.endswith(".tgz") else json.dumps(metadata).encode()

    monkeypatch.setattr(assets, "_get", get)
    assert fetch(ASSET, tmp_path, "https://r.test/").startswith("lib@1.2.3: wrote ")
    assert fetched == ["https://r.test/lib/1.2.3", "https://r.test/lib.tgz"]
    assert fetch(ASSET, tmp_path, "https://r.test") == f"lib@1.2.3: already in {tmp_path}"
    assert len(fetched) == 2
    metadata["dist"]["integrity"] = "sha512-somethingelse"
    with pytest.raises(AssetError, match="the registry names integrity 'sha512-somethingelse'"):
        fetch(ASSET, tmp_path, "https://r.test", force=True)


def test_the_command_says_what_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unreachable(url: str) -> bytes:
        raise AssetError(f"could not fetch {url}: offline")

    monkeypatch.setattr(assets, "_get", unreachable)
    assert assets.main(["--dir", str(tmp_path), "--registry", "https://r.test"]) == 1
    err = capsys.readouterr().err
    assert "could not fetch https://r.test/chart.js/4.5.1: offline" in err
    assert "The page still shows its tables" in err
