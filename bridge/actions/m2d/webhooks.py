"""One webhook per Discord channel, through which Matrix users' messages appear under their names.

The webhook is created the first time a channel needs it and kept in the channel's portal row, so
it survives restarts. Threads (forum posts too) have no webhooks of their own: their messages go
through the parent channel's webhook with ``thread=``. A webhook someone deleted on Discord is
replaced the next time a message needs it. Every webhook request is tried again while Discord
answers 429 or 5xx (:mod:`.retry`); an execute answered 204 without a body (a server that
ignored ``wait=true``) is looked up in the channel (:mod:`.recovery`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from ...db.tables import BridgeTables
from ...locks import KeyedLocks
from ...logs import redact_secret
from .recovery import find_unanswered, recent_webhook_messages, recorded_ids
from .retry import RetryPolicy, WaitObserver, retrying

log = logging.getLogger("bridge.m2d.webhooks")

UNKNOWN_WEBHOOK = 10015
INVALID_WEBHOOK_TOKEN = 50027
MAX_WEBHOOKS = 30007
UNKNOWN_MESSAGE = 10008
THREAD_TYPES = (
    discord.ChannelType.news_thread.value,
    discord.ChannelType.public_thread.value,
    discord.ChannelType.private_thread.value,
)


class WebhookUnavailable(Exception):
    """The bridge cannot post as Matrix users in this channel; the message says why (e.g. the bot
    lacks Manage Webhooks in #name)."""


class EmptyAnswer(Exception):
    """A webhook execute with ``wait=true`` was answered without a message (204, no body): the
    message was posted, but its id is unknown."""


class _Adapter(AsyncWebhookAdapter):
    """discord.py's webhook requests, with an execute answered without a body turned into
    :class:`EmptyAnswer` (discord.py would fail building a message from nothing)."""

    async def execute_webhook(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        data = await super().execute_webhook(*args, **kwargs)
        if kwargs.get("wait") and not isinstance(data, dict):
            raise EmptyAnswer()
        return data


_ADAPTER = _Adapter()


def _webhook_gone(error: discord.HTTPException) -> bool:
    """Discord no longer knows the stored webhook (deleted, or its token reset)."""
    return error.code in (UNKNOWN_WEBHOOK, INVALID_WEBHOOK_TOKEN)


def _rewind_files(kwargs: dict[str, Any]) -> None:
    """Files already read by a failed request are read again from their start."""
    files = list(kwargs.get("files") or [])
    if isinstance(kwargs.get("file"), discord.File):
        files.append(kwargs["file"])
    for file in files:
        file.reset()


class Webhooks:
    """The bridge's webhook of each channel: found, created, replaced, and used."""

    def __init__(
        self,
        tables: BridgeTables,
        client: discord.Client,
        name: str = "Matrix",
        *,
        retry: RetryPolicy | None = None,
        on_wait: WaitObserver | None = None,
    ) -> None:
        """``retry``: the backoff while Discord answers 429/5xx; ``on_wait(cause, seconds)``
        is told of each wait (the metrics)."""
        self.tables = tables
        self.client = client
        self.name = name
        self.retry = retry or RetryPolicy()
        self.on_wait = on_wait
        # Set by the bridge's stop (before the Discord client closes): waiting retries give up.
        self.stopping = asyncio.Event()
        self._locks = KeyedLocks()
        self._cache: dict[int, discord.Webhook] = {}
        self._ids: set[int] = set()
        self._loaded = False

    def stop(self) -> None:
        """The bridge stops: requests waiting out a 429/5xx give up now (DiscordStopped)."""
        self.stopping.set()

    async def load(self) -> None:
        """Learn the bridge's webhook ids from the portal rows (for :meth:`is_bridge_webhook`)."""
        if self._loaded:
            return
        rows = await self.tables.portals.find("webhook_id IS NOT NULL")
        self._ids.update(row.webhook_id for row in rows if row.webhook_id is not None)
        self._loaded = True

    def is_bridge_webhook(self, webhook_id: int) -> bool:
        """Whether a message's webhook is one of the bridge's (its own echo).

        Knows the webhooks stored before the start once :meth:`load` (or any other call) ran,
        and every webhook created since.
        """
        return webhook_id in self._ids

    def current_id(self, channel_id: int) -> int | None:
        """The id of the channel's webhook if it is already known in this process."""
        cached = self._cache.get(channel_id)
        return cached.id if cached is not None else None

    def forget(self, channel_id: int) -> None:
        """Drop the channel's cached webhook (its channel was unbridged); its id stays known,
        so the messages it already sent are still recognised as the bridge's own."""
        self._cache.pop(channel_id, None)

    async def get(self, channel_id: int) -> discord.Webhook:
        """The channel's webhook: the stored one, else a new one (stored for next time)."""
        await self.load()
        cached = self._cache.get(channel_id)
        if cached is not None:
            return cached
        async with self._locks(channel_id):
            cached = self._cache.get(channel_id)
            if cached is not None:
                return cached
            row = await self.tables.portals.get(channel_id)
            if row is not None and row.webhook_id and row.webhook_token:
                webhook = discord.Webhook.partial(
                    row.webhook_id, row.webhook_token, client=self.client
                )
            else:
                webhook = await self._create(channel_id)
            self._remember(channel_id, webhook)
            return webhook

    async def recreate(
        self, channel_id: int, *, failed: discord.Webhook | None = None
    ) -> discord.Webhook:
        """After Discord said Unknown Webhook: forget the stored webhook and create a new one.

        With ``failed`` (the webhook Discord refused), a replacement another task made meanwhile
        is used instead of making yet another.
        """
        await self.load()
        async with self._locks(channel_id):
            current = self._cache.get(channel_id)
            if current is not None and failed is not None and current.id != failed.id:
                return current
            self._cache.pop(channel_id, None)
            await self._store(channel_id, None)
            webhook = await self._create(channel_id)
            self._remember(channel_id, webhook)
            return webhook

    async def send(
        self, channel_id: int, *, thread_id: int | None = None, **kwargs: Any
    ) -> discord.Message | None:
        """Post through the channel's webhook (``username``, ``avatar_url``, ``content``…).

        ``channel_id`` may be a thread: its parent's webhook is used. Files must be re-readable
        (e.g. ``io.BytesIO``): after Unknown Webhook, a 429 or a 5xx they are sent again.
        An answer without the message (204) is looked up in the channel; None if it cannot be
        found there (posted, but its id unknown).
        """
        started_ms = int(time.time() * 1000)
        target = thread_id
        channel_id, thread_id = await self._route(channel_id, thread_id)
        if thread_id is not None:
            kwargs["thread"] = discord.Object(thread_id)
        webhook = await self.get(channel_id)

        def execute(hook: discord.Webhook) -> Callable[[], Awaitable[Any]]:
            def request() -> Awaitable[Any]:
                _rewind_files(kwargs)
                return hook.send(wait=True, **kwargs)

            return request

        try:
            try:
                return await self._call(channel_id, execute(webhook), "a webhook message")
            except discord.HTTPException as error:
                if not _webhook_gone(error):
                    raise
                log.info("The webhook of channel %s is gone; creating another", channel_id)
            webhook = await self.recreate(channel_id, failed=webhook)
            return await self._call(channel_id, execute(webhook), "a webhook message")
        except EmptyAnswer:
            where = thread_id if thread_id is not None else (target or channel_id)
            username, content = str(kwargs.get("username") or ""), str(kwargs.get("content") or "")
            return await find_unanswered(self.find_posted, where, started_ms, username, content)

    async def find_posted(self, channel_id: int, since_ms: int) -> list[discord.Message]:
        """The bridge's webhook messages in a channel or thread since ``since_ms`` (ms since
        the epoch), oldest first, leaving out those already recorded (``message_part``).

        Raises ``discord.HTTPException`` if the channel's history cannot be read."""
        await self.load()  # the webhooks of earlier runs count as the bridge's
        channel = await self._channel(channel_id)

        def known(ids: list[int]) -> Awaitable[list[int]]:
            return recorded_ids(self.tables, ids)

        return await recent_webhook_messages(channel, since_ms, self.is_bridge_webhook, known)

    async def edit(
        self, channel_id: int, message_id: int, *, thread_id: int | None = None, **kwargs: Any
    ) -> discord.WebhookMessage:
        """Edit a message the channel's webhook sent.

        A message of a webhook Discord no longer knows cannot be edited: the webhook is replaced
        for later messages and ``discord.NotFound`` is raised.
        """
        channel_id, thread_id = await self._route(channel_id, thread_id)
        if thread_id is not None:
            kwargs["thread"] = discord.Object(thread_id)
        webhook = await self.get(channel_id)
        try:
            return await self._call(
                channel_id, lambda: webhook.edit_message(message_id, **kwargs), "an edit"
            )
        except discord.HTTPException as error:
            if _webhook_gone(error):
                await self.recreate(channel_id, failed=webhook)
            raise

    async def delete(
        self, channel_id: int, message_id: int, *, thread_id: int | None = None
    ) -> None:
        """Delete a message the channel's webhook sent.

        A message the webhook cannot reach (Discord no longer knows the webhook, or an earlier
        webhook of the channel sent it) is deleted by the bot itself, which needs Manage
        Messages; ``discord.NotFound`` if the message is gone. A lost webhook is replaced.
        """
        channel_id, thread_id = await self._route(channel_id, thread_id)
        thread = discord.Object(thread_id) if thread_id is not None else discord.utils.MISSING
        webhook = await self.get(channel_id)
        try:
            await self._call(
                channel_id,
                lambda: webhook.delete_message(message_id, thread=thread),
                "a deletion",
            )
            return
        except discord.HTTPException as error:
            if _webhook_gone(error):
                await self.recreate(channel_id, failed=webhook)
            elif error.code != UNKNOWN_MESSAGE:
                raise
        target = await self._channel(thread_id if thread_id is not None else channel_id)
        await target.get_partial_message(message_id).delete()

    # ---- internals ---------------------------------------------------------------------------

    async def _call(self, channel_id: int, request: Callable[[], Awaitable[Any]], what: str) -> Any:
        """Make a webhook request (``request()`` makes a new one per attempt), again while
        Discord answers 429/5xx; Discord refusing it becomes WebhookUnavailable."""

        async def attempt() -> Any:
            context = async_context.set(_ADAPTER)  # this task's webhook requests only
            try:
                return await request()
            finally:
                async_context.reset(context)

        label = f"{what} in channel {channel_id}"
        try:
            return await retrying(attempt, label, self.retry, self.on_wait, self.stopping)
        except discord.Forbidden as error:
            raise WebhookUnavailable(
                f"Discord refused the bridge's webhook in {await self._label(channel_id)}: "
                f"{error.text or error.status}"
            ) from error

    async def _route(self, channel_id: int, thread_id: int | None) -> tuple[int, int | None]:
        """(the channel owning the webhook, the thread): a thread given as the channel goes
        through its parent's webhook."""
        parent = await self._thread_parent(channel_id)
        if parent is None:
            return channel_id, thread_id
        return parent, thread_id if thread_id is not None else channel_id

    async def _thread_parent(self, channel_id: int) -> int | None:
        """The parent of a thread (from discord.py's cache or the portal row); None otherwise."""
        cached = self.client.get_channel(channel_id)
        if isinstance(cached, discord.Thread):
            return cached.parent_id
        if cached is not None:
            return None
        row = await self.tables.portals.get(channel_id)
        if row is not None and row.channel_type in THREAD_TYPES and row.parent_id:
            return row.parent_id
        return None

    async def _channel(self, channel_id: int) -> Any:
        channel = self.client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(channel_id)
            except discord.HTTPException as error:
                raise WebhookUnavailable(
                    f"The bridge cannot see the Discord channel {channel_id}: {error.text}"
                ) from error
        return channel

    async def _label(self, channel_id: int) -> str:
        """#name of a channel for messages to people (its id if unknown)."""
        channel = self.client.get_channel(channel_id)
        if channel is not None and getattr(channel, "name", None):
            return f"#{channel.name}"  # type: ignore[union-attr]
        row = await self.tables.portals.get(channel_id)
        return f"#{row.name}" if row is not None and row.name else f"channel {channel_id}"

    async def _create(self, channel_id: int) -> discord.Webhook:
        """A webhook for the channel: one the bot made before and still has, else a new one."""
        channel = await self._channel(channel_id)
        label = await self._label(channel_id)
        if not hasattr(channel, "create_webhook"):
            raise WebhookUnavailable(f"Discord channels like {label} have no webhooks")
        me = self.client.user
        try:
            for existing in await channel.webhooks():
                if (
                    existing.token
                    and existing.type == discord.WebhookType.incoming
                    and existing.name == self.name
                    and existing.user is not None
                    and me is not None
                    and existing.user.id == me.id
                ):
                    webhook = existing
                    break
            else:
                webhook = await channel.create_webhook(name=self.name)
        except discord.Forbidden as error:
            raise WebhookUnavailable(
                f"The bridge's bot lacks the Manage Webhooks permission in {label}, so Matrix "
                "users' messages cannot be posted there"
            ) from error
        except discord.HTTPException as error:
            if error.code == MAX_WEBHOOKS:
                raise WebhookUnavailable(
                    f"{label} already has the most webhooks Discord allows; delete one"
                ) from error
            raise
        log.info("Using webhook %s for channel %s", webhook.id, channel_id)
        await self._store(channel_id, webhook)
        return webhook

    async def _store(self, channel_id: int, webhook: discord.Webhook | None) -> None:
        """Keep the webhook (or forget it) in the channel's portal row, if it has one.

        Only the two webhook columns are written, so a portal update running at the same time
        keeps its changes.
        """
        hook_id, token = (webhook.id, webhook.token) if webhook is not None else (None, None)
        redact_secret(token)  # before the query, which a DEBUG log shows with its values
        await self.tables.db.execute(
            "UPDATE portal SET webhook_id = $2, webhook_token = $3 WHERE discord_id = $1",
            channel_id,
            hook_id,
            token,
        )

    def _remember(self, channel_id: int, webhook: discord.Webhook) -> None:
        self._cache[channel_id] = webhook
        self._ids.add(webhook.id)
