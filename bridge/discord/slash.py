"""Discord's ``/matrix`` application command: ``info``, ``bridge``, ``unbridge``, ``link``
and ``unlink`` (members' own accounts, see :mod:`.slash_link`), ``migration``.

Built on discord.py's ``app_commands`` (one :class:`~discord.app_commands.CommandTree` on
the bridge's client). ``/matrix`` is a guild command, registered in every guild the bot is in
once discord.py has it (``on_guild_available``, after READY) and in every guild it joins
(``on_guild_join``), so ``/matrix bridge`` works in a guild not bridged yet. Every reply is
ephemeral and every interaction is answered, errors included. The texts are in
:mod:`.slash_replies`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from ..actions.admin import bridging
from ..actions.admin.services import ActionError, Actor, AdminServices
from ..migration.progress import migration_report, only_channels
from ..migration.progress_text import discord_reply_text
from . import slash_link
from . import slash_replies as replies
from .slash_replies import WhereOnMatrix

log = logging.getLogger("bridge.discord.slash")

INVITE_URL = "https://discord.com/oauth2/authorize?client_id={id}&scope=bot+applications.commands"


class MatrixGroup(app_commands.Group):
    """``/matrix`` and its subcommands, bound to the bridge's admin services."""

    def __init__(self, services: AdminServices) -> None:
        super().__init__(
            name="matrix",
            description="This server on Matrix: its addresses; bridge or unbridge it",
            guild_only=True,
        )
        self.services = services

    @app_commands.command(description="The Matrix addresses of this server and this channel")
    async def info(self, interaction: discord.Interaction) -> None:
        try:
            text = replies.info_reply(await where_on_matrix(self.services, interaction))
        except Exception:
            log.exception("/matrix info failed in channel %s", interaction.channel_id)
            text = replies.failure_reply()
        await reply(interaction, text)

    @app_commands.command(description="Bridge this server to Matrix (needs Manage Server)")
    async def bridge(self, interaction: discord.Interaction) -> None:
        if await refused(interaction, "bridge"):
            return
        guild_id, actor = interaction.guild_id, actor_of(interaction)
        assert guild_id is not None  # refused() answers outside guilds

        async def work() -> str:
            outcome = await bridging.bridge_guild(self.services, guild_id, actor)
            return replies.bridged_reply(
                outcome.name,
                outcome.space_room_id,
                self.services.config["homeserver.domain"],
                outcome.rooms_created,
                outcome.already_bridged,
            )

        await answer_slowly(interaction, "bridge", work)

    @app_commands.command(description="Stop bridging this server to Matrix (needs Manage Server)")
    @app_commands.describe(
        delete_rooms="Also empty the Matrix rooms (default: keep them as an archive)"
    )
    async def unbridge(self, interaction: discord.Interaction, delete_rooms: bool = False) -> None:
        if await refused(interaction, "unbridge"):
            return
        guild_id, actor = interaction.guild_id, actor_of(interaction)
        assert guild_id is not None

        async def work() -> str:
            from ..actions.admin import unbridging  # noqa: PLC0415 (written apart, loaded late)

            outcome = await unbridging.unbridge(
                self.services,
                guild_id,
                delete_rooms=delete_rooms,
                actor=actor,
                reason=f"unbridged on Discord by {interaction.user} with /matrix unbridge",
            )
            return replies.unbridged_reply(
                outcome.name,
                outcome.rooms,
                outcome.deleted,
                outcome.not_removed,
                outcome.bot_stayed,
            )

        await answer_slowly(interaction, "unbridge", work)

    @app_commands.command(description="Link your Discord account to your Matrix account")
    @app_commands.describe(
        code="A code the bridge bot gave you on Matrix; leave it out to get a code to type on Matrix"
    )
    async def link(self, interaction: discord.Interaction, code: str | None = None) -> None:
        """Any member of a bridged guild, for their own account (see :mod:`.slash_link`)."""
        await answer_slowly(
            interaction, "link", lambda: slash_link.link(self.services, interaction, code)
        )

    @app_commands.command(description="Unlink your Discord account from your Matrix account")
    async def unlink(self, interaction: discord.Interaction) -> None:
        await answer_slowly(
            interaction, "unlink", lambda: slash_link.unlink_member(self.services, interaction)
        )

    @app_commands.command(
        description="How far this server moved to Matrix: linked members, messages"
    )
    async def migration(self, interaction: discord.Interaction) -> None:
        """Open to every member; the names of members not linked yet only with Manage Server."""
        guild_id = interaction.guild_id
        if guild_id is None:
            await reply(interaction, replies.not_in_guild_reply())
            return
        show_names = interaction.permissions.manage_guild

        def can_view(channel_id: int) -> bool:
            """The member sees the channel on Discord (private ones stay hidden)."""
            channel = (
                interaction.guild.get_channel_or_thread(channel_id) if interaction.guild else None
            )
            user = interaction.user
            return (
                channel is not None
                and isinstance(user, discord.Member)
                and channel.permissions_for(user).view_channel
            )

        async def work() -> str:
            report = await migration_report(self.services, guild_id)
            if not show_names:  # managers see every channel, others the ones they can see
                report = only_channels(report, can_view)
            return discord_reply_text(report, show_names=show_names)

        await answer_slowly(interaction, "migration", work)


