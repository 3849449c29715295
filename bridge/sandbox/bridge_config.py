"""A bridge config for the sandbox: the example config, pointed at a loopback homeserver."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from ..config import load_config, write_example
from ..registration import generate_registration
from .synapse_config import DEFAULT_SERVER_NAME


def write_sandbox_config(
    folder: Path, port: int, settings: Mapping[str, Mapping[str, Any]] | None = None
) -> Path:
    """Write ``folder/config.yaml`` and its ``registration.yaml`` beside it.

    The example config, with the sandbox's server name, the appservice on ``port`` of
    127.0.0.1, logging at WARNING, and ``settings`` merged into its sections.
    """
    path = folder / "config.yaml"
    write_example(path)
    yaml = YAML()
    data = yaml.load(path)
    data["homeserver"]["domain"] = DEFAULT_SERVER_NAME
    data["appservice"]["address"] = f"http://127.0.0.1:{port}"
    data["appservice"]["port"] = port
    data["logging"]["root"]["level"] = "WARNING"
    for section, values in (settings or {}).items():
        data[section].update(values)
    with path.open("w") as stream:
        yaml.dump(data, stream)
    generate_registration(load_config(path, environ={}), folder / "registration.yaml")
    return path
