"""Pure rules: permission levels from config, and room version 12 power levels."""

from __future__ import annotations

import pytest

from bridge.matrix.rooms import creation_power_levels
from bridge.permissions import Level, permission_level

PERMISSIONS = {"*": "relay", "example.org": "user", "@boss:example.org": "admin"}


@pytest.mark.parametrize(
    ("mxid", "level"),
    [
        ("@boss:example.org", Level.ADMIN),
        ("@alice:example.org", Level.USER),
        ("@mallory:elsewhere.net", Level.RELAY),
    ],
)
def test_the_most_specific_entry_wins(mxid: str, level: Level) -> None:
    assert permission_level(mxid, PERMISSIONS) == level


def test_nobody_listed_means_no_access() -> None:
    assert permission_level("@x:other.net", {"example.org": "admin"}) == Level.NONE


def test_levels_include_the_lower_ones() -> None:
    assert Level.ADMIN > Level.USER > Level.RELAY > Level.NONE


def test_room_v12_power_levels_leave_out_the_creator() -> None:
    levels = creation_power_levels("@bot:x", {"@bot:x": 100, "@mod:x": 50}, "12")
    assert levels == {"@mod:x": 50}


def test_older_rooms_list_the_creator_at_100() -> None:
    assert creation_power_levels("@bot:x", {"@mod:x": 50}, "11") == {"@mod:x": 50, "@bot:x": 100}
