"""Fixtures shared by every test: the sandbox homeserver and the bridge as a process."""

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.homeserver",
    "tests.fixtures.discord",
    "tests.fixtures.bridge",
    "tests.fixtures.inprocess",
    "tests.fixtures.community",
    "tests.fixtures.lounge",
]


@pytest.fixture(scope="session")
def appservice_registration(bridge_config_path: Path) -> Path:
    """The registration the bridge generates (overrides the homeserver plugin's default)."""
    from tests.fixtures.bridge import write_bridge_registration

    return write_bridge_registration(bridge_config_path)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Tests that run the CLI configure logging for the process; undo it after each test, so
    no handler outlives the captured stream it writes to."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
