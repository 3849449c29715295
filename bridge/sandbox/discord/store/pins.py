"""Pins and typing in a channel, with the gateway events Discord sends for them."""

from __future__ import annotations

from typing import Any

from .. import errors, payloads
from ..events import Intents
from .base import utcnow
from .messages import MessagesMixin
from .models import Message, MessageType


class PinsMixin(MessagesMixin):
    def pin(self, channel_id: int, message_id: int, user_id: int | None = None) -> None:
        """Pin a message; emits MESSAGE_UPDATE, CHANNEL_PINS_UPDATE and, if ``user_id`` is
        given, the type 6 "pinned a message" system message by that user, like Discord."""
        msg = self.get_message(channel_id, message_id)
        pins = self.pins.setdefault(msg.channel_id, [])
        if msg.id in pins:
            return
        if len(pins) >= 250:
            raise errors.bad_request(30003, "Maximum number of pins reached (250)")
        now = utcnow()
        pins.append(msg.id)
        self.pin_times[msg.id] = now
        msg.pinned = True
        channel = self.channels[msg.channel_id]
        channel.last_pin_timestamp = now
        self._emit_message_update(msg)
        self._emit_pins_update(channel.id)
        if user_id is not None:
            ref = {"type": 0, "channel_id": str(channel.id), "message_id": str(msg.id)}
            ref["guild_id"] = str(channel.guild_id)
            self.create_message(
                channel.id,
                user_id,
                "",
                type=MessageType.CHANNEL_PINNED_MESSAGE,
                message_reference=ref,
            )

    def unpin(self, channel_id: int, message_id: int) -> None:
        """Unpin; emits MESSAGE_UPDATE and CHANNEL_PINS_UPDATE."""
        msg = self.get_message(channel_id, message_id)
        pins = self.pins.get(msg.channel_id, [])
        if msg.id not in pins:
            return
        pins.remove(msg.id)
        msg.pinned = False
        self._emit_message_update(msg)
        self._emit_pins_update(msg.channel_id)

    def pinned_messages(self, channel_id: int) -> list[Message]:
        """Pinned messages, most recently pinned first."""
        return [
            self.messages[m] for m in reversed(self.pins.get(self.get_channel(channel_id).id, []))
        ]

    def _emit_pins_update(self, channel_id: int) -> None:
        channel = self.channels[channel_id]
        data = {
            "guild_id": str(channel.guild_id),
            "channel_id": str(channel.id),
            "last_pin_timestamp": payloads.iso(channel.last_pin_timestamp),
        }
        self.emit("CHANNEL_PINS_UPDATE", data, channel.guild_id, Intents.GUILDS, channel.id)

    def trigger_typing(self, channel_id: int, user_id: int) -> None:
        """Emits TYPING_START (intent GUILD_MESSAGE_TYPING)."""
        channel = self.get_channel(channel_id)
        now = utcnow()
        data: dict[str, Any] = {
            "channel_id": str(channel.id),
            "guild_id": str(channel.guild_id),
            "user_id": str(user_id),
            "timestamp": int(now.timestamp()),
        }
        member = self.guilds[channel.guild_id].members.get(user_id)
        if member is not None:
            data["member"] = payloads.member(self, member)
        self.emit("TYPING_START", data, channel.guild_id, Intents.GUILD_MESSAGE_TYPING, channel.id)
