"""Wiring the bridge's parts together once the homeserver checks have passed.

One function, so that :mod:`bridge.app` reads as the order of start-up and shutdown while the
list of who gets which collaborator lives here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .actions.admin.imports import ImportJobs
from .actions.admin.services import AdminServices
from .actions.admin.unbridge_triggers import watch_guild_removal
from .actions.d2m.services import RelayOptions, RelayServices
from .actions.m2d.services import M2DOptions, M2DServices
from .actions.m2d.typing import TypingRelay
from .actions.m2d.webhooks import Webhooks
from .commands.matrix_door import MatrixCommands
from .convert.d2m.room_state import BridgeContext
from .discord.dispatcher import DiscordDispatcher
from .discord.message_dispatcher import register_message_handlers
from .discord.slash import register_slash_commands
from .matrix.media import MediaRepo, allowed_media_hosts
from .migration.double_puppet import DoublePuppets
from .migration.ghost_names import LinkedGhostNames
from .migration.member_rooms import LinkedMemberRooms
from .migration.members import DiscordMembers
from .portal.guild_sync import GuildBridge
from .portal.space_members import configured_admins
from .puppet.puppets import Puppets

if TYPE_CHECKING:
    from .app import Bridge


def wire_parts(bridge: Bridge) -> None:
    """Build the parts between Discord and Matrix on ``bridge`` (its media, puppets, guilds,
    relays, admin services and command doors), wired before Discord can send anything.

    Needs ``bridge.appservice`` and ``bridge.database`` (started) and ``bridge.room_version``
    (chosen against the homeserver).
    """
    assert bridge.appservice is not None and bridge.database is not None
    config, tables = bridge.config, bridge.database.tables
    bridge.media = MediaRepo(
        tables, allowed_media_hosts(config), config["bridge.limits.max_file_size"]
    )
    bridge.puppets = Puppets(
        bridge.appservice,
        tables,
        bridge.media,
        username_template=config["bridge.username_template"],
        displayname_template=config["bridge.displayname_template"],
        bot_suffix=config["bridge.bot_suffix"],
        domain=config["homeserver.domain"],
        links=bridge.links,
    )
    context = BridgeContext(
        bot_mxid=bridge.appservice.bot_mxid,
        domain=config["homeserver.domain"],
        appservice_id=config["appservice.id"],
        username_template=config["bridge.username_template"],
        alias_template=config["bridge.alias_template"],
        space_join_rule=config["bridge.join_rules.space"],
        public_channel_join_rule=config["bridge.join_rules.public_channels"],
        bridge_voice_channels=config["bridge.bridge_voice_channels"],
        room_version=bridge.room_version,
        room_owners=tuple(config["bridge.room_owners"]),
    )
    bridge.guilds = GuildBridge(
        context,
        bridge.appservice.intent,
        tables,
        bridge.media,
        bridge.puppets,
        bridge.discord,
        admins=configured_admins(config["bridge.permissions"]),
    )
    bridge.appservice.raw_event_listeners.append(bridge.guilds.state.observe)
    bridge.appservice.is_ghost = bridge.puppets.is_ghost
    bridge.puppets.join_rule_of = bridge.guilds.state.join_rule
    DiscordDispatcher(bridge.discord, bridge.guilds, bridge.puppets)
    # Linked accounts: invited to the rooms their Discord roles see, power taken back on unlink.
    members = DiscordMembers()  # Discord members the cache lacks, fetched once a while
    LinkedMemberRooms(bridge.guilds, bridge.puppets.links, bridge.discord, members).install()
    webhooks = Webhooks(tables, bridge.discord, on_wait=bridge.metrics.delivery_wait)
    bridge.relay = RelayServices(
        bot=bridge.appservice.intent,
        tables=tables,
        puppets=bridge.puppets,
        media=bridge.media,
        guilds=bridge.guilds,
        discord=bridge.discord,
        options=RelayOptions(
            cdn_url=config["discord.cdn_url"].rstrip("/"),
            domain=config["homeserver.domain"],
            room_mentions=config["bridge.messages.room_mentions"],
            captions=config["bridge.messages.captions"],
            system_messages=config["bridge.messages.system_messages"],
        ),
        webhooks=webhooks,
        stats=bridge.stats,
    )
    if config["bridge.double_puppet.as_token"]:
        double = DoublePuppets(
            bridge.appservice,
            bridge.puppets,
            as_token=config["bridge.double_puppet.as_token"],
            source=config["appservice.id"],
        )
        bridge.relay.double_puppets = double
        bridge.appservice.is_double_puppeted = double.is_own_event
        bridge.puppets.links.listeners.append(double.on_link_change)
        # A member shown as themselves: their ghost's name need not name their account.
        bridge.puppets.double_puppeted = double.may_act_as
    register_message_handlers(bridge.discord, bridge.relay)
    assert bridge.avatars is not None
    bridge.m2d = M2DServices(
        bot=bridge.appservice.intent,
        tables=tables,
        puppets=bridge.puppets,
        webhooks=webhooks,
        avatars=bridge.avatars,
        file_links=bridge.file_links,
        discord=bridge.discord,
        options=M2DOptions(
            permissions=config["bridge.permissions"],
            room_mentions=config["bridge.messages.room_mentions"],
            relay_notices=config["bridge.messages.relay_notices"],
            max_file_size=config["bridge.limits.max_file_size"],
        ),
        stats=bridge.stats,
        discord_members=members,
    )
    bridge.typing = TypingRelay(bridge.m2d)
    names = LinkedGhostNames(
        bridge.puppets, bridge.guilds, bridge.discord, bridge.m2d.discord_members
    )
    names.watch(bridge.puppets.links)  # a linked member's ghost shows their Matrix account
    bridge.admin = AdminServices(
        config=config,
        bot=bridge.appservice.intent,
        tables=tables,
        guilds=bridge.guilds,
        discord=bridge.discord,
        puppets=bridge.puppets,
        relay=bridge.relay,
        m2d=bridge.m2d,
        stats=bridge.stats,
        imports=ImportJobs(bridge),
    )
    bridge.commands = MatrixCommands(bridge.admin)
    watch_guild_removal(bridge.discord, bridge.admin)  # GUILD_DELETE: the guild is unbridged
    bridge.slash = register_slash_commands(bridge.discord, bridge.admin)  # Discord's /matrix
