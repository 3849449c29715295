"""State container and lookups shared by the store's mixins."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .. import errors
from ..events import EventBus, Intents
from ..snowflake import SnowflakeGenerator
from .models import (
    Application,
    ApplicationCommand,
    Attachment,
    Channel,
    Guild,
    Interaction,
    Member,
    Message,
    User,
    Webhook,
)


@dataclass
class Blob:
    data: bytes
    content_type: str


def utcnow() -> datetime:
    return datetime.now(UTC)


def content_type_of(data: bytes, default: str = "application/octet-stream") -> str:
    """Sniff the common image types from their magic bytes."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return default


class StoreBase:
    """All of the emulator's state, in memory, plus lookups that raise Discord's 404 errors.

    ``events`` is the bus every mutation emits its gateway event on. ``cdn_url`` (no trailing
    slash) is set by the server and used for attachment and webhook URLs in payloads.
    """

    def __init__(self, events: EventBus | None = None) -> None:
        self.events = events or EventBus()
        self.ids = SnowflakeGenerator()
        self.cdn_url = "http://127.0.0.1"
        self.api_url = "http://127.0.0.1/api/v10"
        self.max_file_size = 10 * 1024 * 1024
        self.users: dict[int, User] = {}
        self.applications: dict[int, Application] = {}
        self.tokens: dict[str, int] = {}  # bot token → application id
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.channel_messages: dict[int, list[int]] = {}  # channel → message ids, ascending
        # Ephemeral interaction replies (flag 64): only the invoking user sees them, through
        # the interaction's token; never in a channel's history, no gateway event.
        self.ephemerals: dict[int, Message] = {}
        self.pins: dict[int, list[int]] = {}  # channel → pinned message ids, newest pin last
        self.pin_times: dict[int, datetime] = {}  # message id → when pinned
        self.webhooks: dict[int, Webhook] = {}
        self.interactions: dict[int, Interaction] = {}
        self.commands: dict[int, ApplicationCommand] = {}
        self.blobs: dict[str, Blob] = {}  # avatar/icon/banner hash → bytes
        self.attachments: dict[int, tuple[int, Attachment]] = {}  # id → (channel id, attachment)

    # ---- helpers -------------------------------------------------------------------------

    def emit(
        self,
        name: str,
        data: dict[str, Any],
        guild_id: int | None,
        intent: Intents | None,
        channel_id: int | None = None,
    ) -> None:
        """``channel_id``: only bots that may view that channel get the event."""
        self.events.emit(name, data, guild_id=guild_id, intent=intent, channel_id=channel_id)

    def put_blob(self, data: bytes, *, animated: bool = False) -> str:
        """Keep image bytes; returns the hash used in avatar/icon fields (``a_`` if animated)."""
        digest = hashlib.md5(data).hexdigest()
        key = f"a_{digest}" if animated else digest
        self.blobs[key] = Blob(data, content_type_of(data, "image/png"))
        return key

    # ---- lookups -------------------------------------------------------------------------

    def get_user(self, user_id: int) -> User:
        try:
            return self.users[int(user_id)]
        except (KeyError, ValueError):
            raise errors.not_found(errors.UNKNOWN_USER) from None

    def get_guild(self, guild_id: int) -> Guild:
        try:
            return self.guilds[int(guild_id)]
        except (KeyError, ValueError):
            raise errors.not_found(errors.UNKNOWN_GUILD) from None

    def get_channel(self, channel_id: int) -> Channel:
        try:
            return self.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise errors.not_found(errors.UNKNOWN_CHANNEL) from None

    def get_message(self, channel_id: int, message_id: int) -> Message:
        msg = self.messages.get(int(message_id)) if str(message_id).isdigit() else None
        if msg is None or msg.channel_id != int(channel_id):
            raise errors.not_found(errors.UNKNOWN_MESSAGE)
        return msg

    def get_member(self, guild_id: int, user_id: int) -> Member:
        guild = self.get_guild(guild_id)
        try:
            return guild.members[int(user_id)]
        except (KeyError, ValueError):
            raise errors.not_found(errors.UNKNOWN_MEMBER) from None

    def get_webhook(self, webhook_id: int, token: str | None = None) -> Webhook:
        """The webhook; with ``token``, also checks it (a wrong token is 401 Invalid Webhook Token)."""
        hook = self.webhooks.get(int(webhook_id)) if str(webhook_id).isdigit() else None
        if hook is None:
            raise errors.not_found(errors.UNKNOWN_WEBHOOK)
        if token is not None and token != hook.token:
            raise errors.DiscordError(401, 50027, "Invalid Webhook Token")
        return hook

    def get_application(self, application_id: int) -> Application:
        try:
            return self.applications[int(application_id)]
        except (KeyError, ValueError):
            raise errors.not_found(errors.UNKNOWN_APPLICATION) from None

    def authenticate(self, token: str) -> User | None:
        """The bot user a token (with or without the ``Bot `` prefix) belongs to, or None."""
        if token.startswith("Bot "):
            token = token[4:]
        app_id = self.tokens.get(token.strip())
        if app_id is None:
            return None
        return self.users[self.applications[app_id].bot_id]

    def application_of_bot(self, bot_id: int) -> Application | None:
        for app in self.applications.values():
            if app.bot_id == bot_id:
                return app
        return None

    def user_guild_ids(self, user_id: int) -> list[int]:
        """Ids of the guilds ``user_id`` is a member of (a bot's guilds for READY)."""
        return [g.id for g in self.guilds.values() if user_id in g.members]

    def guild_of_channel(self, channel_id: int) -> Guild:
        return self.get_guild(self.get_channel(channel_id).guild_id)
