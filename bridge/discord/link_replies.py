"""The texts of ``/matrix link`` and ``/matrix unlink`` (pure): Discord markdown, ephemeral,
at most 2000 characters. The flow is in :mod:`bridge.migration.linking`."""

from __future__ import annotations

from discord.utils import escape_markdown

from ..migration import codes
from ..migration.linking import IssuedCode, LinkRefused, Redeemed, Refusal
from ..plural import counted
from .slash_replies import fit

MINUTES = codes.LIFETIME_MS // 60_000


def code_reply(issued: IssuedCode, bot_mxid: str, prefix: str) -> str:
    """``/matrix link`` without a code: the code and exactly what to send on Matrix.
    ``<t:…:R>`` is Discord's timestamp markup (shown in the reader's time zone)."""
    expires = issued.expires_at // 1000
    return fit(
        f"Your link code: **`{issued.code}`** (works once, expires <t:{expires}:R>).\n"
        f"On Matrix, send `link {issued.code}` to `{bot_mxid}` in a direct chat with it, or "
        f"`{prefix} link {issued.code}` in a bridged room. A new code replaces this one."
    )


def linked_reply(redeemed: Redeemed) -> str:
    """A code from Matrix redeemed on Discord: which Matrix account is now linked."""
    mxid = redeemed.change.mxid
    if redeemed.already:
        return f"Your Discord account was already linked to the Matrix account `{mxid}`."
    return (
        f"Linked: your Discord account is now linked to the Matrix account `{mxid}`. "
        "`/matrix unlink` undoes it."
    )


def unlinked_reply(mxid: str | None) -> str:
    """``/matrix unlink``: done, or nothing to do (``mxid`` None)."""
    if mxid is None:
        return "Your Discord account is not linked to a Matrix account: nothing to unlink."
    return f"Unlinked: your Discord account is no longer linked to the Matrix account `{mxid}`."


def not_bridged_reply(guild_name: str) -> str:
    """``/matrix link`` in a guild the bridge does not bridge."""
    return fit(
        f"**{escape_markdown(guild_name)}** is not bridged to Matrix, so `/matrix link` does "
        "not work here. Run it in a server the bridge bridges."
    )


def refusal_reply(refused: LinkRefused, typed: str, bot_mxid: str, prefix: str) -> str:
    """Why ``/matrix link`` did not work, and what to do (on Discord)."""
    new = f"Send `link` to `{bot_mxid}` in a direct chat on Matrix for a new code."
    match refused.refusal:
        case Refusal.LINKED_ALREADY:
            text = (
                f"Your Discord account is linked to the Matrix account `{refused.other}` "
                "already. Run `/matrix unlink` first, then this again."
            )
        case Refusal.NOT_A_CODE:
            shown = escape_markdown(typed.strip()[:40].replace("`", ""))
            text = (
                f"{shown} is not a link code: codes have 8 letters and digits, without 0, "
                f"O, 1, I or L, like `ABCD-EFGH`. {new}"
            )
        case Refusal.UNKNOWN:
            text = (
                "No such link code: check it against what the bridge bot sent you on Matrix. "
                f"After {codes.WRONG_CODES_ALLOWED} wrong codes you must wait {MINUTES} minutes."
            )
        case Refusal.TOO_MANY:
            wait = max(1, -(-refused.wait_ms // 60_000))
            text = f"Too many wrong link codes: try again in {counted(wait, 'minute')}."
        case Refusal.WRONG_SIDE:
            code = codes.normalise(typed)
            shown = codes.shown(code) if code else "CODE"
            text = (
                "That code was made here on Discord: it is for Matrix. Send "
                f"`link {shown}` to `{bot_mxid}` in a direct chat with it, or "
                f"`{prefix} link {shown}` in a bridged room."
            )
        case Refusal.USED:
            text = f"That code was used already: a code links once. {new}"
        case Refusal.EXPIRED:
            text = (
                f"That code has expired: codes last {MINUTES} minutes, and a newer code "
                f"replaces an older one. {new}"
            )
        case Refusal.OTHER_LINKED:
            then = "a new code" if refused.burnt else "the code again"
            text = (
                "The Matrix account that made this code is linked to another Discord account "
                f"already. It must send `unlink` to `{bot_mxid}` first; then use {then}."
            )
    return fit(text)
