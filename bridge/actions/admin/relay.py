"""Whether a bridged room's Matrix messages go to Discord (``set-relay`` / ``unset-relay``).

Relaying is per room (``portal.relay_enabled``); Discord's messages reach the room either
way. Matrix messages always go out through the bridge's own webhook of the channel: a webhook
shared with other tools would make their posts look like the bridge's echo, never relayed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ...db.rows import PortalRow
from .services import ActionError, AdminServices

log = logging.getLogger("bridge.admin.relay")


@dataclass(frozen=True)
class RelayOutcome:
    """The room's relaying after the change. ``changed``: it was not so before."""

    channel_id: int
    name: str
    relay_enabled: bool
    changed: bool


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


async def set_relay(services: AdminServices, room_id: str) -> RelayOutcome:
    """Relay the room's Matrix messages to Discord again. Raises :class:`ActionError` (404
    for a room that is not bridged)."""
    portal = await portal_of_room(services, room_id)
    if not portal.relay_enabled:
        await _write_relay(services, portal.discord_id, True)
        log.info("Relaying of %s (channel %s) turned on", room_id, portal.discord_id)
    return RelayOutcome(portal.discord_id, portal.name, True, not portal.relay_enabled)
