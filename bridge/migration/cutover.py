"""The cut-over: announce the Matrix space in every bridged Discord channel, pin it, and with
``read_only`` stop @everyone from writing on Discord; ``undo_cutover`` puts everything back.

Channels: the guild's bridged text and announcement channels get the announcement (posted by
the bridge bot, not the webhook, so it is not relayed back to Matrix: the relay ignores the
bot's own messages). Forum and media channels get no announcement (a post there would be a new
thread), but the read-only cut-over covers them too. Threads follow their parent's overwrites.

Read-only means @everyone's overwrite of each channel denies Send Messages, Send Messages in
Threads, Create Public and Private Threads (:data:`.cutover_checks.READ_ONLY_DENY`; Discord's
"Permission Overwrites" in the permissions topic; the @everyone role's id is the guild's).
Webhooks are not bound by overwrites, so Matrix messages keep reaching Discord; the Matrix
rooms stay writable (power levels do not follow Send Messages). Members with Administrator,
or with a role overwrite allowing Send Messages, can still write on Discord.

Everything needed to undo is stored before Discord is changed: @everyone's overwrite of a
channel exactly as it was (``cutover_overwrite``, never replaced by a second run) and each
announcement (``cutover_announcement``). Both are read again by each run, so a run stopped half
way is finished by running it again. Overwrites are read and written as raw bit sets through
discord.py's HTTP client: its ``PermissionOverwrite`` drops bits it does not know yet.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from contextlib import suppress
from typing import Any, Literal

import discord
from mautrix.api import Method, Path
from mautrix.errors import MatrixRequestError
from mautrix.types import RoomAlias

from ..actions.admin.bridging import guild_or_error
from ..actions.admin.services import ActionError, Actor, AdminServices
from ..db.rows import CutoverAnnouncementRow, CutoverOverwriteRow, CutoverRow
from . import cutover_checks, cutover_text
from .cutover_text import CutoverOutcome, UndoOutcome

log = logging.getLogger("bridge.migration.cutover")

ROLE: Literal[0] = 0  # overwrite type of a role (1: a member)

ANNOUNCED_TYPES = frozenset({discord.ChannelType.text, discord.ChannelType.news})
READ_ONLY_TYPES = ANNOUNCED_TYPES | {discord.ChannelType.forum, discord.ChannelType.media}

_locks: dict[int, asyncio.Lock] = {}  # one cut-over or undo of a guild at a time


def _lock(guild_id: int) -> asyncio.Lock:
    return _locks.setdefault(guild_id, asyncio.Lock())


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _bot_member(services: AdminServices, guild: discord.Guild) -> discord.Member:
    me = guild.me
    if me is None:  # not cached (members are not chunked at start)
        assert services.discord.user is not None
        me = await guild.fetch_member(services.discord.user.id)
    return me


async def _bridged_channels(
    services: AdminServices, guild: discord.Guild
) -> tuple[list[discord.abc.GuildChannel], list[str]]:
    """The guild's bridged channels the cut-over covers, in Discord's order, and the names of
    those Discord no longer has."""
    portals = await services.tables.portals.find("guild_id = $1 AND room_id IS NOT NULL", guild.id)
    found: list[discord.abc.GuildChannel] = []
    gone: list[str] = []
    for row in portals:
        if row.channel_type not in {int(t.value) for t in READ_ONLY_TYPES}:
            continue
        channel = guild.get_channel(row.discord_id)
        if channel is None:
            gone.append(f"#{row.name or row.discord_id}")
        else:
            found.append(channel)
    found.sort(key=lambda c: (c.category.position if c.category else -1, c.position, c.id))
    return found, gone


async def space_address(services: AdminServices, guild_id: int, space_room_id: str) -> str:
    """The address the announcement gives: an alias of the space on the homeserver that is
    not the bridge's (the community's own, e.g. ``#ourguild:example.org``, which outlives the
    bridge: ``unbridge`` removes the bridge's alias), else the bridge's alias (``alias_of``)
    when it points at the space, else the space's room ID."""
    alias = services.alias_of(guild_id)
    try:
        answer = await services.bot.api.request(Method.GET, Path.v3.rooms[space_room_id].aliases)
    except MatrixRequestError as error:
        log.info("Could not list the aliases of the space %s: %s", space_room_id, error)
        answer = {}
    own = sorted(str(a) for a in answer.get("aliases", []) if str(a) != alias)
    if own:
        return own[0]
    try:
        found = await services.bot.resolve_room_alias(RoomAlias(alias))
    except MatrixRequestError:
        return space_room_id
    return alias if str(found.room_id) == space_room_id else space_room_id


