"""Edits, deletions and reactions made on Discord while the bridge was not listening.

After a restart or a new gateway session, each channel's recent window (the last
``bridge.catch_up.window_messages`` messages, no older than ``bridge.catch_up.window_hours``)
is compared with what was bridged, and the differences go through the live relay's own
functions, so the room ends as a live event would have left it:

- a message edited since (Discord's ``edited_timestamp`` newer than the part's stored edit
  time) → its edit (``on_raw_message_edit``);
- a bridged message inside the window's id range that Discord no longer has (asked once:
  "Unknown Message") → redacted (``delete_messages``). Messages older than the window are never touched: only those at or
  after the snowflake from which the window is complete. A message that came from Matrix is
  redacted only when it is gone from Discord too (deleted there);
- each emoji whose count differs from the reactions stored → its users fetched; reactions
  added are sent (``on_raw_reaction_add``), those removed redacted. An emoji none of whose
  users is stored any more is redacted without a request. (Equal counts are taken as equal:
  one user's reaction swapped for another's while away is not seen.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import discord

from ...db.rows import MessagePartRow, ReactionRow
from ...discord.message_snapshots import micros
from .catch_up_fetch import fetch_recent
from .messages import delete_messages, is_new_edit, on_raw_message_edit
from .reactions import emoji_key, on_raw_reaction_add, redact_reactions
from .routing import destination
from .services import RelayServices

log = logging.getLogger("bridge.relay.catch_up")


@dataclass(frozen=True)
class CatchUpWindow:
    """How far back edits, deletions and reactions are looked for: the last ``messages``
    messages of a channel, no older than ``hours``; either 0 turns it off."""

    messages: int = 100
    hours: float = 24.0

    @property
    def enabled(self) -> bool:
        return self.messages > 0 and self.hours > 0


@dataclass
class WindowChanges:
    """What one channel's window relayed."""

    edits: int = 0
    deletions: int = 0
    reactions_added: int = 0
    reactions_removed: int = 0

    def __bool__(self) -> bool:
        return bool(self.edits or self.deletions or self.reactions_added or self.reactions_removed)


async def reconcile_window(
    services: RelayServices,
    channel_id: int,
    window: CatchUpWindow,
    now: datetime | None = None,
) -> WindowChanges:
    """Relay the edits, deletions and reactions made in a channel's recent window that were
    not bridged. No request when nothing bridged falls in the window's time."""
    changes = WindowChanges()
    where = await destination(services.tables, services.discord, channel_id)
    channel = services.discord.get_channel(channel_id)
    if where is None or not isinstance(channel, discord.abc.Messageable):
        return changes
    since = discord.utils.time_snowflake((now or datetime.now(UTC)) - timedelta(hours=window.hours))
    # Read before fetching: whatever is stored now existed on Discord before the fetch.
    rows = await services.tables.message_parts.find(
        "channel_id = $1 AND discord_message_id >= $2",
        channel_id,
        since,
        order="discord_message_id",
    )
    if not rows:
        return changes
    parts: dict[int, list[MessagePartRow]] = {}
    for row in rows:
        parts.setdefault(row.discord_message_id, []).append(row)
    stored = await services.tables.reactions.find(
        "room_id = $1 AND discord_message_id >= $2", where.room_id, since
    )
    recent = await fetch_recent(services, channel, window.messages, since)

    missing = sorted(i for i in parts if i >= recent.floor and i not in recent.present)
    gone = [i for i in missing if await _deleted(services, channel_id, i)]
    if gone:
        await delete_messages(services, channel_id, gone)
        changes.deletions = len(gone)
    for message in recent.messages:
        bridged = parts.get(message.id)
        if not bridged:
            continue
        if message.edited_at is not None:
            changes.edits += await _edit(services, message, bridged)
        mine = [r for r in stored if r.discord_message_id == message.id]
        added, removed = await _reactions(services, message, mine)
        changes.reactions_added += added
        changes.reactions_removed += removed
    if changes:
        log.info(
            "Caught up in channel %s with %d edit(s), %d deletion(s), %d reaction(s) added "
            "and %d removed",
            channel_id,
            changes.edits,
            changes.deletions,
            changes.reactions_added,
            changes.reactions_removed,
        )
    return changes


async def _edit(
    services: RelayServices, message: discord.Message, rows: list[MessagePartRow]
) -> int:
    """The message's edit through the live handler, if newer than the one bridged."""
    assert message.edited_at is not None
    if not is_new_edit(rows[0].edited_us, micros(message.edited_at)):
        return 0
    data: Any = {
        "id": str(message.id),
        "channel_id": str(message.channel.id),
        "edited_timestamp": message.edited_at.isoformat(),
    }
    await on_raw_message_edit(services, discord.RawMessageUpdateEvent(data, message))
    return 1


async def _deleted(services: RelayServices, channel_id: int, message_id: int) -> bool:
    """Whether Discord answers "Unknown Message" for it: a redaction is never undone, so a
    message missing from the window is asked for once before it is taken as deleted."""
    try:
        await services.discord.http.get_message(channel_id, message_id)
    except discord.NotFound:
        return True
    except discord.HTTPException as error:
        log.warning("Could not check whether message %s was deleted: %s", message_id, error)
    return False


def _partial(emoji: discord.PartialEmoji | discord.Emoji | str) -> discord.PartialEmoji:
    if isinstance(emoji, str):
        return discord.PartialEmoji(name=emoji)
    return discord.PartialEmoji(name=emoji.name, id=emoji.id, animated=emoji.animated)


async def _reactions(
    services: RelayServices, message: discord.Message, stored: list[ReactionRow]
) -> tuple[int, int]:
    """Reactions added and removed on Discord since they were bridged: (added, removed)."""
    own_id = services.discord.user.id if services.discord.user else None
    added = removed = 0
    on_discord: dict[str, discord.Reaction] = {}
    for reaction in message.reactions:
        on_discord[emoji_key(_partial(reaction.emoji))] = reaction
    gone = [row for row in stored if row.emoji_key not in on_discord]
    for key, reaction in on_discord.items():
        rows = [row for row in stored if row.emoji_key == key]
        count = reaction.count - (1 if reaction.me else 0)
        if count == len(rows):
            continue
        users: dict[int, discord.User | discord.Member] = {}
        async for user in reaction.users():
            if user.id != own_id:
                users[user.id] = user
        gone.extend(row for row in rows if row.discord_user_id not in users)
        known = {row.discord_user_id for row in rows}
        for user_id, user in users.items():
            if user_id in known:
                continue
            await on_raw_reaction_add(services, _reaction_payload(message, user, reaction))
            added += 1
    if gone:
        await redact_reactions(services, gone)
        removed = len(gone)
    return added, removed


def _reaction_payload(
    message: discord.Message, user: discord.User | discord.Member, reaction: discord.Reaction
) -> discord.RawReactionActionEvent:
    """The REACTION_ADD the gateway would have sent."""
    data: Any = {
        "message_id": str(message.id),
        "channel_id": str(message.channel.id),
        "user_id": str(user.id),
        "type": 0,
    }
    if message.guild is not None:
        data["guild_id"] = str(message.guild.id)
    payload = discord.RawReactionActionEvent(data, _partial(reaction.emoji), "REACTION_ADD")
    if isinstance(user, discord.Member):
        payload.member = user
    return payload
