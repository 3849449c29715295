"""Telling the Matrix user when their message did not reach Discord, and why."""

from __future__ import annotations

import logging

import discord
from mautrix.errors import MatrixError
from mautrix.types import EventID, MessageType, RoomID, TextMessageEventContent

from .services import M2DServices
from .webhooks import WebhookUnavailable

log = logging.getLogger("bridge.m2d.failures")


class DeliveryRefused(Exception):
    """A message the bridge will not send, with the reason for the user (e.g. too large)."""


def reason_for(error: BaseException) -> str:
    """A short, human reason for a failed delivery."""
    if isinstance(error, WebhookUnavailable | DeliveryRefused):
        return str(error)
    if isinstance(error, discord.Forbidden):
        return f"the bridge lacks a permission on Discord ({error.text or 'Forbidden'})"
    if isinstance(error, discord.HTTPException):
        detail = error.text or error.response.reason
        return f"Discord answered {error.status}: {detail}"
    return f"an error in the bridge ({type(error).__name__})"


async def report_failure(
    services: M2DServices, room_id: str, event_id: str, error: BaseException
) -> None:
    """A notice replying to the event that failed, naming the reason."""
    reason = reason_for(error)
    content = TextMessageEventContent(
        msgtype=MessageType.NOTICE, body=f"⚠️ Not delivered to Discord: {reason}"
    )
    content.set_reply(EventID(event_id))
    try:
        await services.bot.send_message(RoomID(room_id), content)
    except MatrixError as matrix_error:
        log.warning("Could not report a failed delivery in %s: %s", room_id, matrix_error)
