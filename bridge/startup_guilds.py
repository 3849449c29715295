"""The guilds the bridge syncs when it starts: those bridged before, then the configured ones."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mautrix.errors import MatrixRequestError

from .actions.admin.unbridge_triggers import unbridge_unconfigured
from .discord.membership import not_in_guild_text
from .portal.guild_sync import GuildNotFound
from .portal.space_alias import space_address
from .startup_hints import no_guild_yet

if TYPE_CHECKING:
    from .app import Bridge

log = logging.getLogger("bridge")


async def bridge_guilds_at_start(bridge: Bridge) -> None:
    """Bridge, at start, the guilds bridged before (catching up with what changed) and those
    in ``bridge.guilds``.

    A guild that cannot be bridged (the bot is not in it, the homeserver refuses a request)
    is logged with the reason and skipped.
    """
    assert bridge.guilds is not None and bridge.admin is not None
    configured = [int(g) for g in bridge.config["bridge.guilds"]]
    assert bridge.appservice is not None and bridge.database is not None
    await unbridge_unconfigured(bridge.admin, configured)  # bridged by the config, gone from it
    wanted = await bridge.guilds.bridged_guild_ids()
    wanted += [g for g in configured if g not in wanted]
    if not wanted:
        assert bridge.appservice is not None
        log.info(no_guild_yet(bridge.appservice.bot_mxid, bridge.config["bridge.command_prefix"]))
    for guild_id in wanted:
        try:
            result = await bridge.guilds.bridge_guild(guild_id, bridged_by="config")
        except GuildNotFound:
            log.error(
                "Cannot bridge guild %s: %s. Check bridge.guilds and the bot's invite.",
                guild_id,
                not_in_guild_text(guild_id, bridge.discord.guilds),
            )
            continue
        except MatrixRequestError as error:  # the rooms made so far are recorded
            log.error(
                "Cannot bridge guild %s: the homeserver refused a request while creating or "
                "updating its rooms (%s %s: %s); the rooms created so far are recorded and "
                "reused at the next sync or start",
                guild_id,
                error.http_status,
                error.errcode,
                error.message,
            )
            continue
        address = await space_address(bridge.guilds.state, result.space_room_id)
        log.info("Guild %s is bridged as the space %s", guild_id, address)
