"""The running bridge: start every part in order, stop them in reverse."""

from __future__ import annotations

import asyncio
import json
import logging
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
    TypingEvent,
)

from .actions.admin.services import AdminServices
from .actions.d2m.catch_up import CatchUp
from .actions.d2m.catch_up_window import CatchUpWindow
from .actions.d2m.services import RelayServices
from .actions.m2d import handle as matrix_to_discord
from .actions.m2d.services import M2DServices
from .actions.m2d.typing import TypingRelay
from .app_wiring import wire_parts
from .commands.matrix_door import MatrixCommands, is_prefixed_command, starts_with_prefix
from .config import Config
from .db.connect import OpenDatabase, open_database
from .db.url import resolve_database_url
from .discord.client import (
    BridgeDiscordClient,
    explain_connect_failure,
    point_discord_py_at,
    start_discord,
)
from .discord.slash import SlashCommands
from .logs import config_secrets, redact_secret
from .matrix.appservice import BridgeAppService
from .matrix.checks import check_homeserver, choose_room_version
from .matrix.media import MediaRepo
from .matrix.namespaces import check_namespaces
from .metrics import BridgeMetrics
from .metrics_sources import GatewayWatch, ratelimit_trace
from .migration.links import AccountLinks
from .permissions import Level, permission_level
from .portal.adopt import check_known_rooms
from .portal.guild_sync import GuildBridge
from .puppet.puppets import Puppets
from .startup_guilds import bridge_guilds_at_start
from .startup_hints import listen_failure
from .stats import RelayStats
from .web.avatars import AvatarProxy, avatar_secret
from .web.files import FileLinks, file_secret
from .web.metrics_server import MetricsServer, start_metrics_server
from .web.migration_page import add_migration_page_routes
from .web.openid import OpenIDVerifier
from .web.probe import add_probe_route
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
        # Metrics are always counted (their own registry); served when metrics.enabled.
        self.metrics = BridgeMetrics()
        self.gateway = GatewayWatch(self.metrics)
        self.metrics_server: MetricsServer | None = None
        self.started = False  # /ready: start() has finished and stop() has not begun
        self.discord = BridgeDiscordClient(http_trace=ratelimit_trace(self.metrics))
        self.discord.gateway_listeners.append(self.gateway.observe)
        self.discord.dispatch_guard.listeners.append(self.metrics.dispatch_error)
        self._gateway_task: asyncio.Task | None = None
        self.media: MediaRepo | None = None
        self.puppets: Puppets | None = None
        self.links: AccountLinks | None = None
        self.guilds: GuildBridge | None = None
        self.relay: RelayServices | None = None
        self.m2d: M2DServices | None = None
        self.catch_up: CatchUp | None = None
        self.typing: TypingRelay | None = None  # Matrix typing → Discord (ephemeral events)
        self.avatars: AvatarProxy | None = None
        self.file_links: FileLinks | None = None
        self.stats = RelayStats(metrics=self.metrics)
        self.admin: AdminServices | None = None
        self.commands: MatrixCommands | None = None
        self.slash: SlashCommands | None = None  # Discord's /matrix
        # The version of the rooms the bridge creates; chosen against the homeserver at start.
        self.room_version = ""
        self._stopping: asyncio.Future[None] | None = None

    async def start(self) -> None:
        config = self.config
        redact_secret(*config_secrets(config))  # also when not started by __main__ (tests)
        if config["metrics.enabled"]:  # first: /live answers, /ready says "starting"
            self.metrics_server = await start_metrics_server(self)
        url = resolve_database_url(config["appservice.database.url"], config.directory)
        self.database = await open_database(
            url, config["appservice.database.min_size"], config["appservice.database.max_size"]
        )
        self.appservice = BridgeAppService(config, self.database, self.metrics)
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
        add_probe_route(appservice.app, config["appservice.id"])  # for `doctor`
        if config["bridge.messages.link_large_files"]:
            self.file_links = FileLinks(
                config["bridge.public_address"], file_secret(config), lambda: appservice.intent
            )
            self.file_links.add_routes(appservice.app)
        # The provisioning API answers 503 until the admin services exist (after start).
        add_provisioning_routes(
            appservice.app, config["bridge.provisioning.shared_secret"], lambda: self.admin
        )
        # The migration page (same secret, or an admin's Matrix OpenID token): 503 until then.
        add_migration_page_routes(
            appservice.app,
            config["bridge.provisioning.shared_secret"],
            lambda: self.admin,
            OpenIDVerifier(config["homeserver.domain"], config["homeserver.address"]),
        )
        # Listen before anything can make the homeserver push to us (FIELD-NOTES).
        host, port = config["appservice.hostname"], config["appservice.port"]
        try:
            await self.appservice.start(host, port)
        except OSError as error:  # e.g. in use: another bridge or an import running
            raise listen_failure(error, host, port) from error
        log.info(
            "Appservice listening on %s:%s",
            config["appservice.hostname"],
            config["appservice.port"],
        )
        bot = self.appservice.intent
        # Registers the bot before whoami (conduwuit knows no unregistered bot), then pings.
        await check_homeserver(
            bot,
            config["homeserver.address"],
            config["appservice.id"],
            bridge_address=config["appservice.address"],
        )
        # Before anything is created: the registration reserves our ghosts and aliases.
        await check_namespaces(
            bot,
            config["bridge.username_template"],
            config["bridge.alias_template"],
            config["homeserver.domain"],
        )
        # The database's rooms are on this homeserver, before catch-up or a sync touches them.
        await check_known_rooms(bot, self.database.tables)
        self.room_version = await choose_room_version(bot, str(config["bridge.room_version"]))
        await self._sync_bot_profile()
        self.links = AccountLinks(self.database.tables)  # linked accounts, read once
        await self.links.load()
        wire_parts(self)
        point_discord_py_at(
            config["discord.api_url"], config["discord.gateway_url"], config["discord.cdn_url"]
        )
        await self._respect_upload_limit()
        self._gateway_task = await start_discord(
            self.discord, config["discord.bot_token"], before_connect=self._before_connect
        )
        await bridge_guilds_at_start(self)
        self.started = True
        # mautrix's GET /_matrix/mau/ready (the Docker HEALTHCHECK) answers 200 from here on.
        self.appservice.ready = True
        log.info("Bridge started as %s", bot.mxid)

    async def _before_connect(self) -> None:
        """Logged in, gateway not yet connected: queue what must come before live events."""
        assert self.relay is not None and self.appservice is not None
        # Each channel's catch-up, for the first READY and again at every new session.
        self.catch_up = CatchUp(
            self.relay,
            CatchUpWindow(
                self.config["bridge.catch_up.window_messages"],
                self.config["bridge.catch_up.window_hours"],
            ),
        )
        await self.catch_up.queue_first()
        self.discord.gateway_listeners.append(self.catch_up.on_gateway)
        # Matrix events kept from before a restart go first, then the homeserver's new pushes
        # (held until now: relaying needs Discord logged in).
        await self._queue_kept_events()
        self.appservice.handlers_ready.set()
        if self.before_connect is not None:
            await self.before_connect()

    async def _queue_kept_events(self) -> None:
        """Events the homeserver pushed before a restart and that were not relayed yet."""
        assert self.m2d is not None and self.database is not None
        kept = await self.database.tables.matrix_inbox.find(order="arrival")
        if kept:
            log.info("Relaying %d Matrix events kept from before the restart", len(kept))
        # A room's events are relayed one at a time, each leaving the inbox once relayed: only
        # the first kept event of a room can have reached Discord unrecorded. That one is a
        # replay (its messages are looked for on Discord since its arrival); the rest are new.
        replayed_rooms: set[str] = set()
        for row in kept:
            try:
                event = Event.deserialize(json.loads(row.event))
            except (ValueError, SerializerError) as error:
                log.warning("Dropping kept event %s, unreadable: %s", row.event_id, error)
                continue
            since_ms = None if row.room_id in replayed_rooms else row.arrival // 1000  # µs → ms
            replayed_rooms.add(row.room_id)
            matrix_to_discord.submit(self.m2d, event, replay_since_ms=since_ms)

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
        """Relay users' events (and typing) to Discord; accept invites of the bot from allowed users."""
        assert self.appservice is not None
        if isinstance(event, TypingEvent):  # ephemeral (appservice.ephemeral_events)
            if self.typing is not None:
                await self.typing.handle(event)
            return
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
            elif level >= Level.RELAY:  # may link, from Discord and a bridged room
                prefix = self.config["bridge.command_prefix"]
                log.info("Declined a direct chat with %s (relay level)", event.sender)
                await bot.leave_room(
                    event.room_id,
                    reason="A direct chat with the bridge needs the user level. To link your "
                    f"Discord account, run /matrix link on Discord, then send `{prefix} link "
                    "CODE` in a bridged room.",
                )
            else:
                log.info(
                    "Declined an invite from %s (no level in bridge.permissions)", event.sender
                )
                await bot.leave_room(event.room_id, reason="You may not use this bridge")
        except MatrixRequestError as error:
            log.warning("Could not answer the invite to %s: %s", event.room_id, error)

    async def stop(self) -> None:
        """Stop in reverse order; safe to call after a failed start, and again. A cancel
        (Ctrl-C, see :mod:`bridge.interrupt`) while stopping does not cut it short: the
        database and the port are released first, then the cancel goes on."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop_parts())
        cancelled = False
        while not self._stopping.done():
            try:
                await asyncio.shield(self._stopping)
            except asyncio.CancelledError:
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError
        self._stopping.result()

    async def _stop_parts(self) -> None:
        log.info("Stopping the bridge")
        self.started = False
        if self.appservice:
            self.appservice.ready = False  # /_matrix/mau/ready: 500 again
            # New transactions get 503: the homeserver keeps them and retries after a restart.
            self.appservice.stopping = True
        if self.admin:  # imports stop between two messages, checkpoints saved (resumable)
            await self.admin.imports.stop()
        if self.m2d:  # Matrix → Discord sends waiting out a 429/5xx give up (kept in the inbox)
            self.m2d.webhooks.stop()
        if not self.discord.is_closed():
            await self.discord.close()
        if self._gateway_task:
            self._gateway_task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._gateway_task
        if self.relay and not self.discord.ready_event.is_set():
            # Jobs queued before the gateway connects (catch-up, imports) wait for a READY
            # that will never come now: waiting for them would hang.
            await self.relay.queues.cancel()
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
            await self.appservice.handlers_idle()  # then the database they write to closes
        self.gateway.closed()
        if self.database:
            await self.database.close()
        if self.metrics_server:
            await self.metrics_server.stop()

    async def run_until_stopped(self) -> None:
        """Start, then run until cancelled (the command line cancels on SIGTERM/SIGINT, see
        :mod:`bridge.interrupt`) or until the Discord connection dies; stops either way."""
        try:
            await self.start()
            assert self._gateway_task is not None
            await asyncio.wait({self._gateway_task})
            if not self._gateway_task.cancelled():
                error = self._gateway_task.exception()
                if error:
                    raise explain_connect_failure(error) from error
        finally:
            await self.stop()