async def _everyone_overwrite(
    services: AdminServices, channel_id: int, guild_id: int
) -> tuple[bool, int, int]:
    """@everyone's overwrite of the channel as Discord has it now: (exists, allow, deny)."""
    data: dict[str, Any] = dict(await services.discord.http.get_channel(channel_id))
    overwrites: list[dict[str, Any]] = data.get("permission_overwrites") or []
    for overwrite in overwrites:
        if int(overwrite["id"]) == guild_id and int(overwrite.get("type", ROLE)) == ROLE:
            return True, int(overwrite.get("allow") or 0), int(overwrite.get("deny") or 0)
    return False, 0, 0


async def _announce(
    services: AdminServices,
    channel: discord.abc.GuildChannel,
    text: str,
    reason: str,
    counts: Counter[str],
) -> None:
    """Post the announcement as the bot, remember it, pin it (``counts``: announced, pinned)."""
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
    counts["announced"] += 1
    row = CutoverAnnouncementRow(channel.id, channel.guild.id, message.id, pinned=False)
    await services.tables.cutover_announcements.upsert(row)
    await message.pin(reason=reason)
    counts["pinned"] += 1
    row.pinned = True
    await services.tables.cutover_announcements.upsert(row)


async def _make_read_only(
    services: AdminServices, channel: discord.abc.GuildChannel, me: discord.Member, reason: str
) -> bool:
    """Remember @everyone's overwrite (unless an earlier run did), then deny the read-only bits
    the bot may deny in it, keeping its other bits. False: it was read-only already."""
    guild_id = channel.guild.id
    existed, allow, deny = await _everyone_overwrite(services, channel.id, guild_id)
    original = CutoverOverwriteRow(channel.id, guild_id, existed, allow, deny)
    await services.tables.cutover_overwrites.insert_new_many([original])  # first one stays
    bits = cutover_checks.deniable(channel, me)
    new_allow, new_deny = allow & ~bits, deny | bits
    if existed and (new_allow, new_deny) == (allow, deny):
        return False
    await services.discord.http.edit_channel_permissions(
        channel.id, guild_id, str(new_allow), str(new_deny), ROLE, reason=reason
    )
    return True


async def _pin_again(
    services: AdminServices,
    channel: discord.abc.GuildChannel,
    row: CutoverAnnouncementRow,
    reason: str,
    counts: Counter[str],
) -> None:
    """Pin an announcement an earlier run posted but could not pin."""
    assert isinstance(channel, discord.TextChannel)
    await channel.get_partial_message(row.message_id).pin(reason=reason)
    counts["pinned"] += 1
    row.pinned = True
    await services.tables.cutover_announcements.upsert(row)


async def _remember_cutover(
    services: AdminServices, guild_id: int, read_only: bool, message: str, actor: Actor
) -> None:
    """The guild's cut-over row: a run while one is on keeps its start and adds to it."""
    earlier = await services.tables.cutovers.get(guild_id)
    if earlier is not None and earlier.undone_at is None:
        read_only = read_only or earlier.read_only
        message = message or earlier.message
        started_at = earlier.started_at
    else:
        started_at = _now_ms()
    row = CutoverRow(guild_id, read_only, message, started_at, actor.describe())
    await services.tables.cutovers.upsert(row)


