"""The texts of Discord's ``/matrix`` command: pure functions from what was found or done to
the (ephemeral) reply a member reads. Discord markdown; at most 2000 characters."""

from __future__ import annotations

from dataclasses import dataclass

from discord.utils import escape_markdown

from ..plural import rooms_and_spaces

MAX_LENGTH = 2000  # characters in a Discord message
MANAGE_SERVER = "Manage Server"  # Discord's name for MANAGE_GUILD in its apps


@dataclass(frozen=True)
class WhereOnMatrix:
    """Where a guild and one of its channels are on Matrix, for ``/matrix info``.

    ``space_room_id`` is None when the guild is not bridged; ``room_id`` (and ``alias``) when
    the channel has no room. ``in_parent``: the channel is a thread of a text channel, whose
    messages are Matrix threads in the parent's room (``room_id`` and ``alias`` are the
    parent's). ``private``: the room is invite-only (the channel is hidden from @everyone).
    """

    guild_name: str
    space_room_id: str | None
    channel_name: str
    room_id: str | None
    alias: str | None
    domain: str  # the homeserver's, to join rooms through
    in_parent: bool = False
    private: bool = False


def matrix_to(target: str, domain: str) -> str:
    """A matrix.to link to a room alias, or to a room ID with the server to join through."""
    if target.startswith("!"):
        return f"https://matrix.to/#/{target}?via={domain}"
    return f"https://matrix.to/#/{target}"


def link(target: str, domain: str) -> str:
    """The address as code, then its matrix.to link in ``<…>`` (no preview). Not a masked link:
    Discord applies no backslash escapes in a masked link's text (FIELD-NOTES), so an alias's
    underscores could turn into italics there."""
    return f"`{target}` <{matrix_to(target, domain)}>"


def fit(text: str) -> str:
    """Cut to Discord's 2000 characters."""
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 1] + "…"


def info_reply(where: WhereOnMatrix) -> str:
    """``/matrix info``: the space's and this channel's Matrix addresses, and how to join."""
    guild = escape_markdown(where.guild_name)
    channel = escape_markdown(where.channel_name)
    if where.space_room_id is None:
        return fit(
            f"**{guild}** is not bridged to Matrix. A member with **{MANAGE_SERVER}** can "
            "bridge it with `/matrix bridge`."
        )
    lines = [
        f"**{guild}** on Matrix",
        f"Space: {link(where.space_room_id, where.domain)}",
    ]
    if where.room_id is None:
        lines.append(f"This channel (**{channel}**) is not bridged to Matrix.")
        how = "open the space's link"
    else:
        address = where.alias or where.room_id
        room = f"{link(address, where.domain)} (room ID `{where.room_id}`)"
        if where.in_parent:
            lines.append(
                f"This thread (**{channel}**) is a Matrix thread in its channel's room: {room}"
            )
        else:
            lines.append(f"This channel (**{channel}**): {room}")
        how = f"open a link, or type `/join {address}` in your Matrix client"
    if where.room_id is not None and where.private:
        lines.append(
            "This room is private, as the channel is on Discord: nobody can join it on their "
            "own. A member of the room (or the bridge's admin) must invite your Matrix account; "
            "then accept the invite in your Matrix client (Element, …)."
        )
    else:
        lines.append(
            f"To join from any Matrix server and client (Element, …): {how}. If a room is only "
            "for the space's members, join the space first."
        )
    return fit("\n".join(lines))


def bridged_reply(
    guild_name: str, space_room_id: str, domain: str, rooms_created: int, already: bool
) -> str:
    """``/matrix bridge`` done: the new (or synced) space and where to look next."""
    guild = escape_markdown(guild_name)
    space = link(space_room_id, domain)
    if already:
        text = f"**{guild}** was already bridged; synced it again. Its space: {space}."
    else:
        text = (
            f"Bridged **{guild}** to Matrix as the space {space}: "
            f"{rooms_and_spaces(rooms_created)} created."
        )
    return fit(text + " `/matrix info` in a channel shows its room's address.")


def unbridged_reply(
    name: str,
    rooms: int,
    deleted: bool,
    not_removed: tuple[str, ...] | list[str] = (),
    bot_stayed: int = 0,
) -> str:
    """``/matrix unbridge`` done: whether the Matrix rooms were emptied or left as they are;
    ``not_removed``: the Matrix users nobody may remove (rooms' creators), who stayed;
    ``bot_stayed``: archives the bot stayed in, no one else having joined them."""
    one = rooms == 1
    what = "Matrix room" if one else f"{rooms} Matrix rooms and spaces"
    if deleted:
        fate = f"its {what} {'was' if one else 'were'} emptied: everyone was removed from "
        fate += "it" if one else "them"
        if not_removed:
            stayed = ", ".join(escape_markdown(user) for user in not_removed)
            fate += f" except {stayed}, whom Matrix lets nobody remove (a room's creator)"
    else:
        fate = f"its {what} {'stays' if one else 'stay'} on Matrix as an archive, no longer bridged"
        if bot_stayed:
            fate += (
                f" (the bridge bot stays in {bot_stayed} that no one else has joined yet, "
                "so that their invites can still be accepted)"
            )
    return fit(f"Unbridged **{escape_markdown(name)}**: {fate}. `/matrix bridge` bridges it again.")


def missing_permission_reply(subcommand: str) -> str:
    """A member without Manage Server tried ``/matrix bridge`` or ``unbridge``."""
    return (
        f"`/matrix {subcommand}` needs the **{MANAGE_SERVER}** permission, which you do not "
        "have here. Ask a server admin."
    )


def action_error_reply(message: str) -> str:
    """An action refused (an ``ActionError``): its message says why and what to do."""
    return fit(f"Could not do that: {message}")


def failure_reply() -> str:
    """Anything unexpected: the details are in the bridge's log, not shown to members."""
    return (
        "That failed because of an error in the bridge; its log says more. Try again later, "
        "or tell the bridge's admin."
    )


def not_in_guild_reply() -> str:
    return "`/matrix` works in a server's channels, not in direct messages."
