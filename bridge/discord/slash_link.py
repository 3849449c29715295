"""``/matrix link [code]`` and ``/matrix unlink``: what they do, returning the reply's text.

Any member of a bridged guild may link their own account (no permission needed); replies
are ephemeral (see :mod:`.slash`). A link made here is also told on Matrix, in the account's
direct chat with the bridge bot if it has one: a code typed on Discord by someone else
would otherwise go unnoticed there.
"""

from __future__ import annotations

import logging

import discord

from ..actions.admin.services import AdminServices
from ..commands.run_link import linked_from_discord_notice
from ..migration.linking import (
    DiscordAccount,
    LinkRefused,
    Someone,
    issue,
    redeem,
    tell_on_matrix,
    unlink,
)
from . import link_replies, slash_replies

log = logging.getLogger("bridge.discord.slash")


async def link(services: AdminServices, interaction: discord.Interaction, code: str | None) -> str:
    """Issue a code for Matrix (``code`` None) or redeem one made on Matrix."""
    guild_id = interaction.guild_id
    if guild_id is None:
        return slash_replies.not_in_guild_reply()
    if await services.tables.guilds.get(guild_id) is None:
        guild = interaction.guild
        return link_replies.not_bridged_reply(guild.name if guild else str(guild_id))
    user = interaction.user
    person = Someone.on_discord(user.id)
    bot, prefix = services.bot.mxid, services.config["bridge.command_prefix"]
    try:
        if code is None:
            return link_replies.code_reply(await issue(services, person), bot, prefix)
        redeemed = await redeem(services, person, code)
    except LinkRefused as refused:
        return link_replies.refusal_reply(refused, code or "", bot, prefix)
    if not redeemed.already:
        await _tell(services, redeemed.change.mxid, user, linked=True)
    return link_replies.linked_reply(redeemed)


async def unlink_member(services: AdminServices, interaction: discord.Interaction) -> str:
    """End the member's link, wherever they run it (a guild not bridged too)."""
    if interaction.guild_id is None:
        return slash_replies.not_in_guild_reply()
    change = await unlink(services, Someone.on_discord(interaction.user.id))
    if change is not None:
        await _tell(services, change.mxid, interaction.user, linked=False)
    return link_replies.unlinked_reply(change.mxid if change else None)


async def _tell(
    services: AdminServices, mxid: str, user: discord.User | discord.Member, linked: bool
) -> None:
    account = DiscordAccount(user.id, user.global_name or user.name, user.name)
    notice = linked_from_discord_notice(mxid, account, linked)
    if not await tell_on_matrix(services, mxid, notice.content()):
        log.debug("%s has no direct chat with the bot: the link is not told on Matrix", mxid)
