"""Pure parts of `bridge-room`, relaying and the notices: the bot's power in a room, which
channels get rooms, power levels kept in an adopted room, and the notices' text."""

from __future__ import annotations

from types import SimpleNamespace

import discord
import pytest

from bridge.actions.admin.room_power import bot_power, too_little_power_text
from bridge.actions.admin.rooms import room_kind_problem
from bridge.convert.d2m.room_state import merge_power_levels
from bridge.convert.m2d.notices import admins_of, no_level_notice, relay_off_notice

BOT = "@discordbot:example.com"
# What Synapse gives a room a user creates (room version 12).
SYNAPSE_V12 = {
    "ban": 50,
    "events": {
        "m.room.avatar": 50,
        "m.room.canonical_alias": 50,
        "m.room.encryption": 100,
        "m.room.history_visibility": 100,
        "m.room.name": 50,
        "m.room.power_levels": 100,
        "m.room.server_acl": 100,
        "m.room.tombstone": 150,
    },
    "events_default": 0,
    "invite": 0,
    "kick": 50,
    "redact": 50,
    "state_default": 50,
    "users": {},
    "users_default": 0,
}
CREATE_V12 = {"room_version": "12"}


def levels_with(users: dict[str, int], **changes: object) -> dict:
    return {**SYNAPSE_V12, "users": users, **changes}


def test_bot_needs_100_in_a_users_room() -> None:
    power = bot_power(BOT, levels_with({}), CREATE_V12, "@alice:example.com")
    assert (power.level, power.needed, power.enough) == (0, 100, False)
    power = bot_power(BOT, levels_with({BOT: 100}), CREATE_V12, "@alice:example.com")
    assert power.enough
    # The tombstone's 150 is kept by the bridge, so it does not raise the need.
    assert power.needed == 100


def test_bot_needs_more_where_the_room_asks_more() -> None:
    levels = levels_with({BOT: 100}, events={**SYNAPSE_V12["events"], "m.room.power_levels": 150})
    power = bot_power(BOT, levels, CREATE_V12, "@alice:example.com")
    assert (power.needed, power.enough) == (150, False)
    power = bot_power(BOT, levels_with({BOT: 100}, invite=120), CREATE_V12, "@alice:example.com")
    assert power.needed == 120


def test_creators_have_every_power_from_room_version_12() -> None:
    assert bot_power(BOT, levels_with({}), CREATE_V12, BOT).enough
    extra = {**CREATE_V12, "additional_creators": [BOT]}
    assert bot_power(BOT, levels_with({}), extra, "@alice:example.com").level is None
    v11 = bot_power(BOT, levels_with({"@alice:example.com": 100}), {"room_version": "11"}, BOT)
    assert v11.level == 0 and not v11.enough  # before v12 the creator's power is listed
    assert bot_power(BOT, None, {"room_version": "11"}, BOT).enough  # no power levels at all


def test_too_little_power_says_what_to_do() -> None:
    text = too_little_power_text(
        BOT, bot_power(BOT, levels_with({BOT: 50}), CREATE_V12, "@a:b"), "!discord bridge-room 1"
    )
    assert "has power level 50 in this room, and bridging it needs 100" in text
    assert f"/op {BOT} 100" in text and "Roles & Permissions" in text
    assert text.endswith("then send `!discord bridge-room 1` again.")


def test_adopted_rooms_keep_levels_the_bot_cannot_change() -> None:
    desired = {"users": {"@discord_1:example.com": 100}, "events": {"m.room.tombstone": 100}}
    actual = levels_with({BOT: 100, "@alice:example.com": 100, "@discord_2:example.com": 50})
    merged = merge_power_levels(desired, actual, lambda user: user.startswith("@discord_"))
    assert merged["users"] == {
        "@discord_1:example.com": 100,
        BOT: 100,
        "@alice:example.com": 100,
    }
    assert merged["events"] == {"m.room.tombstone": 150}


def channel(kind: discord.ChannelType, name: str = "x") -> SimpleNamespace:
    return SimpleNamespace(id=7, name=name, type=kind)


@pytest.mark.parametrize(
    ("kind", "voice", "problem"),
    [
        (discord.ChannelType.text, False, None),
        (discord.ChannelType.news, False, None),
        (discord.ChannelType.category, False, "is a category"),
        (discord.ChannelType.forum, False, "is a forum"),
        (discord.ChannelType.media, False, "is a forum"),
        (discord.ChannelType.voice, False, "bridge.bridge_voice_channels: true"),
        (discord.ChannelType.stage_voice, False, "is a voice channel"),
        (discord.ChannelType.voice, True, None),
    ],
)
def test_which_channels_get_a_room(
    kind: discord.ChannelType, voice: bool, problem: str | None
) -> None:
    found = room_kind_problem(channel(kind, "lounge"), voice)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith("#lounge (7) ") and problem in found


def test_notice_texts() -> None:
    assert no_level_notice() == (
        "Your messages here are not relayed to Discord: the bridge's `bridge.permissions` "
        "gives you no level. Ask its admin."
    )
    assert no_level_notice(["@boss:x"]).endswith("Ask its admin (@boss:x).")
    assert "turned relaying off in this room" in relay_off_notice()
    assert "`set-relay`" in relay_off_notice()
    permissions = {"@boss:x": "admin", "x": "user", "*": "relay", "@pal:x": "Admin", "@u:x": "user"}
    assert admins_of(permissions) == ["@boss:x", "@pal:x"]
