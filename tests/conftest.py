"""Fixtures shared by every test: the sandbox homeserver and the bridge as a process."""

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
