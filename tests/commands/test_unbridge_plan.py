"""What unbridging takes away, as pure functions: a channel's descendants, the snapshot that
syncs see once channels are excluded, and the texts people read."""

from __future__ import annotations

from bridge.actions.admin.services import Actor
from bridge.actions.admin.unbridging import UnbridgeOutcome, _descendants, _why
from bridge.commands.run_unbridge import outcome_text
from bridge.convert.model import ChannelSnapshot, ChannelType, GuildSnapshot
from bridge.db.rows import PortalRow

GUILD = 1


def channel(id: int, type: int = ChannelType.TEXT, parent: int | None = None) -> ChannelSnapshot:
    return ChannelSnapshot(id, GUILD, type, f"c{id}", parent_id=parent)


def test_excluded_channels_leave_the_snapshot_with_everything_under_them() -> None:
    from bridge.portal.excluded import without_channels

    guild = GuildSnapshot(
        GUILD,
        "Guild",
        owner_id=9,
        channels=(
            channel(10, ChannelType.CATEGORY),
            channel(11, parent=10),
            channel(12, ChannelType.FORUM, parent=10),
            channel(13, ChannelType.PUBLIC_THREAD, parent=12),  # a forum post
            channel(20),
        ),
    )
    assert without_channels(guild, set()) is guild
    assert [c.id for c in without_channels(guild, {12}).channels] == [10, 11, 20]
    assert [c.id for c in without_channels(guild, {10}).channels] == [20]


def test_a_forums_posts_are_unbridged_with_it() -> None:
    rows = [
        PortalRow(12, GUILD, parent_id=10, room_id="!forum"),
        PortalRow(13, GUILD, parent_id=12, room_id="!post"),
        PortalRow(11, GUILD, parent_id=10, room_id="!other"),
    ]
    assert [row.discord_id for row in _descendants(rows[0], rows)] == [12, 13]


def test_texts_name_who_and_why() -> None:
    admin = Actor("matrix", mxid="@boss:example.org")
    assert _why(admin, None) == "Unbridged by @boss:example.org."
    assert _why(admin, "moved") == "Unbridged by @boss:example.org: moved."
    assert _why(Actor("discord"), "the bot was removed") == "The bot was removed."
    assert _why(Actor("config"), None) == ""
    text = outcome_text(UnbridgeOutcome("channel", 5, "lounge", 1, False))
    assert "**lounge** (5)" in text and "1 room kept as an archive, with its members" in text
    assert "3 rooms and spaces emptied, their aliases removed" in outcome_text(
        UnbridgeOutcome("guild", 1, "Guild", 3, True)
    )
