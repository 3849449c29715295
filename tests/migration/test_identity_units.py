"""The pure rules of "one person, not two" (issue #18): the linked ghost's name, the member
cache, and pills of a linked account in the Matrix → Discord converter."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import discord

from bridge.convert.d2m.puppet import MAX_DISPLAYNAME
from bridge.convert.m2d.context import M2DContext
from bridge.convert.m2d.formatting import matrix_to_discord
from bridge.migration.identity import MIN_NAME, linked_displayname, unlinked_displayname
from bridge.migration.members import DiscordMembers

MXID = "@alice:example.org"


def test_the_linked_name_adds_the_matrix_account_and_comes_off_again() -> None:
    shown = linked_displayname("Alice (Discord)", MXID)
    assert shown == "Alice (Discord) · @alice:example.org"
    assert unlinked_displayname(shown, MXID) == "Alice (Discord)"
    assert linked_displayname("Alice (Discord)", None) == "Alice (Discord)"
    assert unlinked_displayname("Alice (Discord)", MXID) == "Alice (Discord)"
    assert unlinked_displayname(shown, "@bob:example.org") == shown  # another account: as is


def test_a_long_name_is_cut_before_the_matrix_account() -> None:
    shown = linked_displayname("A" * 250 + " (Discord)", MXID)
    assert len(shown) == MAX_DISPLAYNAME
    assert shown.endswith("A… · " + MXID)


def test_a_very_long_matrix_id_is_cut_only_after_the_name() -> None:
    mxid = "@" + "x" * 240 + ":example.org"
    shown = linked_displayname("Alice (Discord)", mxid)  # the whole name fits
    assert len(shown) == MAX_DISPLAYNAME
    assert shown.startswith("Alice (Discord) · @xxx") and shown.endswith("x…")
    long_name = linked_displayname("B" * 100, mxid)
    assert len(long_name) == MAX_DISPLAYNAME
    assert long_name.startswith("B" * (MIN_NAME - 1) + "… · @")


class _Guild:
    """A guild of discord.py with no cached members; ``fetch_member`` answers from ``known``."""

    chunked = False  # the members are not all cached: the missing ones are fetched

    def __init__(self, known: dict[int, Any]) -> None:
        self.known, self.fetches = known, 0

    def get_member(self, user_id: int) -> None:
        return None

    async def fetch_member(self, user_id: int) -> Any:
        self.fetches += 1
        if user_id not in self.known:
            raise discord.NotFound(
                SimpleNamespace(status=404, reason="Not Found"),
                {"code": 10007, "message": "Unknown Member"},
            )
        return self.known[user_id]


async def test_a_member_missing_from_the_cache_is_fetched_once() -> None:
    alice = SimpleNamespace(id=5)
    guild = _Guild({5: alice})
    client: Any = SimpleNamespace(get_guild=lambda guild_id: guild if guild_id == 1 else None)
    members = DiscordMembers()
    assert await members.member(client, 1, 5) is alice
    assert await members.member(client, 1, 5) is alice
    assert await members.member(client, 1, 6) is None  # not in the guild: remembered too
    assert await members.member(client, 1, 6) is None
    assert guild.fetches == 2
    assert await members.member(client, 2, 5) is None  # the bot is not in that guild
    members.forget(5)
    assert await members.member(client, 1, 5) is alice
    assert guild.fetches == 3


async def test_a_pill_of_a_linked_account_becomes_a_mention_of_the_member() -> None:
    content = {
        "msgtype": "m.text",
        "body": "Alice: hi",
        "format": "org.matrix.custom.html",
        "formatted_body": f'<a href="https://matrix.to/#/{MXID}">Alice</a>: hi',
    }
    text = await matrix_to_discord(content, M2DContext(ghost_user_ids={MXID: 42}))
    assert text.content == "<@42>: hi"
    assert text.mentioned_user_ids == (42,)
