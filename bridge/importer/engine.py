"""Sending a channel's history into its room: in order, checkpointed, resumable.

Each message goes through the live relay's own ``relay_new`` (same converters, same ghosts,
the Discord timestamp as ``ts``, a transaction id per message part), then its reactions. A
checkpoint per channel records the newest message fully sent: a resumed import skips what came
before it, and whatever was sent after it is recognised by its stored mapping (or, if the
process died between sending and storing, deduplicated by the homeserver's transaction ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import discord
from mautrix.types import EventType, RoomID

from ..actions.d2m.messages import relay_new
from ..actions.d2m.reactions import reaction_content
from ..actions.d2m.routing import Destination
from ..actions.d2m.services import RelayServices
from ..convert.message_model import MessageSnapshot
from ..db.rows import ImportCheckpointRow, MessagePartRow, ReactionRow
from ..portal.apply_state import send_state
from .model import ImportedReaction, ImportItem
from .progress import Progress
from .room_check import room_refusal

log = logging.getLogger("bridge.importer")
CHECKPOINT_EVERY = 20  # messages between checkpoint writes (batched database writes)
PINNED_EVENTS = "m.room.pinned_events"


class ImportRefused(Exception):
    """The room already has bridged messages (live ones, or ones the database does not know
    of): history would land after them, or twice."""


@dataclass
class ChannelReport:
    """One channel's outcome: ``imported`` messages sent by this run, ``before`` those sent
    by earlier runs of a resumed import (from its checkpoint), ``skipped`` by reason."""

    name: str
    imported: int = 0
    before: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    already_done: bool = False
    stopped: bool = False  # cancelled before the end (resumable: the checkpoint is saved)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


async def needs_new_room(services: RelayServices, channel_id: int) -> bool:
    """True if an import may not start in the channel's current room (see
    :func:`~bridge.importer.room_check.room_refusal`); a resumed import (a checkpoint) may."""
    if await services.tables.import_checkpoints.get(channel_id) is not None:
        return False
    return await room_refusal(services, channel_id) is not None


async def check_importable(services: RelayServices, channel_id: int) -> ImportCheckpointRow:
    """The channel's checkpoint, new or resumed.

    An import that starts afresh is refused (:class:`ImportRefused`, saying why and that
    ``--replace-rooms`` helps) when the room has live bridged messages, or holds bridged
    messages the database does not know of (an adopted room): see
    :func:`~bridge.importer.room_check.room_refusal`.
    """
    checkpoint = await services.tables.import_checkpoints.get(channel_id)
    if checkpoint is not None:
        return checkpoint
    refusal = await room_refusal(services, channel_id)
    if refusal is not None:
        raise ImportRefused(refusal)
    checkpoint = ImportCheckpointRow(channel_id, updated_at=int(time.time() * 1000))
    await services.tables.import_checkpoints.upsert(checkpoint)
    return checkpoint


async def import_stream(
    services: RelayServices,
    channel_id: int,
    items: AsyncIterator[ImportItem],
    destinations: dict[int, Destination],
    progress: Progress,
    report: ChannelReport,
    progress_key: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    since_id: int | None = None,
) -> None:
    """Send every item of one room's stream, in order, then mark the channel finished.

    ``destinations`` maps each source channel (the channel, its threads) to where it goes;
    ``progress_key`` is the channel progress is counted under (a forum, for its posts).
    ``should_stop`` is asked between messages: once it answers True the checkpoint is saved
    and the stream left unfinished (``report.stopped``); the next import resumes there.
    ``since_id`` is the lowest snowflake of ``--since``: the stream starts there. Raises
    :class:`ImportRefused` when that would jump over what an unfinished import left out.
    """
    shown_as = channel_id if progress_key is None else progress_key
    checkpoint = await check_importable(services, channel_id)
    if checkpoint.finished:
        report.already_done = True
        return
    refuse_gap(channel_id, checkpoint, since_id)
    report.before += checkpoint.imported_count  # sent by earlier runs (resumed)
    progress.begin_sending(shown_as)
    since_checkpoint = 0
    # Closed as soon as the loop ends, even early: its preparing task ends with it.
    async with contextlib.aclosing(prepared(services, items, destinations)) as stream:
        async for item in stream:
            if should_stop is not None and should_stop():
                await _save(services, checkpoint)
                report.stopped = True
                return
            message = item.message
            if checkpoint.last_message_id is not None and message.id <= checkpoint.last_message_id:
                progress.advance(shown_as, 0, skipped=1)
                continue
            where = destinations.get(message.channel_id)
            if where is None:
                report.skip("channel not bridged")
                progress.advance(shown_as, 0, skipped=1)
                continue
            async with services.room_locks(where.room_id):
                rows = await relay_new(services, message, where, mention_all=False, history=True)
                parts = rows or await services.tables.message_parts_of(message.id)
                if parts and item.reactions:
                    # Those sent before (a resumed import), read once for all its reactions.
                    sent = {
                        (row.discord_user_id, row.emoji_key)
                        for row in await services.tables.reactions.find(
                            "discord_message_id = $1", message.id
                        )
                    }
                    for reaction in item.reactions:
                        await _send_reaction(services, where, message.id, parts[0], reaction, sent)
            if rows:
                report.imported += 1
            else:
                report.skip("already imported or nothing to show")
            checkpoint.last_message_id = message.id
            checkpoint.imported_count += 1 if rows else 0
            since_checkpoint += 1
            if since_checkpoint >= CHECKPOINT_EVERY:
                await _save(services, checkpoint)
                since_checkpoint = 0
            progress.advance(shown_as)
    checkpoint.finished = True
    await _save(services, checkpoint)


def refuse_gap(channel_id: int, checkpoint: ImportCheckpointRow, since_id: int | None) -> None:
    """An unfinished import resumed with a later ``--since`` would leave the messages between
    its checkpoint and that date out for good (and mark the channel finished): refused.

    Raises :class:`ImportRefused`.
    """
    last = checkpoint.last_message_id
    if since_id is None or last is None or since_id <= last:
        return
    stopped_at = discord.utils.snowflake_time(last).strftime("%Y-%m-%d %H:%M UTC")
    raise ImportRefused(
        f"channel {channel_id}: an earlier import stopped at a message of {stopped_at}; "
        "importing from a later --since date would leave the messages in between out for "
        "good. Run the import again without --since (or with an earlier date) to finish it."
    )


PREPARE_WINDOW = 32  # messages whose authors and files are readied while earlier ones go out


async def prepared(
    services: RelayServices, items: AsyncIterator[ImportItem], destinations: dict[int, Destination]
) -> AsyncGenerator[ImportItem, None]:
    """The same items in the same order, with the next window's authors registered and
    joined and their files uploaded while the current window is being sent.

    Sending stays strictly sequential; only the preparation runs ahead, so the homeserver,
    not the round trips of first joins and uploads, sets the pace.
    """
    windows: asyncio.Queue[list[ImportItem] | None] = asyncio.Queue(maxsize=2)

    async def produce() -> None:
        window: list[ImportItem] = []
        try:
            async for item in items:
                window.append(item)
                if len(window) == PREPARE_WINDOW:
                    await _prepare(services, window, destinations)
                    await windows.put(window)
                    window = []
            if window:
                await _prepare(services, window, destinations)
                await windows.put(window)
        except asyncio.CancelledError:
            raise  # the sender stopped: nobody waits for the end mark (the queue may be full)
        except BaseException:
            await windows.put(None)  # wake the sender, which re-raises this from the task
            raise
        else:
            await windows.put(None)

    producer = asyncio.create_task(produce(), name="import-prepare")
    try:
        while (window := await windows.get()) is not None:
            for item in window:
                yield item
        await producer  # re-raises a reading error
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer  # ended here, not left pending when the import stops early


async def _prepare(
    services: RelayServices, window: list[ImportItem], destinations: dict[int, Destination]
) -> None:
    """Ghosts in their rooms and files uploaded, in parallel; failures are left to the send."""
    jobs: list[Awaitable[object]] = []
    seen: set[tuple[str, str]] = set()
    for item in window:
        message, where = item.message, destinations.get(item.message.channel_id)
        if where is None or (message.ghost_id, where.room_id) in seen:
            continue
        seen.add((message.ghost_id, where.room_id))
        jobs.append(_ghost_in_room(services, message, where))
    for item in window:
        for attachment in item.message.attachments:
            jobs.append(
                services.media.upload_from_url(
                    attachment.url, services.bot, filename=attachment.filename
                )
            )
    results = await asyncio.gather(*jobs, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, Exception):
            raise result


async def _ghost_in_room(
    services: RelayServices, message: MessageSnapshot, where: Destination
) -> None:
    intent = await services.puppets.ensure(message.author, ghost_id=message.ghost_id)
    await services.puppets.join(intent, where.room_id, user=message.author, member=message.member)


async def _save(services: RelayServices, checkpoint: ImportCheckpointRow) -> None:
    checkpoint.updated_at = int(time.time() * 1000)
    await services.tables.import_checkpoints.upsert(checkpoint)


async def _send_reaction(
    services: RelayServices,
    where: Destination,
    message_id: int,
    target: MessagePartRow,
    reaction: ImportedReaction,
    sent: set[tuple[int, str]],
) -> None:
    """Each user's reaction from their ghost, once (a resend is deduplicated); ``target`` is
    the message's first part, which Matrix reactions point at; ``sent`` holds the (user id,
    emoji key) already recorded for the message (the room's lock is held since it was read)."""
    emoji = discord.PartialEmoji(
        name=reaction.emoji, id=reaction.emoji_id, animated=reaction.animated
    )
    key = str(reaction.emoji_id) if reaction.emoji_id else reaction.emoji
    content = await reaction_content(services, emoji, target.event_id)
    for user in reaction.users:
        if (user.id, key) in sent:
            continue
        intent = await services.puppets.ensure(user)
        await services.puppets.join(intent, where.room_id, user=user, member=None)
        event_id = await intent.send_message_event(
            RoomID(where.room_id),
            EventType.REACTION,
            content,  # type: ignore[arg-type]  # plain JSON content
            txn_id=f"dc_react_{message_id}_{user.id}_{key}",
            timestamp=target.timestamp,
        )
        await services.tables.reactions.upsert(
            ReactionRow(message_id, user.id, key, where.room_id, event_id)
        )
        sent.add((user.id, key))


async def set_pins(services: RelayServices, room_id: str, pinned_message_ids: list[int]) -> None:
    """Pins last, once every pinned message is in the room (oldest pin first).

    Only ``m.room.pinned_events`` is compared and sent, and only if it differs: the room's
    other state (topic, space parent, ...) is the guild sync's, which a partial desired
    state given to ``apply_state`` would clear (it owns those types).
    """
    pinned = []
    for message_id in pinned_message_ids:
        parts = await services.tables.message_parts_of(message_id)
        if parts:
            pinned.append(parts[0].event_id)
    if not pinned:
        return
    content = {"pinned": pinned}
    cache = services.guilds.state
    if (await cache.get(room_id)).get((PINNED_EVENTS, "")) == content:
        return
    await send_state(services.bot, room_id, PINNED_EVENTS, "", content)
    cache.record(room_id, PINNED_EVENTS, "", content)
