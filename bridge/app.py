"""The running bridge: start every part in order, stop them in reverse."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from contextlib import suppress

from mautrix.api import Method, Path
from mautrix.errors import MatrixRequestError
from mautrix.types import (
    Event,
    EventType,
    Membership,
    MemberStateEventContent,
    MessageEvent,
    SerializerError,
    StateEvent,
)

from .actions.admin.imports import ImportJobs
from .actions.admin.services import AdminServices
from .actions.admin.unbridge_triggers import unbridge_unconfigured, watch_guild_removal
from .actions.d2m.catch_up import queue_catch_up
from .actions.d2m.services import RelayOptions, RelayServices
from .actions.m2d import handle as matrix_to_discord
from .actions.m2d.services import M2DOptions, M2DServices
from .actions.m2d.webhooks import Webhooks
from .commands.matrix_door import MatrixCommands, is_prefixed_command, starts_with_prefix
from .config import Config
from .convert.d2m.room_state import BridgeContext
from .db.connect import OpenDatabase, open_database
from .db.url import resolve_database_url
from .discord.client import (
    BridgeDiscordClient,
    explain_connect_failure,
    point_discord_py_at,
    start_discord,
)
from .discord.dispatcher import DiscordDispatcher
from .discord.message_dispatcher import register_message_handlers
from .discord.slash import register_slash_commands
from .matrix.appservice import BridgeAppService
from .matrix.checks import check_homeserver
from .matrix.media import MediaRepo, allowed_media_hosts
from .permissions import Level, permission_level
from .portal.guild_sync import GuildBridge, GuildNotFound
from .puppet.puppets import Puppets
from .stats import RelayStats
from .web.avatars import AvatarProxy, avatar_secret
from .web.files import FileLinks, file_secret
from .web.provisioning import add_provisioning_routes

log = logging.getLogger("bridge")


class Bridge:
    """One bridge process: database, appservice server, homeserver, Discord."""

    def __init__(
        self, config: Config, before_connect: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.config = config
        # Runs once logged in to Discord, before the gateway connects (the import queues its
        # channels there, so live messages wait behind their history).
        self.before_connect = before_connect
        self.database: OpenDatabase | None = None
        self.appservice: BridgeAppService | None = None
        self.discord = BridgeDiscordClient()
        self._gateway_task: asyncio.Task | None = None
        self.media: MediaRepo | None = None
        self.puppets: Puppets | None = None
        self.guilds: GuildBridge | None = None
        self.relay: RelayServices | None = None
        self.m2d: M2DServices | None = None
        self.avatars: AvatarProxy | None = None
        self.file_links: FileLinks | None = None
        self.stats = RelayStats()
        self.admin: AdminServices | None = None
        self.commands: MatrixCommands | None = None

    async def start(self) -> None:
        config = self.config
        url = resolve_database_url(config["appservice.database.url"], config.directory)
        self.database = await open_database(
            url, config["appservice.database.min_size"], config["appservice.database.max_size"]
        )
        self.appservice = BridgeAppService(config, self.database)
        # Pushed events wait for the handlers; those to relay are kept until relayed.
        self.appservice.handlers_ready.clear()
        prefix = config["bridge.command_prefix"]
        self.appservice.keep_until_handled = lambda raw: (
            matrix_to_discord.may_relay(raw) and not is_prefixed_command(raw, prefix)
        )
        self.appservice.matrix_event_handler(self._on_matrix_event)
        # Matrix avatars for Discord: routes before the server starts (aiohttp freezes them);
        # the bot's intent only exists once it has, hence the function.
        appservice = self.appservice
        self.avatars = AvatarProxy(
            config["bridge.public_address"],
            avatar_secret(config),
            lambda: appservice.intent,
            config["bridge.limits.max_file_size"],
        )
        self.avatars.add_routes(appservice.app)
        if config["bridge.messages.link_large_files"]:
            self.file_links = FileLinks(
                config["bridge.public_address"], file_secret(config), lambda: appservice.intent
            )
            self.file_links.add_routes(appservice.app)
        # The provisioning API answers 503 until the admin services exist (after start).
        add_provisioning_routes(
            appservice.app, config["bridge.provisioning.shared_secret"], lambda: self.admin
        )
        # Listen before anything can make the homeserver push to us (FIELD-NOTES).
        await self.appservice.start(config["appservice.hostname"], config["appservice.port"])
        log.info(
            "Appservice listening on %s:%s",
            config["appservice.hostname"],
            config["appservice.port"],
        )
        bot = self.appservice.intent
        await check_homeserver(bot, config["homeserver.address"], config["appservice.id"])
        await bot.ensure_registered()
        await self._sync_bot_profile()
        self.appservice.ready = True
        self._build_parts()
        point_discord_py_at(
            config["discord.api_url"], config["discord.gateway_url"], config["discord.cdn_url"]
        )
        await self._respect_upload_limit()
        self._gateway_task = await start_discord(
            self.discord, config["discord.bot_token"], before_connect=self._before_connect
        )
        await self._bridge_guilds()
        log.info("Bridge started as %s", bot.mxid)

    async def _before_connect(self) -> None:
        """Logged in, gateway not yet connected: queue what must come before live events."""
        assert self.relay is not None and self.appservice is not None
        await queue_catch_up(self.relay, self.discord.ready_event)
        # Matrix events kept from before a restart go first, then the homeserver's new pushes
        # (held until now: relaying needs Discord logged in).
        await self._queue_kept_events()
        self.appservice.handlers_ready.set()
        if self.before_connect is not None:
            await self.before_connect()

    def _build_parts(self) -> None:
        """The parts between Discord and Matrix, wired before Discord can send anything."""
        assert self.appservice is not None and self.database is not None
        config, tables = self.config, self.database.tables
        self.media = MediaRepo(
            tables, allowed_media_hosts(config), config["bridge.limits.max_file_size"]
        )
        self.puppets = Puppets(
            self.appservice,
            tables,
            self.media,
            username_template=config["bridge.username_template"],
            displayname_template=config["bridge.displayname_template"],
            bot_suffix=config["bridge.bot_suffix"],
            domain=config["homeserver.domain"],
        )
        context = BridgeContext(
            bot_mxid=self.appservice.bot_mxid,
            domain=config["homeserver.domain"],
            appservice_id=config["appservice.id"],
            username_template=config["bridge.username_template"],
            alias_template=config["bridge.alias_template"],
            space_join_rule=config["bridge.join_rules.space"],
            public_channel_join_rule=config["bridge.join_rules.public_channels"],
            bridge_voice_channels=config["bridge.bridge_voice_channels"],
        )
        self.guilds = GuildBridge(
            context, self.appservice.intent, tables, self.media, self.puppets, self.discord
        )
        self.appservice.raw_event_listeners.append(self.guilds.state.observe)
        self.appservice.is_ghost = self.puppets.is_ghost
        self.puppets.join_rule_of = self.guilds.state.join_rule
        DiscordDispatcher(self.discord, self.guilds, self.puppets)
        webhooks = Webhooks(tables, self.discord)
        self.relay = RelayServices(
            bot=self.appservice.intent,
            tables=tables,
            puppets=self.puppets,
            media=self.media,
            guilds=self.guilds,
            discord=self.discord,
            options=RelayOptions(
                cdn_url=config["discord.cdn_url"].rstrip("/"),
                domain=config["homeserver.domain"],
                room_mentions=config["bridge.messages.room_mentions"],
                captions=config["bridge.messages.captions"],
                system_messages=config["bridge.messages.system_messages"],
            ),
            webhooks=webhooks,
            stats=self.stats,
        )
        register_message_handlers(self.discord, self.relay)
        assert self.avatars is not None
        self.m2d = M2DServices(
            bot=self.appservice.intent,
            tables=tables,
            puppets=self.puppets,
            webhooks=webhooks,
            avatars=self.avatars,
            file_links=self.file_links,
            discord=self.discord,
            options=M2DOptions(
                permissions=config["bridge.permissions"],
                room_mentions=config["bridge.messages.room_mentions"],
                relay_notices=config["bridge.messages.relay_notices"],
                max_file_size=config["bridge.limits.max_file_size"],
            ),
            stats=self.stats,
        )
        self.admin = AdminServices(
            config=config,
            bot=self.appservice.intent,
            tables=tables,
            guilds=self.guilds,
            discord=self.discord,
            puppets=self.puppets,
            relay=self.relay,
            m2d=self.m2d,
            stats=self.stats,
            imports=ImportJobs(self),
        )
        self.commands = MatrixCommands(self.admin)
        watch_guild_removal(self.discord, self.admin)  # GUILD_DELETE: the guild is unbridged
        self.slash = register_slash_commands(self.discord, self.admin)  # Discord's /matrix

    async def _queue_kept_events(self) -> None:
        """Events the homeserver pushed before a restart and that were not relayed yet."""
        assert self.m2d is not None and self.database is not None
        kept = await self.database.tables.matrix_inbox.find(order="arrival")
        if kept:
            log.info("Relaying %d Matrix events kept from before the restart", len(kept))
        for row in kept:
            try:
                event = Event.deserialize(json.loads(row.event))
            except (ValueError, SerializerError) as error:
                log.warning("Dropping kept event %s, unreadable: %s", row.event_id, error)
                continue
            matrix_to_discord.submit(self.m2d, event)

    async def _respect_upload_limit(self) -> None:
        """Files over the homeserver's upload limit are not fetched: they become links."""
        assert self.appservice is not None and self.media is not None
        try:
            media_config = await self.appservice.intent.api.request(
                Method.GET, Path.v1.media.config
            )
        except MatrixRequestError as error:
            log.warning("Could not read the homeserver's upload limit: %s", error)
            return
        limit = media_config.get("m.upload.size")
        if isinstance(limit, int) and limit < self.media.max_size:
            log.info("The homeserver accepts uploads up to %d bytes", limit)
            self.media.max_size = limit

    async def _bridge_guilds(self) -> None:
        """Guilds bridged before (catching up with what changed) and those in the config."""
        assert self.guilds is not None and self.admin is not None
        configured = [int(g) for g in self.config["bridge.guilds"]]
        await unbridge_unconfigured(self.admin, configured)  # bridged by the config, gone from it
        wanted = await self.guilds.bridged_guild_ids()
        wanted += [g for g in configured if g not in wanted]
        for guild_id in wanted:
            try:
                result = await self.guilds.bridge_guild(guild_id, bridged_by="config")
            except GuildNotFound as error:
                log.error("%s: check bridge.guilds and the bot's invite", error)
                continue
            log.info("Guild %s is bridged as the space %s", guild_id, result.space_room_id)

    async def _sync_bot_profile(self) -> None:
        assert self.appservice is not None
        bot = self.appservice.intent
        displayname = self.config["appservice.bot.displayname"]
        avatar = self.config["appservice.bot.avatar"]
        try:
            await bot.set_displayname(displayname or None)
            if avatar:
                await bot.set_avatar_url(avatar)
        except MatrixRequestError as error:
            log.warning("Could not set the bot's profile: %s", error)

    async def _on_matrix_event(self, event: Event) -> None:
        """Relay users' events to Discord; accept invites of the bot from allowed users."""
        assert self.appservice is not None
        command = isinstance(event, MessageEvent) and self.commands is not None
        if command and starts_with_prefix(event.content.body, self.commands.prefix):  # type: ignore[union-attr]
            await self.commands.handle(event)  # type: ignore[union-attr,arg-type]
            return  # commands are never relayed
        if self.m2d is not None:
            matrix_to_discord.submit(self.m2d, event)  # before any await: keeps the order
        if command:
            # Every message in a direct chat with the bot (a management room) is a command.
            await self.commands.handle(event)  # type: ignore[union-attr,arg-type]
            return
        bot = self.appservice.intent
        if not (
            isinstance(event, StateEvent)
            and event.type == EventType.ROOM_MEMBER
            and event.state_key == bot.mxid
            and isinstance(event.content, MemberStateEventContent)
            and event.content.membership == Membership.INVITE
        ):
            return
        level = permission_level(event.sender, self.config["bridge.permissions"])
        try:
            if level >= Level.USER:
                if self.commands is not None:  # a direct chat: the inviter's management room
                    await self.commands.management_rooms.remember(event)
                await bot.join_room(event.room_id)
            else:
                await bot.leave_room(event.room_id, reason="You may not use this bridge")
        except MatrixRequestError as error:
            log.warning("Could not answer the invite to %s: %s", event.room_id, error)

    async def stop(self) -> None:
        """Stop in reverse order; safe to call after a failed start."""
        log.info("Stopping the bridge")
        if self.appservice:
            # New transactions get 503: the homeserver keeps them and retries after a restart.
            self.appservice.stopping = True
        if self.admin:  # imports stop between two messages, checkpoints saved (resumable)
            await self.admin.imports.stop()
        if not self.discord.is_closed():
            await self.discord.close()
        if self._gateway_task:
            self._gateway_task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._gateway_task
        if self.relay:
            await self.relay.queues.idle()
        if self.m2d:
            await self.m2d.queues.idle()
        if self.guilds:
            await self.guilds.wait_idle()
        if self.media:
            await self.media.close()
        if self.appservice:
            await self.appservice.stop()
        if self.database:
            await self.database.close()

    async def run_until_stopped(self) -> None:
        """Start, then run until SIGTERM/SIGINT or until the Discord connection dies."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        try:
            await self.start()
            assert self._gateway_task is not None
            stop_wait = asyncio.create_task(stopping.wait())
            await asyncio.wait({stop_wait, self._gateway_task}, return_when="FIRST_COMPLETED")
            stop_wait.cancel()
            if self._gateway_task.done() and not self._gateway_task.cancelled():
                error = self._gateway_task.exception()
                if error:
                    raise explain_connect_failure(error) from error
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            await self.stop()
