"""Replies count right ("1 room", "3 rooms"), say what was already so, and name who could
not be removed; the power levels an archive is handed over with (pure)."""

from __future__ import annotations

import time

from bridge.actions.admin.bridging import InviteOutcome
from bridge.actions.admin.imports import ImportJob
from bridge.actions.admin.room_exit import handed_over_users
from bridge.actions.admin.room_power import creators_have_every_power, room_creators
from bridge.actions.admin.unbridging import UnbridgeOutcome
from bridge.commands.run_bridging import invite_text
from bridge.commands.run_import import status_text
from bridge.commands.run_unbridge import announce_text, outcome_text
from bridge.discord import slash_replies as replies
from bridge.discord.slash_replies import WhereOnMatrix
from bridge.importer.progress import ChannelProgress
from bridge.plural import counted, rooms_and_spaces

SPACE = "!space:example.org"
BOT = "@discordbot:example.org"


def test_counted() -> None:
    assert [counted(n, "room") for n in (0, 1, 2)] == ["0 rooms", "1 room", "2 rooms"]
    assert rooms_and_spaces(1) == "1 room" and rooms_and_spaces(4) == "4 rooms and spaces"


def test_unbridge_texts_count_right_and_name_who_stayed() -> None:
    one = outcome_text(UnbridgeOutcome("channel", 5, "rules", 1, False))
    assert "1 room kept as an archive, with its members and history" in one
    assert "1 rooms" not in one and "archives" not in one
    text = outcome_text(UnbridgeOutcome("guild", 1, "G", 3, True, ("@owner:example.org",)))
    assert "3 rooms and spaces emptied" in text
    assert "Matrix let nobody remove @owner:example.org" in text
    assert "nobody remove" not in outcome_text(UnbridgeOutcome("guild", 1, "G", 3, True))
    assert announce_text("rules", 5, 1, False) == (
        "Unbridging **rules** (5) now: this room will be kept as an archive, with its members "
        "and history, and the bridge will leave it."
    )
    assert "2 rooms and spaces, this one included, will be emptied, their aliases" in (
        announce_text("G", 1, 2, True)
    )
    slash = replies.unbridged_reply("G", 1, deleted=True, not_removed=("@owner:example.org",))
    assert "its Matrix room was emptied: everyone was removed from it except @owner" in slash
    assert "its Matrix room stays on Matrix" in replies.unbridged_reply("G", 1, deleted=False)
    assert "1 room created" in replies.bridged_reply("G", SPACE, "example.org", 1, already=False)


def test_invite_texts_name_the_space_apart_and_what_was_already_so() -> None:
    rooms = tuple(f"!r{n}:example.org" for n in range(3))
    first = InviteOutcome("@guest:example.org", 1, "Cats", SPACE, (SPACE, *rooms))
    assert invite_text(first) == "Invited @guest:example.org to the space and 3 rooms of **Cats**."
    again = InviteOutcome("@guest:example.org", 1, "Cats", SPACE, (), (SPACE, *rooms))
    assert invite_text(again) == (
        "@guest:example.org was already invited to the space and 3 rooms of **Cats**. "
        "Nothing to do."
    )
    mixed = InviteOutcome("@g:example.org", 1, "Cats", SPACE, rooms[:1], rooms[1:], (SPACE,))
    assert invite_text(mixed) == (
        "Invited @g:example.org to 1 room of **Cats**; they were already invited to 2 rooms "
        "and already in the space."
    )


def test_a_running_import_of_one_message() -> None:
    job = ImportJob(7, 111, (222,), state="running", guild_name="G", target_id=111)
    job.progress.channels = {222: ChannelProgress("#lounge", done=1)}
    job.progress.sending_since = time.monotonic() - 1.0
    assert "1 message so far (still counting the rest)" in status_text(job, lambda line: line)
    job.progress.channels = {222: ChannelProgress("#lounge", total=1, done=1)}
    assert "1 of 1 message," in status_text(job, lambda line: line)


def test_info_in_a_private_channel_says_a_member_must_invite() -> None:
    where = WhereOnMatrix("G", SPACE, "staff", "!staff:example.org", None, "example.org")
    public = replies.info_reply(where)
    assert "join the space first" in public
    private = replies.info_reply(
        WhereOnMatrix("G", SPACE, "staff", "!staff:example.org", None, "example.org", private=True)
    )
    assert "This room is private" in private and "must invite your Matrix account" in private
    assert "join the space first" not in private


def test_archives_are_handed_over_without_creators_and_ghosts() -> None:
    assert creators_have_every_power("12") and creators_have_every_power("13")
    assert not creators_have_every_power("11") and not creators_have_every_power(None)
    create = {"room_version": "12", "additional_creators": ["@co:example.org"]}
    assert room_creators(create, "@owner:example.org") == {"@owner:example.org", "@co:example.org"}
    assert room_creators({"room_version": "10"}, "@owner:example.org") == set()

    levels = {"users": {BOT: 100, "@discord_1:example.org": 50, "@discord_2:example.org": 100}}
    keepers = ["@owner:example.org", "@admin:example.org"]

    def is_ghost(user: str) -> bool:
        return user.startswith("@discord_") and user != BOT

    users = handed_over_users(levels, {"@owner:example.org"}, BOT, keepers, is_ghost)
    # The creator is never listed; the bot cannot lower a ghost at its own level.
    assert users == {BOT: 100, "@discord_2:example.org": 100, "@admin:example.org": 100}
    older = handed_over_users(levels, set(), BOT, keepers, is_ghost)
    assert older["@owner:example.org"] == 100  # room versions before 12 list creators
    as_creator = handed_over_users(levels, {BOT}, BOT, keepers, is_ghost)
    assert not [user for user in as_creator if user.startswith("@discord_")]
