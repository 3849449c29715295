"""Loading the bridge's config: create, upgrade, override from the environment, validate.

The config is a mautrix ``BaseFileConfig`` (ruamel.yaml, dotted keys); upgrading adds the
keys a user's file lacks, with the example's comments, and keeps the user's own lines.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from mautrix.util.config import BaseFileConfig, ConfigUpdateHelper, RecursiveDict
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .config_schema import find_problems
from .config_upgrade import add_missing_keys, example_comments

EXAMPLE_CONFIG = "pkg://bridge/example-config.yaml"
ENV_PREFIX = "DISCORD_BRIDGE__"
# Maps whose entries are the user's own choice: copied whole instead of key by key.
WHOLE_MAPS = ("bridge.permissions", "logging")


class ConfigError(Exception):
    """The config cannot be used; ``problems`` holds one line per broken key."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"Problems in the config file {path}:\n{listing}")


class ConfigCreated(Exception):
    """There was no config: an example was written where it was expected."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"No config file at {path}, so an example config was written there.\n"
            "Edit it: at least homeserver.address, homeserver.domain, appservice.address and "
            "discord.bot_token; then generate the registration with\n"
            f"  python -m bridge -c {path} -g -r registration.yaml"
        )


def _leaf_paths(node: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of every value in ``node``, treating WHOLE_MAPS as single values."""
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and path not in WHOLE_MAPS:
            yield from _leaf_paths(value, f"{path}.")
        else:
            yield path


def _parse_env_value(raw: str) -> Any:
    """An environment value read as YAML, so `true`, `8080` and `[a, b]` get their types."""
    try:
        return YAML(typ="safe").load(raw)
    except YAMLError:
        return raw


class Config(BaseFileConfig):
    """The bridge config: a ruamel.yaml map addressed with dotted keys (``config["a.b"]``)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(str(path), EXAMPLE_CONFIG)

    @property
    def directory(self) -> Path:
        """Where the config file lives: relative paths in it are relative to this."""
        return Path(self.path).resolve().parent

    def do_update(self, helper: ConfigUpdateHelper) -> None:  # pragma: no cover - see update
        raise NotImplementedError("Config.update merges into the user's file instead")

    def update(self, save: bool = True) -> None:
        """Add the keys this version knows and the file lacks; rewrite it only if any were."""
        example = self.load_base()
        assert example is not None, "the bundled example config is missing"
        text = resources.files("bridge").joinpath("example-config.yaml").read_text()
        added = add_missing_keys(
            self._data, example._data, example_comments(text.splitlines()), WHOLE_MAPS
        )
        if added and save:
            self.save()

    def apply_environment(self, environ: Mapping[str, str]) -> list[str]:
        """Override keys from DISCORD_BRIDGE__* variables; returns the problems found."""
        problems = []
        known = set(_leaf_paths(self._data))
        for name, raw in sorted(environ.items()):
            if not name.startswith(ENV_PREFIX):
                continue
            path = ".".join(part.lower() for part in name.removeprefix(ENV_PREFIX).split("__"))
            if path not in known:
                problems.append(f"{name}: no config key {path!r} to override")
                continue
            self[path] = _parse_env_value(raw)
        return problems

    def save_tokens(self, as_token: str, hs_token: str) -> None:
        """Write the registration tokens into the file, leaving every other line as it is.

        The file is read afresh so that environment overrides never end up in it.
        """
        on_disk = Config(self.path)
        on_disk.load()
        on_disk["appservice.as_token"] = as_token
        on_disk["appservice.hs_token"] = hs_token
        on_disk.save()
        self["appservice.as_token"] = as_token
        self["appservice.hs_token"] = hs_token


def write_example(path: Path) -> None:
    """Copy the bundled example config to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with resources.as_file(resources.files("bridge") / "example-config.yaml") as example:
        shutil.copyfile(example, path)


def load_config(
    path: str | Path,
    *,
    require: tuple[str, ...] = (),
    environ: Mapping[str, str] | None = None,
    save_upgrades: bool = True,
) -> Config:
    """Load, upgrade and validate the config at ``path``.

    Raises ConfigCreated when the file was missing (an example is written there) and
    ConfigError listing every problem. ``require`` adds rule groups ("tokens", "discord").
    Keys this version adds are written to the file unless ``save_upgrades`` is False (a
    dry run changes nothing).
    """
    path = Path(path)
    if not path.exists():
        write_example(path)
        raise ConfigCreated(path)
    config = Config(path)
    try:
        config.load()
    except YAMLError as error:
        raise ConfigError(path, [f"not valid YAML: {error}"]) from error
    except OSError as error:
        raise ConfigError(path, [f"cannot be read: {error.strerror}"]) from error
    if not isinstance(config._data, Mapping):
        raise ConfigError(path, ["the file must hold a YAML map of sections"])
    try:
        config.update(save=save_upgrades and os.access(path, os.W_OK))
    except (AttributeError, TypeError) as error:
        # A section that should be a map holds a scalar (e.g. `homeserver: 42`).
        raise ConfigError(path, [f"a section has the wrong shape: {error}"]) from error
    problems = config.apply_environment(os.environ if environ is None else environ)
    problems += find_problems(config._data, require)
    if problems:
        raise ConfigError(path, problems)
    return config


__all__ = ["Config", "ConfigCreated", "ConfigError", "RecursiveDict", "load_config"]
