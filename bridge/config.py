"""Loading the bridge's config: create, upgrade, override from the environment, validate.

The config is a mautrix ``BaseFileConfig`` (ruamel.yaml, dotted keys). The known keys are
the bundled example's (config_keys): any other key is an error naming the nearest known one,
found before anything is written. Upgrading inserts the lines of the keys a user's file lacks,
with the example's comments, and changes no other byte of it (config_text).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from mautrix.util.config import BaseFileConfig, ConfigUpdateHelper, RecursiveDict
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .config_keys import describe_unknown, known_keys, known_leaves, nearest_key, unknown_keys
from .config_schema import find_problems
from .config_syntax import describe_yaml_error
from .config_text import (
    in_flow_section,
    insert_keys,
    parse,
    replace_scalar,
    write_atomically,
)
from .config_upgrade import add_missing_keys
from .startup_hints import invoked_command

EXAMPLE_CONFIG = "pkg://bridge/example-config.yaml"
ENV_PREFIX = "DISCORD_BRIDGE__"
# Maps whose entries are the user's own choice: copied whole instead of key by key.
WHOLE_MAPS = ("bridge.permissions", "logging")

log = logging.getLogger("bridge.config")


class ConfigError(Exception):
    """The config cannot be used; ``problems`` holds one line per broken key."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        where = f"the config file {path}"
        if any(problem.startswith(ENV_PREFIX) for problem in problems):
            where += f" and the {ENV_PREFIX}* environment variables"
        super().__init__(f"Problems in {where}:\n{listing}")


class ConfigCreated(Exception):
    """There was no config: an example was written where it was expected.

    The message names the keys of the README's "Setting it up" table and the command to
    generate the registration, spelled as the user ran the bridge (``command``, default
    startup_hints.invoked_command()).
    """

    def __init__(self, path: Path, command: str | None = None) -> None:
        self.path = path
        command = invoked_command() if command is None else command
        super().__init__(
            f"No config file at {path}, so an example config was written there.\n"
            "Edit it: at least homeserver.address, homeserver.domain, appservice.address, "
            "discord.bot_token and bridge.permissions (who may use the bridge); then generate "
            f"the registration with\n  {command} -c {path} -g -r registration.yaml"
        )


def _parse_env_value(raw: str) -> Any:
    """An environment value read as YAML, so `true`, `8080` and `[a, b]` get their types."""
    try:
        return YAML(typ="safe").load(raw)
    except YAMLError:
        return raw


def _example_text() -> str:
    """The bundled example config's text (bridge/example-config.yaml)."""
    return resources.files("bridge").joinpath("example-config.yaml").read_text(encoding="utf-8")


def _shown_raw(raw: str) -> str:
    return raw if len(raw) <= 40 else raw[:37] + "..."


