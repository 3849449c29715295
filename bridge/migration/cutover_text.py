"""Texts of the cut-over (pure): the announcement Discord members read, and the bot's replies.

The announcement is Discord markdown and at most 2000 characters (Discord's message limit);
the replies are Matrix markdown, like every bot command's (bridge/commands/render.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from discord.utils import escape_markdown

from ..discord.slash_replies import fit, matrix_to
from ..plural import counted

# What the read-only cut-over denies @everyone, in Discord's names (shown in the replies).
READ_ONLY_NAMES = (
    "Send Messages, Send Messages in Threads, Create Public Threads and Create Private Threads"
)


@dataclass(frozen=True)
class Problem:
    """A channel where the bot lacks permissions (Discord's names) the cut-over needs."""

    channel_id: int
    name: str
    missing: tuple[str, ...]


@dataclass(frozen=True)
class CutoverOutcome:
    """What one ``cutover`` run did. ``address``: the space's alias, else its room ID.

    ``announced``/``pinned``/``made_read_only`` count this run's channels; ``already_announced``
    those announced by an earlier run of the same cut-over (not posted twice); ``read_only_now``
    the channels whose @everyone overwrite is remembered (read-only, to restore on ``--undo``).
    """

    guild_id: int
    guild_name: str
    address: str
    domain: str
    read_only: bool
    announced: int = 0
    pinned: int = 0
    made_read_only: int = 0
    already_announced: int = 0
    read_only_now: int = 0
    skipped: tuple[str, ...] = ()  # channels the bot no longer finds on Discord
    failures: tuple[str, ...] = ()  # "#name: why", per channel


@dataclass(frozen=True)
class UndoOutcome:
    """What one ``cutover --undo`` run did; ``done``: nothing is left to restore."""

    guild_id: int
    guild_name: str
    put_back: int = 0  # overwrites that existed, written back exactly
    removed: int = 0  # overwrites the cut-over added, deleted
    unpinned: int = 0
    gone: tuple[str, ...] = ()  # channels deleted on Discord since (nothing to restore)
    failures: tuple[str, ...] = field(default_factory=tuple)

    @property
    def done(self) -> bool:
        return not self.failures


def announcement(
    guild_name: str, address: str, domain: str, read_only: bool, message: str = ""
) -> str:
    """The announcement posted (and pinned) in each bridged channel: the admin's ``message``
    first, then the space's address and how to join it from any homeserver (a matrix.to link,
    or the address typed into any client). At most 2000 characters."""
    guild = escape_markdown(guild_name)
    lines = [f"📢 **{guild} is moving to Matrix.**"]
    if message.strip():
        lines += ["", message.strip()]
    lines += [
        "",
        f"Our space on Matrix: `{address}`",
        "How to join, with a Matrix account on any homeserver:",
        f"- open <{matrix_to(address, domain)}> and pick your Matrix app, or",
        f"- in any Matrix app (Element, FluffyChat, …), search for or join `{address}`.",
        "No Matrix account yet? Make one for free on any homeserver (for example matrix.org), "
        "then open the link.",
        "",
    ]
    if read_only:
        lines.append(
            "This channel is now **read-only** on Discord. What is written on Matrix still "
            "appears here."
        )
    else:
        lines.append("This channel stays bridged: what you write here still reaches Matrix.")
    return fit("\n".join(lines))


def refusal(guild_name: str, guild_id: int, problems: list[Problem], again: str) -> str:
    """The bot lacks permissions somewhere: nothing was changed; where, what, and what to do.
    ``again`` is the command to send once fixed."""
    lines = [
        f"Cut-over of **{guild_name}** ({guild_id}) refused; nothing was changed. The Discord "
        f"bot lacks permissions it needs in {counted(len(problems), 'channel')}:",
        "",
    ]
    lines += [f"- **#{p.name}** ({p.channel_id}): {', '.join(p.missing)}" for p in problems]
    lines += [
        "",
        "Give the bot's role these permissions (Server Settings → Roles), or allow them in "
        "those channels (Edit Channel → Permissions, where Manage Roles is called Manage "
        f"Permissions), then send `{again}` again.",
    ]
    return "\n".join(lines)


def cutover_reply(outcome: CutoverOutcome, again: str, undo: str) -> str:
    """The reply to ``cutover``: per channel counts, the space's address, how to undo."""
    guild = f"**{outcome.guild_name}** ({outcome.guild_id})"
    parts = [
        f"announcement posted in {counted(outcome.announced, 'channel')}, "
        f"pinned in {outcome.pinned}"
    ]
    if outcome.already_announced:
        parts.append(f"{counted(outcome.already_announced, 'channel')} announced already")
    if outcome.read_only:
        parts.append(
            f"{counted(outcome.made_read_only, 'channel')} made read-only for @everyone "
            f"({READ_ONLY_NAMES} denied)"
        )
        if (already := outcome.read_only_now - outcome.made_read_only) > 0:
            parts.append(f"{counted(already, 'channel')} read-only already")
    text = f"Cut over {guild} to Matrix: {'; '.join(parts)}."
    if outcome.read_only_now:
        text += (
            f" @everyone's earlier permissions in {counted(outcome.read_only_now, 'channel')} "
            "are remembered, to be restored exactly. Matrix messages keep reaching Discord "
            "through the webhooks."
        )
    space_link = matrix_to(outcome.address, outcome.domain)
    text += f"\n\nSpace address in the announcement: [{outcome.address}]({space_link})."
    if outcome.skipped:
        text += f"\n\nNot found on Discord (deleted?), left out: {', '.join(outcome.skipped)}."
    if outcome.failures:
        text += "\n\n⚠️ Not done in " + counted(len(outcome.failures), "channel") + ":\n\n"
        text += "\n".join(f"- {failure}" for failure in outcome.failures)
        text += f"\n\nSend `{again}` again to finish (done channels are skipped)."
    text += f"\n\nTo undo (restore every overwrite, unpin the announcements): `{undo}`."
    return text


def undo_reply(outcome: UndoOutcome, undo: str) -> str:
    """The reply to ``cutover --undo``."""
    guild = f"**{outcome.guild_name}** ({outcome.guild_id})"
    restored = outcome.put_back + outcome.removed
    text = (
        f"@everyone's permissions restored in {counted(restored, 'channel')} "
        f"({counted(outcome.put_back, 'overwrite')} put back as before, {outcome.removed} "
        f"removed where there was none); {counted(outcome.unpinned, 'announcement')} "
        "unpinned (the messages stay in their channels)."
    )
    if outcome.gone:
        text += f" Deleted on Discord since, nothing to restore: {', '.join(outcome.gone)}."
    if outcome.done:
        return f"Undid the cut-over of {guild}: {text}"
    failures = "\n".join(f"- {failure}" for failure in outcome.failures)
    return (
        f"Undoing the cut-over of {guild} is not finished: {text}\n\n⚠️ Not restored "
        f"yet:\n\n{failures}\n\nThe rest is remembered: send `{undo}` again to finish."
    )


def nothing_to_undo(guild_name: str, guild_id: int, undone_at_ms: int | None = None) -> str:
    """``cutover --undo`` with nothing left: never cut over, or undone already (when)."""
    if undone_at_ms is not None:
        when = datetime.fromtimestamp(undone_at_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"The cut-over of **{guild_name}** ({guild_id}) was undone already, on {when}."
    return f"**{guild_name}** ({guild_id}) has no cut-over to undo."
