"""Typing and pins: what happens in a Discord channel besides messages."""

from __future__ import annotations

import logging

import discord
from mautrix.errors import MatrixRequestError
from mautrix.types import RoomID

from ...convert.m2d.pins import pinned_ids
from ...discord.user_snapshots import member_snapshot, user_snapshot
from ...matrix.homeserver_wait import waits_for_homeserver
from ...portal.apply_state import apply_state
from .lookups import first_part
from .routing import destination
from .services import RelayServices

log = logging.getLogger("bridge.relay.channel")
TYPING_TIMEOUT_MS = 10_000  # Discord's typing indicator lasts about 10 s


async def on_raw_typing(services: RelayServices, payload: discord.RawTypingEvent) -> None:
    if services.discord.user and payload.user_id == services.discord.user.id:
        return
    where = await destination(services.tables, services.discord, payload.channel_id)
    if where is None:
        return
    typist = payload.user or services.discord.get_user(payload.user_id)
    try:
        typist = typist or await services.discord.fetch_user(payload.user_id)
    except discord.HTTPException:
        return
    user = user_snapshot(typist)
    member = member_snapshot(typist) if isinstance(typist, discord.Member) else None
    if services.double_puppets and await services.double_puppets.intent_for(user.id):
        return  # shown from their own account, it would come back as Matrix typing (no echo)
    try:
        intent = await services.puppets.ensure(user)
        await services.puppets.join(intent, where.room_id, user=user, member=member)
        await intent.set_typing(RoomID(where.room_id), timeout=TYPING_TIMEOUT_MS)
    except MatrixRequestError as error:
        log.debug("Typing of %s not shown: %s", payload.user_id, error)


@waits_for_homeserver
async def on_guild_channel_pins_update(
    services: RelayServices,
    channel: discord.abc.GuildChannel | discord.Thread,
    last_pin: object = None,
) -> None:
    """Pins as the room's pinned events, oldest pin first; unbridged messages are left out."""
    where = await destination(services.tables, services.discord, channel.id)
    if where is None or where.thread_id is not None:
        return
    try:
        pins = [m async for m in channel.pins(limit=None, oldest_first=True)]  # type: ignore[union-attr]
    except discord.HTTPException as error:
        log.warning("Could not read the pins of %s: %s", channel.id, error)
        return
    pinned = []
    for message in pins:
        target = await first_part(services, message.id)
        if target is not None:
            pinned.append(target.event_id)
    async with services.room_locks(where.room_id):
        pinned = await _with_matrix_only_pins(services, where.room_id, pinned)
        desired = {("m.room.pinned_events", ""): {"pinned": pinned}}
        await apply_state(
            services.bot, services.guilds.state, where.room_id, desired, services.puppets.is_ghost
        )


async def _with_matrix_only_pins(
    services: RelayServices, room_id: str, pinned: list[str]
) -> list[str]:
    """Discord's pins plus the room's pins of events Discord never had (Matrix users may pin
    those too); the room's own order when the set of pins is the same."""
    state = await services.guilds.state.get(room_id)
    current = pinned_ids(state.get(("m.room.pinned_events", "")))
    kept = [
        event_id
        for event_id in current
        if event_id not in pinned
        and await services.tables.message_part_by_event(room_id, event_id) is None
    ]
    merged = pinned + kept
    return current if set(merged) == set(current) else merged