class Config(BaseFileConfig):
    """The bridge config: a ruamel.yaml map addressed with dotted keys (``config["a.b"]``).

    The file is only ever changed line by line (config_text): keys this version adds are
    inserted with the example's comments, the registration tokens replaced in place; every
    other byte stays as the user wrote it.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__(str(path), EXAMPLE_CONFIG)
        self.text = ""
        # Keys whose value came from the environment: dotted path → (variable, raw value).
        self.from_environment: dict[str, tuple[str, str]] = {}

    @property
    def directory(self) -> Path:
        """Where the config file lives: relative paths in it are relative to this."""
        return Path(self.path).resolve().parent

    def load(self) -> None:
        """Read the file (UTF-8) and parse it. Raises OSError, UnicodeDecodeError, YAMLError."""
        self.text = Path(self.path).read_bytes().decode("utf-8")
        self._data = parse(self.text)

    def do_update(self, helper: ConfigUpdateHelper) -> None:  # pragma: no cover - see update
        raise NotImplementedError("Config.update merges into the user's file instead")

    def unknown_key_problems(self) -> list[str]:
        """One line per key of the file that this version does not know (config_keys)."""
        example = parse(_example_text())
        known = known_keys(example, WHOLE_MAPS)
        return [describe_unknown(p, known) for p in unknown_keys(self._data, example, WHOLE_MAPS)]

    def update(self, save: bool = True) -> None:
        """Add the keys this version knows and the file lacks; write them only if any were."""
        added = add_missing_keys(self._data, parse(_example_text()), WHOLE_MAPS)
        if not added or not save:
            return
        left_out = [path for path in added if in_flow_section(self._data, path)]
        if not self._rewrite(added, {}):
            left_out = added
        if left_out:
            log.warning(
                "The config file %s lacks %s; they could not be added without changing its "
                "other lines (a section in flow style, `{...}`?). The example's values are "
                "used; add them yourself from the example config to silence this.",
                self.path,
                ", ".join(left_out),
            )

    def _rewrite(self, added: list[str], values: Mapping[str, str]) -> bool:
        """Write the file with the ``added`` keys inserted and ``values`` replaced in place.

        Keys of ``added`` inside a flow-style section (``bot: {username: x}``) cannot take a
        line of their own: they stay out of the file (the example's value is used in memory)
        and every other key is still inserted. Returns False, writing nothing, when the text
        edits cannot give exactly the data in memory (config_text says why that can happen).
        """
        insertable = [path for path in added if not in_flow_section(self._data, path)]
        text: str | None = self.text
        if insertable and text is not None:
            text = insert_keys(text, _example_text(), insertable)
        for key, value in values.items():
            if text is not None:
                text = replace_scalar(text, key, value)
        if text is None or not self._holds_all_but(text, [p for p in added if p not in insertable]):
            return False
        if text != self.text:
            write_atomically(Path(self.path), text)
            self.text = text
        return True

    def _holds_all_but(self, text: str, left_out: list[str]) -> bool:
        """Whether ``text`` parses to the data in memory once the dotted keys ``left_out``
        (left out of the file) are given their in-memory values."""
        try:
            written = parse(text)
            for path in left_out:
                *parents, leaf = path.split(".")
                node, source = written, self._data
                for part in parents:
                    node, source = node[part], source[part]
                node[leaf] = source[leaf]
        except Exception:  # an edit that broke the YAML is a failed edit, whatever the error
            return False
        return bool(written == self._data)

    def apply_environment(self, environ: Mapping[str, str]) -> list[str]:
        """Override keys from DISCORD_BRIDGE__* variables; returns the problems found."""
        problems = []
        leaves = known_leaves(parse(_example_text()), WHOLE_MAPS)
        for name, raw in sorted(environ.items()):
            if not name.startswith(ENV_PREFIX):
                continue
            path = ".".join(part.lower() for part in name.removeprefix(ENV_PREFIX).split("__"))
            if path not in leaves:
                problem = f"{name}: no config key {path!r} to override"
                suggestion = nearest_key(path, set(leaves))
                if suggestion is not None:
                    problem += f"; did you mean {env_name(suggestion)}?"
                problems.append(problem)
                continue
            self[path] = _parse_env_value(raw)
            self.from_environment[path] = (name, raw)
        return problems

    def attribute_to_environment(self, problems: list[str]) -> list[str]:
        """``problems`` ("key: text") with those of keys set from the environment reworded to
        name the variable: "DISCORD_BRIDGE__APPSERVICE__PORT=abc: expected ... (sets
        appservice.port)", since the file holds another value."""
        reworded = []
        for problem in problems:
            key, _, rest = problem.partition(": ")
            if key in self.from_environment:
                name, raw = self.from_environment[key]
                problem = f"{name}={_shown_raw(raw)}: {rest} (it sets {key})"
            reworded.append(problem)
        return reworded

    def save_tokens(self, as_token: str, hs_token: str) -> None:
        """Write the registration tokens into the file, changing only their two values.

        The file is read afresh so that environment overrides never end up in it. Keys it
        lacks are added as an upgrade would. Should the line edits be impossible, the file
        is rewritten whole (formatting lost) with a warning, since the tokens must be kept.
        """
        tokens = {"appservice.as_token": as_token, "appservice.hs_token": hs_token}
        for upgrade in (True, False):  # without the upgrade if its keys cannot be inserted
            on_disk = Config(self.path)
            on_disk.load()
            added = (
                add_missing_keys(on_disk._data, parse(_example_text()), WHOLE_MAPS)
                if upgrade
                else []
            )
            for key, value in tokens.items():
                on_disk[key] = value
            if on_disk._rewrite(added, tokens):
                break
        else:
            log.warning(
                "Could not write the tokens into %s line by line; it is rewritten whole, "
                "so its formatting and quoting change",
                self.path,
            )
            on_disk.save()
        for key, value in tokens.items():
            self[key] = value


def env_name(path: str) -> str:
    """The environment variable that overrides the dotted key ``path``."""
    return ENV_PREFIX + "__".join(part.upper() for part in path.split("."))


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
    ConfigError listing every problem: keys this version does not know (with the nearest
    known one), environment variables naming no key, and values the rules refuse (naming
    the variable when the value came from one). ``require`` adds rule groups ("tokens",
    "discord"). Keys this version adds are written to the file, line by line, unless
    ``save_upgrades`` is False (a dry run changes nothing) or a key is unknown (nothing is
    written before the file is right).
    """
    path = Path(path)
    if not path.exists():
        write_example(path)
        raise ConfigCreated(path)
    config = Config(path)
    try:
        config.load()
    except YAMLError as error:
        raise ConfigError(path, [describe_yaml_error(error, config.text)]) from error
    except UnicodeDecodeError as error:
        raise ConfigError(path, [f"not UTF-8 text (byte {error.start})"]) from error
    except OSError as error:
        raise ConfigError(path, [f"cannot be read: {error.strerror}"]) from error
    if not isinstance(config._data, Mapping):
        raise ConfigError(path, ["the file must hold a YAML map of sections"])
    # Checked before the upgrade: a typo must not get the default written beside it.
    problems = config.unknown_key_problems()
    try:
        config.update(save=save_upgrades and not problems and os.access(path, os.W_OK))
    except (AttributeError, TypeError) as error:
        # A section that should be a map holds a scalar (e.g. `homeserver: 42`).
        raise ConfigError(path, [f"a section has the wrong shape: {error}"]) from error
    problems += config.apply_environment(os.environ if environ is None else environ)
    problems += config.attribute_to_environment(find_problems(config._data, require))
    if problems:
        raise ConfigError(path, problems)
    return config


__all__ = ["Config", "ConfigCreated", "ConfigError", "RecursiveDict", "load_config"]
