"""Executors of ``link`` and ``unlink`` (a Matrix account and a Discord account), and their
texts (pure).

``link CODE`` redeems a code from ``/matrix link`` on Discord; ``link`` alone, in a direct chat
with the bot only, gives a code to type on Discord as ``/matrix link code:CODE``. The flow is
in :mod:`bridge.migration.linking`.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from ..migration import codes
from ..migration.linking import (
    DiscordAccount,
    IssuedCode,
    LinkRefused,
    Redeemed,
    Refusal,
    Someone,
    discord_account,
    issue,
    redeem,
    unlink,
)
from ..permissions import Level
from ..plural import counted
from .context import CommandContext
from .render import Reply, error_reply

DISCORD_LINK = "/matrix link"


async def run_link(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    services, person = context.services, Someone.on_matrix(context.sender)
    try:
        if arguments.code is None:
            if not context.management_room:
                return not_here_reply(context.level, services.bot.mxid, context.prefix)
            return code_reply(await issue(services, person))
        redeemed = await redeem(
            services, person, arguments.code, burn_on_refusal=not context.management_room
        )
    except LinkRefused as refused:
        account = None
        if isinstance(refused.other, int):
            account = await discord_account(services, refused.other)
        return refusal_reply(refused, arguments.code or "", account, context.line("unlink"))
    account = await discord_account(services, redeemed.change.discord_user_id)
    return linked_reply(redeemed, account, context.line("unlink"))


async def run_unlink(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    change = await unlink(context.services, Someone.on_matrix(context.sender))
    if change is None:
        return Reply("Your Matrix account is not linked to a Discord account: nothing to unlink.")
    account = await discord_account(context.services, change.discord_user_id)
    return Reply(
        f"Unlinked: your Matrix account is no longer linked to the Discord account "
        f"{account_text(account)}."
    )


def account_text(account: DiscordAccount) -> str:
    """``**Dana** (`dana`, ID `123`)``, or only the ID when the names are unknown."""
    if account.display_name is None:
        return f"with ID `{account.user_id}`"
    username = f"`{account.username}`, " if account.username else ""
    return f"**{account.display_name}** ({username}ID `{account.user_id}`)"


def utc_time(ms: int) -> str:
    """``15:47 UTC`` for a time in ms since the epoch."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M UTC")


def code_reply(issued: IssuedCode) -> Reply:
    """``link`` in a direct chat: the code and where to type it."""
    minutes = codes.LIFETIME_MS // 60_000
    return Reply(
        f"Your link code: **`{issued.code}`**\n\n"
        f"On Discord, in a server this bridge bridges, run `{DISCORD_LINK}` with the code "
        f"option: `{DISCORD_LINK} code:{issued.code}`. The code works "
        f"once, for {minutes} minutes (until {utc_time(issued.expires_at)}); a new code "
        "replaces it."
    )


def not_here_reply(level: Level, bot: str, prefix: str) -> Reply:
    """``link`` without a code outside a direct chat: a code here could be read by others."""
    how = (
        f"Send `link` in a direct chat with me ({bot}) instead, or run"
        if level >= Level.USER
        else "Instead run"
    )
    return error_reply(
        "I give link codes only in a direct chat with me: anyone in this room could use a "
        f"code shown here to link their Discord account to your Matrix account. {how} "
        f"`{DISCORD_LINK}` on Discord and send the code it gives you here as "
        f"`{prefix} link CODE`."
    )


def linked_reply(redeemed: Redeemed, account: DiscordAccount, unlink_line: str) -> Reply:
    """A code redeemed on Matrix: which Discord account is now linked."""
    who = account_text(account)
    if redeemed.already:
        return Reply(f"Your Matrix account was already linked to the Discord account {who}.")
    return Reply(
        f"Linked: your Matrix account is now linked to the Discord account {who}. "
        f"Send `{unlink_line}` to undo it."
    )


def refusal_reply(
    refused: LinkRefused, typed: str, account: DiscordAccount | None, unlink_line: str
) -> Reply:
    """Why ``link`` did not work, and what to do (on Matrix)."""
    new = f"Run `{DISCORD_LINK}` on Discord for a new code."
    minutes = codes.LIFETIME_MS // 60_000
    match refused.refusal:
        case Refusal.LINKED_ALREADY:
            who = account_text(account) if account else "a Discord account"
            then = (
                "then get a new code (this one was shown in this room, so it is spent)"
                if refused.burnt
                else "then send the code again"
            )
            text = (
                f"Your Matrix account is linked to the Discord account {who} already. "
                f"Send `{unlink_line}` first, {then}."
            )
        case Refusal.NOT_A_CODE:
            text = (
                f"`{typed.strip()[:40].replace('`', '')}` is not a link code: codes have 8 "
                "letters and digits, without 0, O, 1, I or L, "
                f"like `ABCD-EFGH`. {new}"
            )
        case Refusal.UNKNOWN:
            text = (
                f"No such link code: check it against what `{DISCORD_LINK}` showed on Discord. "
                f"After {codes.WRONG_CODES_ALLOWED} wrong codes you must wait {minutes} minutes."
            )
        case Refusal.TOO_MANY:
            wait = max(1, -(-refused.wait_ms // 60_000))
            text = f"Too many wrong link codes: try again in {counted(wait, 'minute')}."
        case Refusal.WRONG_SIDE:
            code = codes.normalise(typed)
            text = (
                "That code was made here on Matrix: type it on Discord, as "
                f"`{DISCORD_LINK} code:{codes.shown(code) if code else 'CODE'}`. To link from "
                "here instead, run "
                f"`{DISCORD_LINK}` on Discord and send its code here."
            )
        case Refusal.USED:
            text = f"That code was used already: a code links once. {new}"
        case Refusal.EXPIRED:
            text = (
                f"That code has expired: codes last {minutes} minutes, and a newer code "
                f"replaces an older one. {new}"
            )
        case Refusal.OTHER_LINKED:
            then = "a new code" if refused.burnt else "the code again"
            text = (
                "The Discord account that made this code is linked to another Matrix account "
                f"already. Its owner runs `/matrix unlink` on Discord first; then send {then}."
            )
    return error_reply(text)


def linked_from_discord_notice(mxid: str, account: DiscordAccount, linked: bool) -> Reply:
    """In the user's direct chat with the bot, after a link or unlink done on Discord."""
    who = account_text(account)
    if linked:
        return Reply(
            f"Your Matrix account {mxid} is now linked to the Discord account {who} (a code "
            "typed on Discord). If that was not you, send `unlink`."
        )
    return Reply(
        f"The Discord account {who} unlinked itself from your Matrix account {mxid} "
        "(`/matrix unlink` on Discord)."
    )