async def cutover(
    services: AdminServices, guild_id: int, *, read_only: bool, message: str, actor: Actor
) -> CutoverOutcome:
    """Announce the space in every bridged channel of the guild, pin it, and with
    ``read_only`` deny :data:`~.cutover_checks.READ_ONLY_DENY` to @everyone there.

    Channels already announced by this cut-over are not announced again (an announcement left
    unpinned is pinned). Raises :class:`ActionError`: the guild is unknown or not bridged
    (404/409), or the bot lacks a permission somewhere (400, nothing changed; the message names
    the channels and the permissions). A Discord error in one channel is reported in
    ``failures``; the other channels go on.
    """
    guild = guild_or_error(services, guild_id)
    bridged = await services.tables.guilds.get(guild_id)
    if bridged is None or not bridged.space_room_id:
        raise ActionError(
            f"Guild {guild.name} ({guild_id}) is not bridged; `bridge {guild_id}` bridges it.",
            status=409,
        )
    async with _lock(guild_id):
        channels, gone = await _bridged_channels(services, guild)
        rows = await services.tables.cutover_announcements.find("guild_id = $1", guild_id)
        posted = {a.channel_id: a for a in rows}
        announce = {c.id for c in channels if c.type in ANNOUNCED_TYPES} - posted.keys()
        unpinned = {i for i, a in posted.items() if not a.pinned}
        overwrite = {c.id for c in channels} if read_only else set()
        me = await _bot_member(services, guild)
        problems = cutover_checks.problems(
            me, channels, announce=announce, unpin=unpinned, overwrite=overwrite
        )
        if problems:
            again = f"cutover {guild_id}" + (" --read-only" if read_only else "")
            raise ActionError(cutover_text.refusal(guild.name, guild_id, problems, again))
        address = await space_address(services, guild_id, bridged.space_room_id)
        domain = services.config["homeserver.domain"]
        await _remember_cutover(services, guild_id, read_only, message, actor)
        text = cutover_text.announcement(guild.name, address, domain, read_only, message)
        reason = f"Matrix cut-over by {actor.describe()}"
        counts: Counter[str] = Counter()
        failures = []
        for channel in channels:
            try:
                if channel.id in announce:
                    await _announce(services, channel, text, reason, counts)
                elif channel.id in unpinned:
                    await _pin_again(services, channel, posted[channel.id], reason, counts)
                if channel.id in overwrite and await _make_read_only(services, channel, me, reason):
                    counts["made_read_only"] += 1
            except discord.HTTPException as error:
                failures.append(f"**#{channel.name}**: Discord answered {error}")
                log.warning("Cut-over of %s stopped in %s: %s", guild_id, channel.id, error)
        kept = await services.tables.cutover_overwrites.find("guild_id = $1", guild_id)
        log.info("Cut-over of %s by %s: %s", guild_id, actor.describe(), dict(counts))
        return CutoverOutcome(
            guild_id,
            guild.name,
            address,
            domain,
            read_only,
            announced=counts["announced"],
            pinned=counts["pinned"],
            made_read_only=counts["made_read_only"],
            already_announced=len(posted.keys() & {c.id for c in channels}),
            read_only_now=len(kept),
            skipped=tuple(gone),
            failures=tuple(failures),
        )


async def _restore(
    services: AdminServices,
    row: CutoverOverwriteRow,
    channel: discord.abc.GuildChannel | None,
    reason: str,
) -> str:
    """Put one remembered overwrite back and forget it: "put_back", "removed" or "gone"."""
    outcome = "gone"
    if channel is not None and row.existed:
        await services.discord.http.edit_channel_permissions(
            row.channel_id, row.guild_id, str(row.allow), str(row.deny), ROLE, reason=reason
        )
        outcome = "put_back"
    elif channel is not None:
        with suppress(discord.NotFound):  # removed on Discord already
            await services.discord.http.delete_channel_permissions(
                row.channel_id, row.guild_id, reason=reason
            )
        outcome = "removed"
    await services.tables.cutover_overwrites.delete(row.channel_id)
    return outcome


