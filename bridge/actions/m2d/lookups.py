"""Looking up what a Matrix event refers to, for its conversion to Discord."""

from __future__ import annotations

import re
from dataclasses import dataclass

import discord
from mautrix.types import RoomID, UserID

from ...convert.d2m.puppet import name_in_displayname
from ...convert.m2d.context import DiscordEmoji, M2DContext
from ...db.rows import PortalRow
from ...migration.identity import discord_face, unlinked_displayname
from .services import M2DServices

_USER_PILL = re.compile(r"https://matrix\.to/#/(@[^\"'?<>\s]+)")
_ROOM_PILL = re.compile(r"https://matrix\.to/#/([!#][^\"'?<>\s/]+)")
_EMOTICON = re.compile(
    r"data-mx-emoticon[^>]*?src=\"(mxc://[^\"]+)\"|src=\"(mxc://[^\"]+)\"[^>]*?data-mx-emoticon"
)
_EMOJI_SOURCE = re.compile(r"/emojis/(\d+)\.(png|gif|webp)")
# What may ping everyone on Discord (@room, a typed @everyone or @here); "&" in HTML: an entity
# could spell an "@".
_MAY_PING_ALL = re.compile(r"@(?:room|everyone|here)|&", re.IGNORECASE)


@dataclass(frozen=True)
class Identity:
    """How a Matrix user shows on Discord: their name and avatar in that room, or, for a
    linked account, their Discord member's name and avatar (a Discord CDN URL)."""

    name: str
    avatar_mxc: str | None
    avatar_url: str | None = None

    def avatar(self, services: M2DServices) -> str | None:
        """The ``avatar_url`` of a webhook message: Discord's own, else the bridge's avatar
        proxy for the Matrix avatar (None: Discord's default)."""
        return self.avatar_url or services.avatars.url_for(self.avatar_mxc)


async def identity(
    services: M2DServices, room_id: str, sender: str, guild_id: int | None = None
) -> Identity:
    """How ``sender`` shows on Discord. A Matrix account linked to a member of the guild
    ``guild_id`` shows as that member (one person, not two); anyone else by their name and
    avatar in the room."""
    linked = services.puppets.links.discord_for(sender) if guild_id else None
    if linked is not None and guild_id:
        discord_member = await services.discord_members.member(services.discord, guild_id, linked)
        if discord_member is not None:
            face = discord_face(discord_member)
            return Identity(face.name, None, face.avatar_url)
    member = await services.bot.state_store.get_member(RoomID(room_id), UserID(sender))
    if member is None or member.displayname is None:
        try:
            member = await services.bot.get_room_member_info(RoomID(room_id), UserID(sender))
        except Exception:  # a missing member event must not stop the message
            member = None
    name = (member.displayname if member else None) or sender.split(":")[0].lstrip("@")
    return Identity(name, (member.avatar_url or None) if member else None)


async def discord_name(services: M2DServices, portal: PortalRow, ghost_mxid: str) -> str:
    """The name Discord shows for the author behind a ghost (nick, else global name, else
    username), not the ghost's Matrix name with the template's decoration (" (Discord)").

    From discord.py's cache when it has the user; else the ghost's name in the room (its
    nick there) or its global name, undone from ``bridge.displayname_template`` and
    ``bridge.bot_suffix`` (webhook authors are only known so); else that name as it is.
    """
    ghost_id = services.puppets.ghost_id_of(ghost_mxid) or ""
    if ghost_id.isdigit():
        guild = services.discord.get_guild(portal.guild_id) if portal.guild_id else None
        user = (guild.get_member(int(ghost_id)) if guild else None) or services.discord.get_user(
            int(ghost_id)
        )
        if user is not None:
            return user.display_name
    shown = (await identity(services, portal.room_id or "", ghost_mxid)).name
    row = await services.tables.puppets.get(ghost_id) if ghost_id else None
    puppets = services.puppets
    mxid = puppets.links.mxid_for(int(ghost_id)) if ghost_id.isdigit() else None
    for name in (shown, row.displayname if row else None):
        if name:
            name = unlinked_displayname(name, mxid)  # "Alice (Discord) · @alice:example.org"
            found = name_in_displayname(name, puppets.displayname_template, puppets.bot_suffix)
            if found:
                return found
    return (row.displayname if row else None) or shown


