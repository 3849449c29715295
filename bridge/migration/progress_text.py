"""A guild's migration progress as text (pure): the ``migration`` bot command's reply in
Matrix (markdown) and ``/matrix migration``'s on Discord (Discord markdown, 2000 characters
at most). Names of members who have not linked are shown to admins only: on Discord to
members with Manage Server, to everyone else just the numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from discord.utils import escape_markdown

from ..discord.slash_replies import fit
from ..plural import counted
from .progress import MigrationReport, ShareTrend, trend

#: Not-linked names listed before "and N more".
MAX_NAMES = 30
#: Channels listed before "and N more".
MAX_CHANNELS = 15
_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")

ARROWS = {"up": "↑", "down": "↓", "steady": "→"}


def percent(share: float) -> str:
    """0.0–1.0 as a whole percentage: ``"37%"``."""
    return f"{share:.0%}"


def trend_words(share: ShareTrend, then: str) -> str:
    """``"↑ up from 40% a week ago"``, ``"↓ down from …"`` or ``"→ steady (40% a week ago)"``;
    ``then`` names the earlier point ("a week ago", "the 7 days before")."""
    arrow = ARROWS[share.direction]
    if share.direction == "steady":
        return f"{arrow} steady ({percent(share.before)} {then})"
    return f"{arrow} {share.direction} from {percent(share.before)} {then}"


def matrix_escape(text: str) -> str:
    """Text shown as it is in a markdown reply (names may hold ``*``, ``_``…)."""
    return _MARKDOWN.sub(r"\\\1", text)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _lines(
    report: MigrationReport,
    *,
    show_names: bool,
    escape: Callable[[str], str],
    code: Callable[[str], str],
) -> list[str]:
    """The reply's lines, shared by both sides (they differ in escaping and in names)."""
    found = trend(report.days)
    active, linked = report.active, report.linked
    share_now = percent(found.linked_share.now)
    lines = [f"**Migration of {escape(report.guild_name)}** ({code(str(report.guild_id))})", ""]
    if active == 0:
        lines.append("No member sent a message in the last 30 days.")
    else:
        lines.append(
            f"**Linked accounts:** {linked} of {counted(active, 'member')} active in the last 30 "
            f"days ({share_now}), {trend_words(found.linked_share, 'a week ago')}."
        )
    missing = report.not_linked
    if missing:
        lines.append("")  # a paragraph of its own (markdown joins adjacent lines)
    if missing and show_names:
        names = ", ".join(escape(member.name) for member in missing[:MAX_NAMES])
        more = f" and {len(missing) - MAX_NAMES} more" if len(missing) > MAX_NAMES else ""
        lines.append(f"**Not linked yet:** {names}{more}.")
    elif missing:
        lines.append(f"**Not linked yet:** {counted(len(missing), 'active member')}.")
    matrix_7 = percent(found.matrix_share.now)
    lines += [
        "",
        f"**Sent from Matrix, last 7 days:** {matrix_7} of the messages, "
        f"{trend_words(found.matrix_share, 'the 7 days before')}.",
    ]
    for channel in report.channels[:MAX_CHANNELS]:
        total = channel.from_matrix + channel.from_discord
        lines.append(
            f"- #{escape(channel.name)}: {percent(channel.share)} "
            f"({channel.from_matrix} of {counted(total, 'message')})"
        )
    if len(report.channels) > MAX_CHANNELS:
        lines.append(f"- and {counted(len(report.channels) - MAX_CHANNELS, 'channel')} more")
    lines += ["", cutover_line(report)]
    return lines


def cutover_line(report: MigrationReport) -> str:
    """Where the cut-over stands, one line."""
    cutover = report.cutover
    if cutover is None:
        return "**Cut-over:** not yet."
    if cutover.undone_at_ms is not None:
        return f"**Cut-over:** undone on {_when(cutover.undone_at_ms)}."
    how = "read-only on Discord" if cutover.read_only else "announced"
    return (
        f"**Cut-over:** {how} since {_when(cutover.started_at_ms)}, "
        f"{counted(cutover.announced_channels, 'channel')} announced."
    )


def matrix_reply_text(report: MigrationReport) -> str:
    """The ``migration <guild>`` reply (markdown; for the bridge's admins, names included)."""
    return "\n".join(
        _lines(report, show_names=True, escape=matrix_escape, code=lambda text: f"`{text}`")
    )


def discord_reply_text(report: MigrationReport, *, show_names: bool) -> str:
    """The ``/matrix migration`` reply: names of members not linked yet only when
    ``show_names`` (the member has Manage Server). Cut to 2000 characters."""
    text = "\n".join(
        _lines(report, show_names=show_names, escape=escape_markdown, code=lambda t: f"`{t}`")
    )
    return fit(text)