async def _unpin(
    services: AdminServices,
    row: CutoverAnnouncementRow,
    channel: discord.abc.GuildChannel | None,
    reason: str,
) -> bool:
    """Unpin one announcement (the message stays) and forget it; True if it was unpinned."""
    unpinned = False
    if isinstance(channel, discord.TextChannel) and row.pinned:
        try:
            await channel.get_partial_message(row.message_id).unpin(reason=reason)
            unpinned = True
        except discord.NotFound:
            pass  # the announcement was deleted: nothing to unpin
    await services.tables.cutover_announcements.delete(row.channel_id)
    return unpinned


async def undo_cutover(services: AdminServices, guild_id: int, actor: Actor) -> UndoOutcome:
    """Put every remembered @everyone overwrite back exactly (deleted where there was none),
    unpin the announcements (the messages stay, as a record of where the community went), and
    mark the cut-over undone.

    Each overwrite and announcement is forgotten once restored, so a run that fails half way
    leaves the rest for the next run. Raises :class:`ActionError`: nothing to undo (409), or
    the bot lacks a permission it needs (400, nothing changed).
    """
    guild = guild_or_error(services, guild_id)
    async with _lock(guild_id):
        cut = await services.tables.cutovers.get(guild_id)
        kept = await services.tables.cutover_overwrites.find("guild_id = $1", guild_id)
        pins = await services.tables.cutover_announcements.find("guild_id = $1", guild_id)
        if cut is None or (cut.undone_at is not None and not kept and not pins):
            undone = cut.undone_at if cut is not None else None
            raise ActionError(
                cutover_text.nothing_to_undo(guild.name, guild_id, undone), status=409
            )
        channels = {c.id: c for c in guild.channels}
        overwrite = {r.channel_id for r in kept} & channels.keys()
        unpin = {a.channel_id for a in pins if a.pinned} & channels.keys()
        affected = [channels[i] for i in sorted(overwrite | unpin)]
        me = await _bot_member(services, guild)
        problems = cutover_checks.problems(me, affected, unpin=unpin, overwrite=overwrite)
        if problems:
            again = f"cutover {guild_id} --undo"
            raise ActionError(cutover_text.refusal(guild.name, guild_id, problems, again))
        reason = f"Matrix cut-over undone by {actor.describe()}"
        counts: Counter[str] = Counter()
        gone, failures = [], []
        for row in kept:
            channel = channels.get(row.channel_id)
            name = f"#{channel.name}" if channel else f"channel {row.channel_id}"
            try:
                done = await _restore(services, row, channel, reason)
            except discord.HTTPException as error:
                failures.append(f"**{name}**: @everyone's overwrite: Discord answered {error}")
                continue
            counts[done] += 1
            if done == "gone":
                gone.append(name)
        for announcement in pins:
            channel = channels.get(announcement.channel_id)
            try:
                counts["unpinned"] += await _unpin(services, announcement, channel, reason)
            except discord.HTTPException as error:
                name = f"#{channel.name}" if channel else f"channel {announcement.channel_id}"
                failures.append(f"**{name}**: unpinning the announcement: Discord answered {error}")
        if not failures:
            cut.undone_at = _now_ms()
            await services.tables.cutovers.upsert(cut)
        log.info(
            "Cut-over of %s undone by %s: %s, %d failures",
            guild_id,
            actor.describe(),
            dict(counts),
            len(failures),
        )
        return UndoOutcome(
            guild_id,
            guild.name,
            put_back=counts["put_back"],
            removed=counts["removed"],
            unpinned=counts["unpinned"],
            gone=tuple(gone),
            failures=tuple(failures),
        )