async def conversion_context(
    services: M2DServices, portal: PortalRow, content: dict, sender: str, sender_name: str
) -> M2DContext:
    html = content.get("formatted_body") or ""
    ghosts: dict[str, int] = {}
    names: dict[str, str] = {}
    for mxid in set(_USER_PILL.findall(html)):
        ghost_id = services.puppets.ghost_id_of(mxid)
        linked = services.puppets.links.discord_for(mxid)  # a linked account: its member
        if ghost_id and ghost_id.isdigit():
            ghosts[mxid] = int(ghost_id)
        elif linked is not None:
            ghosts[mxid] = linked
        else:
            names[mxid] = (await identity(services, portal.room_id or "", mxid)).name
    rooms: dict[str, int] = {}
    for target in set(_ROOM_PILL.findall(html)):
        channel_id = await _channel_of(services, target)
        if channel_id:
            rooms[target] = channel_id
    by_name, by_mxc = await _guild_emoji(services, portal, html)
    return M2DContext(
        ghost_user_ids=ghosts,
        display_names=names,
        room_channels=rooms,
        emoji_by_name=by_name,
        emoji_by_mxc=by_mxc,
        allow_everyone=services.options.room_mentions
        and _may_ping_all(content)
        and await _may_notify_room(services, portal, sender),
        sender_name=sender_name,
    )


def _may_ping_all(content: dict) -> bool:
    """Whether the text could ping everyone at all (else the sender's power is moot)."""
    texts = (content.get("body"), content.get("formatted_body"))
    return any(isinstance(t, str) and _MAY_PING_ALL.search(t) for t in texts)


async def _channel_of(services: M2DServices, room_or_alias: str) -> int | None:
    if room_or_alias.startswith("!"):
        row = await services.tables.portal_by_room(room_or_alias)
        return row.discord_id if row else None
    localpart = room_or_alias[1:].split(":", 1)[0]
    digits = re.sub(r"\D", "", localpart)
    if digits and await services.tables.portals.get(int(digits)):
        return int(digits)
    return None


async def _guild_emoji(
    services: M2DServices, portal: PortalRow, html: str
) -> tuple[dict[str, DiscordEmoji], dict[str, DiscordEmoji]]:
    guild = services.discord.get_guild(portal.guild_id) if portal.guild_id else None
    if guild is None:
        return {}, {}
    by_name = {e.name: DiscordEmoji(e.id, e.name, e.animated) for e in guild.emojis}
    by_mxc: dict[str, DiscordEmoji] = {}
    mxcs = dict.fromkeys(m.group(1) or m.group(2) for m in _EMOTICON.finditer(html))
    for mxc in mxcs:
        emoji = await custom_emoji_of(services, guild, mxc)
        if emoji is not None:
            by_mxc[mxc] = DiscordEmoji(emoji.id, emoji.name, emoji.animated)
    return by_name, by_mxc


async def custom_emoji_of(
    services: M2DServices, guild: discord.Guild, mxc: str
) -> discord.Emoji | None:
    """The guild's custom emoji whose image the bridge uploaded as ``mxc``, if any."""
    for row in await services.tables.media.find("mxc = $1", mxc):
        found = _EMOJI_SOURCE.search(row.source_key)
        emoji = guild.get_emoji(int(found.group(1))) if found else None
        if emoji is not None:
            return emoji
    return None


async def _may_notify_room(services: M2DServices, portal: PortalRow, sender: str) -> bool:
    """The sender has the power the room asks for @room notifications."""
    if not portal.room_id:
        return False
    try:
        levels = await services.bot.get_power_levels(RoomID(portal.room_id))
    except Exception:
        return False
    return levels.get_user_level(UserID(sender)) >= levels.notifications.room