def actor_of(interaction: discord.Interaction) -> Actor:
    return Actor("discord", discord_user_id=interaction.user.id)


async def refused(interaction: discord.Interaction, subcommand: str) -> bool:
    """Answer and return True when the member may not run ``subcommand``: outside a guild,
    or without Manage Server in the channel (``interaction.permissions``, as Discord sends
    them: discord.py cannot limit one subcommand to a permission)."""
    if interaction.guild_id is None:
        await reply(interaction, replies.not_in_guild_reply())
        return True
    if not interaction.permissions.manage_guild:
        log.info(
            "/matrix %s refused to %s in guild %s: no Manage Server",
            subcommand,
            interaction.user.id,
            interaction.guild_id,
        )
        await reply(interaction, replies.missing_permission_reply(subcommand))
        return True
    return False


async def reply(interaction: discord.Interaction, text: str) -> None:
    """Answer ephemerally: the response if not given yet, else a follow-up. Never raises."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as error:
        log.warning("Could not answer interaction %s: %s", interaction.id, error)


async def answer_slowly(
    interaction: discord.Interaction, subcommand: str, work: Callable[[], Awaitable[str]]
) -> None:
    """Defer (the member sees the bot thinking, ephemerally), run ``work``, then put its text
    (or the error's) in place of the thinking message. Never raises."""
    try:
        await interaction.response.defer(ephemeral=True, thinking=True)
    except discord.HTTPException as error:
        log.warning("Could not defer /matrix %s (%s): %s", subcommand, interaction.id, error)
        return
    try:
        text = await work()
    except ActionError as error:
        text = replies.action_error_reply(str(error))
    except Exception:
        log.exception("/matrix %s failed in guild %s", subcommand, interaction.guild_id)
        text = replies.failure_reply()
    try:
        await interaction.edit_original_response(content=text)
    except discord.HTTPException as error:
        log.warning("Could not answer /matrix %s (%s): %s", subcommand, interaction.id, error)


async def where_on_matrix(services: AdminServices, interaction: discord.Interaction) -> WhereOnMatrix:  # fmt: skip
    """The guild's space and the channel's room, from the database. A thread of a text
    channel without a room of its own is in its parent's room."""
    tables, guild = services.tables, interaction.guild
    guild_id = interaction.guild_id or 0
    channel = interaction.channel
    channel_id = interaction.channel_id or 0
    row = await tables.guilds.get(guild_id)
    portal = await tables.portals.get(channel_id)
    in_parent = (
        (portal is None or portal.room_id is None)
        and isinstance(channel, discord.Thread)
        and isinstance(channel.parent, discord.TextChannel)  # not a forum post: in its room
    )
    if in_parent:
        portal = await tables.portals.get(channel.parent_id)  # type: ignore[union-attr]
    room_id = portal.room_id if portal is not None and row is not None else None
    # Hidden from @everyone on Discord: the room is invite-only (see convert/d2m/room_state).
    bridged_channel = guild.get_channel_or_thread(portal.discord_id) if guild and portal else None
    private = (
        bridged_channel is not None
        and not bridged_channel.permissions_for(
            guild.default_role  # type: ignore[union-attr]
        ).view_channel
    )
    return WhereOnMatrix(
        guild_name=guild.name if guild is not None else str(guild_id),
        space_room_id=row.space_room_id if row is not None else None,
        channel_name=getattr(channel, "name", None) or str(channel_id),
        room_id=room_id,
        alias=services.alias_of(portal.discord_id) if room_id and portal else None,
        domain=services.config["homeserver.domain"],
        in_parent=in_parent,
        private=private,
    )


class SlashCommands:
    """The command tree with ``/matrix``, and its registration in the bot's guilds."""

    def __init__(self, client: discord.Client, services: AdminServices) -> None:
        self.client = client
        self.tree: app_commands.CommandTree = app_commands.CommandTree(client)
        self.group = MatrixGroup(services)
        # Also global in the tree, never synced globally: it answers /matrix in a guild
        # registered by an earlier run even if this run's registration there failed.
        self.tree.add_command(self.group)
        self.tree.error(self.on_tree_error)
        self.registered: set[int] = set()  # guilds where /matrix is registered since start-up
        chain_event(client, "on_guild_available", self.on_guild_available)
        chain_event(client, "on_guild_join", self.register)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        """At start-up (and after an outage) each guild becomes available: register once."""
        if guild.id not in self.registered:
            await self.register(guild)

    async def register(self, guild: discord.Guild) -> bool:
        """Register ``/matrix`` in the guild (a bulk overwrite of the bot's guild commands).
        Failures are logged, with what to do; returns whether it worked."""
        self.tree.add_command(self.group, guild=guild, override=True)
        try:
            await self.tree.sync(guild=guild)
        except discord.Forbidden as error:
            app_id = self.client.application_id
            log.error(
                "Could not register /matrix in the Discord server %s (%s): %s. The bot was "
                "probably invited without the applications.commands scope; invite it again "
                "with %s (its permissions stay), then restart the bridge.",
                guild.name,
                guild.id,
                error,
                INVITE_URL.format(id=app_id),
            )
            return False
        except app_commands.MissingApplicationID:
            log.error(
                "Could not register /matrix in %s: the application ID is unknown; set "
                "discord.application_id in the config.",
                guild.id,
            )
            return False
        except (discord.HTTPException, app_commands.AppCommandError) as error:
            log.error("Could not register /matrix in the Discord server %s: %s", guild.id, error)
            return False
        self.registered.add(guild.id)
        log.info("Registered /matrix in the Discord server %s (%s)", guild.name, guild.id)
        return True

    async def on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """What escaped a command (e.g. an outdated registration): logged and answered."""
        log.error("/matrix failed in guild %s: %s", interaction.guild_id, error, exc_info=error)
        await reply(interaction, replies.failure_reply())


def chain_event(client: discord.Client, name: str, handler: Callable[..., Awaitable[Any]]) -> None:
    """Add ``handler`` for the event ``name`` (``on_…``): ``client.event`` keeps one handler
    per name, so one set before keeps being called, after this one."""
    previous: Callable[..., Awaitable[Any]] | None = getattr(client, name, None)

    async def both(*args: Any) -> None:
        try:
            await handler(*args)
        finally:
            if previous is not None:
                await previous(*args)

    both.__name__ = name
    client.event(both)


def register_slash_commands(client: discord.Client, services: AdminServices) -> SlashCommands:
    """Give the client ``/matrix``; it registers itself in each guild as the guild arrives."""
    return SlashCommands(client, services)
