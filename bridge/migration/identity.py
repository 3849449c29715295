"""One person, not two: how a linked member shows on each side.

On Discord, what a linked member sends from Matrix goes out (through the channel's webhook)
under their Discord face: their name and avatar in that guild. On Matrix, their ghost's name
says which Matrix account they use now ("Alice (Discord) · @alice:example.org"), unless
double puppeting shows them as themselves. Pure functions; the relays and
:mod:`bridge.puppet.puppets` do the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from ..convert.d2m.puppet import MAX_DISPLAYNAME

#: Between the ghost's name and the Matrix account it shows.
SEPARATOR = " · "
#: The least of the ghost's name kept when both are too long for a display name together.
MIN_NAME = 32
ELLIPSIS = "…"


@dataclass(frozen=True)
class DiscordFace:
    """How Discord shows a member in one guild: ``name`` (guild nick, else global name, else
    username) and ``avatar_url`` (guild avatar, else their own, else Discord's default
    avatar), a URL of Discord's CDN that Discord fetches itself for a webhook message."""

    name: str
    avatar_url: str


def discord_face(user: discord.Member | discord.User) -> DiscordFace:
    """The face of a guild member (or, outside any guild, of a user), as discord.py's
    ``display_name`` and ``display_avatar`` give it (Discord: "Guild Member Object", nick and
    avatar override the user's)."""
    return DiscordFace(user.display_name, user.display_avatar.url)


def linked_displayname(name: str, mxid: str | None) -> str:
    """A ghost display name (``bridge.displayname_template`` applied, or a room's nick
    through it) showing the member's linked Matrix account: ``"Alice (Discord)"`` and
    ``"@alice:example.org"`` → ``"Alice (Discord) · @alice:example.org"``. ``mxid`` None: the
    name as it is.

    At most :data:`MAX_DISPLAYNAME` characters (Synapse refuses longer display names): a long
    name is cut first (ending in "…"), down to :data:`MIN_NAME` characters; only then the
    Matrix ID.
    """
    if not mxid:
        return name
    suffix = SEPARATOR + mxid
    if len(name) + len(suffix) <= MAX_DISPLAYNAME:
        return name + suffix
    room = max(MAX_DISPLAYNAME - len(suffix), MIN_NAME)
    if len(name) > room:
        name = name[: room - len(ELLIPSIS)].rstrip() + ELLIPSIS
    if len(name) + len(suffix) > MAX_DISPLAYNAME:
        suffix = suffix[: MAX_DISPLAYNAME - len(name) - len(ELLIPSIS)] + ELLIPSIS
    return name + suffix


def unlinked_displayname(displayname: str, mxid: str | None) -> str:
    """:func:`linked_displayname` undone when ``displayname`` shows ``mxid`` whole (for
    reading the Discord name back out of a ghost's name); otherwise ``displayname``."""
    if mxid and displayname.endswith(SEPARATOR + mxid):
        return displayname[: -len(SEPARATOR + mxid)]
    return displayname
