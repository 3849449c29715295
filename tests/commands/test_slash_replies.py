"""The texts of Discord's /matrix command (pure functions, no Discord or Matrix needed)."""

from __future__ import annotations

from bridge.discord import slash_replies as replies
from bridge.discord.slash_replies import WhereOnMatrix

SPACE = "!space:example.org"
ROOM = "!room:example.org"
ALIAS = "#discord_42:example.org"


def where(**fields: object) -> WhereOnMatrix:
    values: dict[str, object] = {
        "guild_name": "Cats *&* Dogs",
        "space_room_id": SPACE,
        "channel_name": "general",
        "room_id": ROOM,
        "alias": ALIAS,
        "domain": "example.org",
    }
    return WhereOnMatrix(**{**values, **fields})  # type: ignore[arg-type]


def test_info_gives_the_space_the_room_and_how_to_join() -> None:
    text = replies.info_reply(where())
    assert text.splitlines() == [
        r"**Cats \*&\* Dogs** on Matrix",
        f"Space: `{SPACE}` <https://matrix.to/#/{SPACE}?via=example.org>",
        f"This channel (**general**): `{ALIAS}` <https://matrix.to/#/{ALIAS}> (room ID `{ROOM}`)",
        "To join from any Matrix server and client (Element, …): open a link, or type "
        f"`/join {ALIAS}` in your Matrix client. If a room is only for the space's members, "
        "join the space first.",
    ]


def test_info_in_a_thread_points_at_its_channels_room() -> None:
    text = replies.info_reply(where(channel_name="a thread", in_parent=True))
    assert "This thread (**a thread**) is a Matrix thread in its channel's room" in text
    assert ALIAS in text


def test_info_when_not_bridged() -> None:
    text = replies.info_reply(where(space_room_id=None, room_id=None, alias=None))
    assert text == (
        r"**Cats \*&\* Dogs** is not bridged to Matrix. A member with **Manage Server** can "
        "bridge it with `/matrix bridge`."
    )
    text = replies.info_reply(where(room_id=None, alias=None))
    assert "This channel (**general**) is not bridged to Matrix." in text
    assert "open the space's link" in text and "/join" not in text


def test_room_without_alias_is_linked_by_id() -> None:
    text = replies.info_reply(where(alias=None))
    assert f"`{ROOM}` <https://matrix.to/#/{ROOM}?via=example.org>" in text


def test_bridge_unbridge_and_errors() -> None:
    text = replies.bridged_reply("Cats", SPACE, "example.org", 5, already=False)
    assert text.startswith(f"Bridged **Cats** to Matrix as the space `{SPACE}` <https://")
    assert "5 rooms and spaces created" in text
    text = replies.bridged_reply("Cats", SPACE, "example.org", 0, already=True)
    assert text.startswith("**Cats** was already bridged; synced it again.")
    assert "archive" in replies.unbridged_reply("Cats", 3, deleted=False)
    assert "3 Matrix rooms" in replies.unbridged_reply("Cats", 3, deleted=False)
    assert "its Matrix room was emptied" in replies.unbridged_reply("Cats", 1, deleted=True)
    assert "emptied" in replies.unbridged_reply("Cats", 1, deleted=True)
    assert "**Manage Server**" in replies.missing_permission_reply("bridge")
    assert replies.action_error_reply("No.") == "Could not do that: No."
    assert "log" in replies.failure_reply()


def test_replies_fit_in_a_discord_message() -> None:
    text = replies.info_reply(where(guild_name="x" * 3000))
    assert len(text) == replies.MAX_LENGTH and text.endswith("…")
