"""Whether a bridged room's Matrix messages go to Discord (``set-relay`` / ``unset-relay``).

Relaying is per room (``portal.relay_enabled``); Discord's messages reach the room either
way. ``set-relay --webhook URL`` also makes the room's messages go out through an existing
Discord webhook of the channel instead of the bridge's own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord

from ...db.rows import PortalRow
from .services import ActionError, AdminServices

log = logging.getLogger("bridge.admin.relay")
WEBHOOK_URL_SHAPE = "https://discord.com/api/webhooks/<id>/<token>"


@dataclass(frozen=True)
class RelayOutcome:
    """The room's relaying after the change. ``changed``: it was not so before."""

    channel_id: int
    name: str
    relay_enabled: bool
    changed: bool
    webhook_id: int | None = None  # the webhook given with --webhook


async def portal_of_room(services: AdminServices, room_id: str) -> PortalRow:
    """The portal row of a bridged room; :class:`ActionError` (404) for any other room."""
    portal = await services.tables.portal_by_room(room_id)
    if portal is None:
        raise ActionError(
            "This room is not bridged to a Discord channel, so nothing here is relayed. "
            "Send the command in a bridged room (or `bridge-room <channel>` to bridge this one).",
            status=404,
        )
    return portal


async def _write_relay(services: AdminServices, channel_id: int, enabled: bool) -> None:
    # Only this column: a guild sync writing the row meanwhile keeps it (it reads it back).
    await services.tables.db.execute(
        "UPDATE portal SET relay_enabled = $2 WHERE discord_id = $1", channel_id, enabled
    )


async def unset_relay(services: AdminServices, room_id: str) -> RelayOutcome:
    """Stop relaying the room's Matrix messages to Discord. Raises :class:`ActionError`."""
    portal = await portal_of_room(services, room_id)
    if portal.relay_enabled:
        await _write_relay(services, portal.discord_id, False)
        log.info("Relaying of %s (channel %s) turned off", room_id, portal.discord_id)
    return RelayOutcome(portal.discord_id, portal.name, False, portal.relay_enabled)


async def set_relay(
    services: AdminServices, room_id: str, webhook_url: str | None = None
) -> RelayOutcome:
    """Relay the room's Matrix messages to Discord again, through the webhook at
    ``webhook_url`` if given (it must exist and belong to the room's channel).
    Raises :class:`ActionError` (400 for a bad URL or another channel's webhook, 404 for an
    unknown room or webhook)."""
    portal = await portal_of_room(services, room_id)
    webhook = None
    if webhook_url is not None:
        webhook = await _checked_webhook(services, portal, webhook_url)
        # A forum post posts through its forum's webhook: the forum's row keeps it.
        await services.m2d.webhooks.use(webhook_channel(portal), webhook)
        log.info("Channel %s now relays through webhook %s", portal.discord_id, webhook.id)
    if not portal.relay_enabled:
        await _write_relay(services, portal.discord_id, True)
        log.info("Relaying of %s (channel %s) turned on", room_id, portal.discord_id)
    return RelayOutcome(
        portal.discord_id,
        portal.name,
        True,
        not portal.relay_enabled,
        webhook.id if webhook else None,
    )


async def _checked_webhook(services: AdminServices, portal: PortalRow, url: str) -> discord.Webhook:
    """The webhook at ``url``, fetched from Discord, if it posts in the portal's channel."""
    try:
        partial = discord.Webhook.from_url(url.strip("<>"), client=services.discord)
    except ValueError as error:
        raise ActionError(
            f"`{url}` is not a Discord webhook URL; it looks like {WEBHOOK_URL_SHAPE} (in "
            "Discord: the channel's settings → Integrations → Webhooks → Copy Webhook URL).",
            status=400,
        ) from error
    try:
        fetched = await partial.fetch()
    except discord.NotFound as error:
        raise ActionError(
            "Discord knows no webhook at that URL (deleted, or its token was reset). Copy the "
            "URL again from the channel's settings → Integrations → Webhooks.",
            status=404,
        ) from error
    except discord.HTTPException as error:
        raise ActionError(
            f"Discord refused to show that webhook ({error.status}: {error.text}). Check the "
            "URL, then send the command again.",
            status=400,
        ) from error
    channel_id = webhook_channel(portal)
    if fetched.channel_id != channel_id:
        raise ActionError(
            f"That webhook posts in the Discord channel {fetched.channel_id}, not in "
            f"#{portal.name} ({channel_id}). Give a webhook of #{portal.name}, made in its "
            "settings → Integrations → Webhooks.",
            status=400,
        )
    token = fetched.token or partial.token
    assert token is not None  # from_url requires one
    return discord.Webhook.partial(fetched.id, token, client=services.discord)


_THREAD_TYPES = (
    discord.ChannelType.news_thread.value,
    discord.ChannelType.public_thread.value,
    discord.ChannelType.private_thread.value,
)


def webhook_channel(portal: PortalRow) -> int:
    """The channel whose webhooks post in the portal's room: a thread's (forum post's) parent."""
    if portal.channel_type in _THREAD_TYPES and portal.parent_id:
        return portal.parent_id
    return portal.discord_id
