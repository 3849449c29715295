"""Relaying Discord messages, their edits and their deletions into Matrix.

Every event goes out as the author's ghost with the Discord timestamp (``ts``) and a
transaction id made from the message id and the part number, so sending a message twice
(after a crash, or when catching up) is deduplicated by the homeserver, and the mappings
stored afterwards let later edits, replies, reactions and deletions find the events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import discord
from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixRequestError
from mautrix.types import EventID, EventType, RoomID

from ...convert.d2m.message import (
    ExistingPart,
    MatrixPart,
    convert_message,
    delete_plan,
    edit_plan,
)
from ...convert.message_model import MessageSnapshot
from ...db.rows import MessagePartRow
from ...discord.message_snapshots import message_snapshot, micros
from ...matrix.homeserver_wait import HomeserverStopped, waits_for_homeserver
from ...migration.double_puppet import acting_intent
from ...stats import TO_MATRIX
from .lookups import message_context
from .routing import Destination, destination
from .services import RelayServices

log = logging.getLogger("bridge.relay.messages")


async def is_own(services: RelayServices, message: discord.Message) -> bool:
    """The bridge's own bot, or a webhook of the bridge (Matrix users' messages): no echo."""
    client_user = services.discord.user
    if client_user is not None and message.author.id == client_user.id:
        return True
    if message.webhook_id is None:
        return False
    if services.webhooks is not None:
        await services.webhooks.load()
        return services.webhooks.is_bridge_webhook(message.webhook_id)
    return await services.tables.portals.find_one("webhook_id = $1", message.webhook_id) is not None


def can_mention_everyone(message: discord.Message) -> bool:
    author, channel = message.author, message.channel
    if not isinstance(author, discord.Member) or not hasattr(channel, "permissions_for"):
        return False
    return channel.permissions_for(author).mention_everyone


@waits_for_homeserver
async def on_message(services: RelayServices, message: discord.Message) -> None:
    if await is_own(services, message):
        return
    where = await destination(services.tables, services.discord, message.channel.id)
    if where is None:
        return
    snapshot = message_snapshot(message)
    guild_id = message.guild.id if message.guild else None
    try:
        async with services.room_locks(where.room_id):
            # The room may have been replaced while this waited (``handover`` upgrades it
            # holding this lock): the message goes on to the new room.
            while (new_room := services.replaced_rooms.get(where.room_id)) is not None:
                where = replace(where, room_id=new_room)
            rows = await relay_new(services, snapshot, where, can_mention_everyone(message))
    except HomeserverStopped:
        # Not relayed, not recorded: catch-up sends it after a restart (nothing later in this
        # channel was relayed meanwhile: every later send gives up too).
        log.info("Discord message %s not relayed: the bridge stopped while it waited", message.id)
        return
    except Exception as error:
        services.stats.failed(
            guild_id, f"message {message.id} to Matrix: {error}", direction=TO_MATRIX, error=error
        )
        raise
    if rows:
        services.stats.relayed(guild_id, TO_MATRIX, "message", snapshot.timestamp_ms)


@waits_for_homeserver
async def relay_new(
    services: RelayServices,
    message: MessageSnapshot,
    where: Destination,
    mention_all: bool,
    *,
    history: bool = False,
) -> list[MessagePartRow]:
    """Send a message's parts (unless already in this room) and store their mappings.

    A message bridged into a room that was since replaced is sent again into the new room,
    whose mapping then takes over. ``history`` (the import): the author's ghost sends, never
    their linked account, and mentions of linked accounts pill without notifying anyone of
    an old message.
    """
    existing = await services.tables.message_parts_of(message.id)
    if any(part.room_id == where.room_id for part in existing):
        return []
    intent = await acting_intent(
        services.puppets,
        None if history else services.double_puppets,
        message.author,
        where.room_id,
        ghost_id=message.ghost_id,
        member=message.member,
    )
    context = await message_context(services, message, where)
    parts = convert_message(
        message,
        context,
        captions=services.options.captions,
        system_messages=services.options.system_messages,
        author_can_mention_everyone=mention_all,
    )
    if history:
        notify_ghosts_only(parts, services.puppets.is_ghost)
    rows: list[MessagePartRow] = []
    try:
        for index, part in enumerate(parts):
            event_id = await send_part(
                intent, where.room_id, part, f"dc_{message.id}_{index}", message.timestamp_ms
            )
            rows.append(part_row(message, where, index, part, event_id, intent))
    finally:
        if message.edit_time_us is not None:
            # Edited before it was first relayed (catch-up): a send made before a kill -9 and
            # not recorded holds the old text, and the homeserver answers this one (same
            # transaction id) with it. Record no edit: the catch-up window sends the edit.
            for row in rows:
                row.edited_us = None
        # Even when a later part failed, the parts sent are remembered (edits, deletions).
        await services.tables.message_parts.upsert_many(rows)
    return rows


def notify_ghosts_only(parts: list[MatrixPart], is_ghost: Callable[[str], bool]) -> None:
    """Keep only ghosts in each part's ``m.mentions.user_ids`` (pure, in place): pills to
    linked Matrix accounts stay, but an imported old message notifies nobody real."""
    for part in parts:
        mentions = part.content.get("m.mentions")
        if isinstance(mentions, dict) and mentions.get("user_ids"):
            mentions["user_ids"] = [user for user in mentions["user_ids"] if is_ghost(user)]


def part_row(
    message: MessageSnapshot,
    where: Destination,
    index: int,
    part: MatrixPart,
    event_id: str,
    intent: IntentAPI,
) -> MessagePartRow:
    return MessagePartRow(
        discord_message_id=message.id,
        part=index,
        channel_id=where.channel_id,
        room_id=where.room_id,
        event_id=event_id,
        sender_mxid=str(intent.mxid),
        timestamp=message.timestamp_ms,
        thread_id=where.thread_id,
        kind=part.kind,
        event_type=part.event_type,
        edited_us=message.edit_time_us,
    )


def existing_parts(rows: list[MessagePartRow]) -> list[ExistingPart]:
    """Stored mappings as the edit and delete planners read them."""
    return [ExistingPart(r.part, r.kind, r.event_id, r.event_type) for r in rows]


async def send_part(
    intent: IntentAPI, room_id: str, part: MatrixPart, txn_id: str, timestamp_ms: int
) -> str:
    return await intent.send_message_event(
        RoomID(room_id),
        EventType.find(part.event_type, EventType.Class.MESSAGE),
        part.content,  # type: ignore[arg-type]  # plain JSON content is sent as it is
        txn_id=txn_id,
        timestamp=timestamp_ms,
    )


@waits_for_homeserver
async def on_raw_message_edit(
    services: RelayServices, payload: discord.RawMessageUpdateEvent
) -> None:
    edited = payload.data.get("edited_timestamp")
    if not edited:
        return  # an update without an edit: embeds resolved, a flag changed
    where = await destination(services.tables, services.discord, payload.channel_id)
    if where is None or await is_own(services, payload.message):
        return
    # Full precision: two edits may fall in the same millisecond. An edit already bridged (or
    # an older one, replayed after a reconnection) is not sent again.
    edited_us = micros(discord.utils.parse_time(edited))
    async with services.room_locks(where.room_id):
        rows = await services.tables.message_parts_of(payload.message_id)
        if not rows or not is_new_edit(rows[0].edited_us, edited_us):
            return
        if rows[0].room_id != where.room_id:
            return  # in a room this one replaced (handover), kept as it is: no edit there
        snapshot = message_snapshot(payload.message)
        await relay_edit(services, snapshot, where, rows, can_mention_everyone(payload.message))
    services.stats.relayed(where.guild_id, TO_MATRIX, "edit", edited_us / 1000)


def is_new_edit(last_us: int | None, edited_us: int) -> bool:
    """Whether an edit made at `edited_us` (µs since the epoch, Discord's full precision) is
    still to be bridged after the one last bridged at `last_us` (None: never edited).

    Equal: the same edit seen again (a replayed update). Older: a stale replay.
    """
    return last_us is None or edited_us > last_us


def edit_txn_id(message_id: int, edit_us: int, index: int) -> str:
    """The transaction id of the replacement of part `index` made by the edit at `edit_us`:
    a second edit within the same millisecond is a new event, the same edit sent again
    (after a crash) is deduplicated by the homeserver."""
    return f"dc_{message_id}_e{edit_us}_{index}"


async def relay_edit(
    services: RelayServices,
    message: MessageSnapshot,
    where: Destination,
    rows: list[MessagePartRow],
    mention_all: bool,
) -> None:
    """Replace the text of every part that changed, redact parts gone, send parts new.

    The replacements come from the original's sender (spec: "Event replacements" must have
    the same sender): the member's own account if it sent the original, else the ghost.
    """
    intent = await _double_puppet(services, rows[0].sender_mxid, message.author.id)
    if intent is None:  # the ghost sent it; it may have left the room for the linked account
        intent = await acting_intent(
            services.puppets,
            None,
            message.author,
            where.room_id,
            ghost_id=message.ghost_id,
            member=message.member,
        )
    context = await message_context(services, message, where)
    plan = edit_plan(
        message,
        existing_parts(rows),
        context,
        captions=services.options.captions,
        system_messages=services.options.system_messages,
        author_can_mention_everyone=mention_all,
    )
    stamp = message.edited_ms or message.timestamp_ms
    edit_us = message.edit_time_us or message.timestamp_ms * 1000
    for index, (event_id, part) in enumerate(plan.replace):
        txn_id = edit_txn_id(message.id, edit_us, index)
        await send_part(intent, where.room_id, part, txn_id, stamp)
        log.debug("Edited %s for Discord message %s", event_id, message.id)
    await _redact(services, where.room_id, plan.redact, "Removed on Discord", intent)
    kept = [row for row in rows if row.event_id not in plan.redact]
    next_index = max((row.part for row in rows), default=-1) + 1
    new_rows = []
    for offset, part in enumerate(plan.send):
        index = next_index + offset
        event_id = await send_part(intent, where.room_id, part, f"dc_{message.id}_{index}", stamp)
        new_rows.append(part_row(message, where, index, part, event_id, intent))
    for row in kept:
        row.edited_us = message.edit_time_us
    for row in rows:
        if row.event_id in plan.redact:
            await services.tables.message_parts.delete(row.discord_message_id, row.part)
    await services.tables.message_parts.upsert_many(kept + new_rows)


async def on_raw_message_delete(
    services: RelayServices, payload: discord.RawMessageDeleteEvent
) -> None:
    await delete_messages(services, payload.channel_id, [payload.message_id])


async def on_raw_bulk_message_delete(
    services: RelayServices, payload: discord.RawBulkMessageDeleteEvent
) -> None:
    await delete_messages(services, payload.channel_id, sorted(payload.message_ids))


@waits_for_homeserver
async def delete_messages(services: RelayServices, channel_id: int, message_ids: list[int]) -> None:
    """Redact every part of each message, then forget the mappings."""
    where = await destination(services.tables, services.discord, channel_id)
    if where is None:
        return
    async with services.room_locks(where.room_id):
        for message_id in message_ids:
            rows = await services.tables.message_parts_of(message_id)
            for row in rows:
                await services.tables.message_parts.delete(row.discord_message_id, row.part)
            # A piece of a long Matrix message: its event goes only with its last piece.
            kept = []
            for row in rows:
                if row.kind.startswith("matrix:") and await services.tables.message_parts_by_event(
                    row.room_id, row.event_id
                ):
                    continue
                kept.append(row)
            plan = delete_plan(existing_parts(kept))
            sender = await _double_puppet(services, kept[0].sender_mxid) if kept else None
            # The message's own room: the one the channel's room replaced, for older messages.
            room_id = kept[0].room_id if kept else where.room_id
            await _redact(services, room_id, plan, "Deleted on Discord", sender)
            if rows:
                services.stats.relayed(where.guild_id, TO_MATRIX, "delete")


async def _double_puppet(
    services: RelayServices, sender_mxid: str, discord_user_id: int | None = None
) -> IntentAPI | None:
    """The member's own account that sent a message (double puppeting), to edit or delete
    it; None when a ghost or the bot sent it, or double puppeting is off."""
    double = services.double_puppets
    return await double.previous_sender(sender_mxid, discord_user_id) if double else None


async def _redact(
    services: RelayServices,
    room_id: str,
    event_ids: list[str],
    reason: str,
    sender: IntentAPI | None = None,
) -> None:
    """Redact as the member's own account (``sender``) that sent them, else (or when that
    fails) as the bridge bot."""
    actors = [services.bot]
    if sender is not None and sender.api.is_real_user:
        actors.insert(0, sender)
    for event_id in event_ids:
        for place, intent in enumerate(actors, start=1):
            try:
                await intent.redact(RoomID(room_id), EventID(event_id), reason=reason)
                break
            except MatrixRequestError as error:
                level = logging.WARNING if place == len(actors) else logging.DEBUG
                log.log(level, "Could not redact %s in %s: %s", event_id, room_id, error)
