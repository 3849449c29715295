"""Where a guild's migration stands: who of its active members linked a Matrix account, how
much of the talk comes from Matrix per channel, and how both moved over the last 30 days.

The numbers come from what the bridge stored anyway: one ``message_part`` row (part 0) per
Discord message, either way, and the ``account_link`` history. The database aggregates the
messages (bridge/migration/progress_query.py); this module turns the aggregated rows into a
:class:`MigrationReport` without further I/O (:func:`build_report`), and into the JSON the
provisioning API answers and the migration page draws (:func:`report_json`).

Days are UTC days. A member is a Discord user who sent a message in the guild (from Discord,
through their ghost, or from Matrix through their linked account); bots and webhook authors
are not members, nor are Matrix users who never linked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ..db.rows import AccountLinkRow
from .progress_query import (
    DAY_MS,
    ActivityRow,
    ChannelInfo,
    ProgressInputs,
    fetch_progress_inputs,
)

if TYPE_CHECKING:
    from ..actions.admin.services import AdminServices

#: Days of activity that make a member "active", and the days the report draws.
WINDOW_DAYS = 30
#: Days of the per-channel Matrix share (and of each half of the Matrix share trend).
SHARE_DAYS = 7
#: A change of a share smaller than this (0.5 percentage points) reads as "steady".
STEADY = 0.005


@dataclass(frozen=True)
class MemberProgress:
    """A member active in the last 30 days: their name, linked account and newest message."""

    discord_user_id: int
    name: str  # puppet displayname, else the guild member's display name, else the id
    mxid: str | None  # their current linked Matrix account, if any
    last_active_ms: int  # their newest message in the guild (from either side), ms


@dataclass(frozen=True)
class ChannelShare:
    """A bridged channel's messages of the last 7 days, by the side they were sent from."""

    channel_id: int
    name: str
    room_id: str | None
    from_matrix: int  # message_part kind "matrix:%"
    from_discord: int
    share: float  # from_matrix / (from_matrix + from_discord), 0.0 when both are 0


@dataclass(frozen=True)
class DayPoint:
    """One UTC day of the report."""

    day: str  # "YYYY-MM-DD"
    active: int  # members active in the 30 days up to and including that day
    linked: int  # of those, how many were linked at the end of that day
    from_matrix: int  # messages that day sent from Matrix (whole guild)
    from_discord: int  # messages that day sent on Discord


@dataclass(frozen=True)
class CutoverState:
    """The guild's cut-over (bridge/migration cut-over part), as stored."""

    read_only: bool
    started_at_ms: int
    started_by: str
    message: str
    undone_at_ms: int | None
    announced_channels: int  # rows in cutover_announcement for the guild
    overwrites_kept: int  # rows in cutover_overwrite for the guild (restored on --undo)


@dataclass(frozen=True)
class MigrationReport:
    """A guild's migration progress at ``generated_at_ms``."""

    guild_id: int
    guild_name: str
    generated_at_ms: int
    members: list[MemberProgress]  # active in the last 30 days, newest activity first
    channels: list[ChannelShare]  # bridged channels, by Matrix share descending
    days: list[DayPoint]  # the last 30 days, oldest first
    cutover: CutoverState | None  # None: never cut over

    @property
    def active(self) -> int:
        return len(self.members)

    @property
    def linked(self) -> int:
        return sum(1 for member in self.members if member.mxid)

    @property
    def not_linked(self) -> list[MemberProgress]:
        return [member for member in self.members if not member.mxid]


@dataclass(frozen=True)
class ShareTrend:
    """A share (0.0–1.0) now and a week before, and which way it went."""

    now: float
    before: float

    @property
    def direction(self) -> str:
        """ "up", "down" or "steady" (a change under half a percentage point)."""
        if self.now - self.before >= STEADY:
            return "up"
        if self.before - self.now >= STEADY:
            return "down"
        return "steady"


@dataclass(frozen=True)
class Trend:
    """How the migration moved in a week, read from :attr:`MigrationReport.days`.

    ``linked_share``: linked / active members at the end of the last day, against the end of
    the day 7 days earlier. ``matrix_share``: the share of messages sent from Matrix in the
    last 7 days, against the 7 days before.
    """

    linked_share: ShareTrend
    matrix_share: ShareTrend


def ratio(part: int, whole: int) -> float:
    """``part / whole``, 0.0 for an empty whole."""
    return part / whole if whole else 0.0


def trend(days: Sequence[DayPoint]) -> Trend:
    """The week's trend of a report's ``days`` (oldest first; fewer than 14 days read as
    zeros before the first)."""
    empty = DayPoint("", 0, 0, 0, 0)
    padded = [empty] * max(0, 2 * SHARE_DAYS - len(days)) + list(days)
    last, week_ago = padded[-1], padded[-1 - SHARE_DAYS]
    recent, earlier = padded[-SHARE_DAYS:], padded[-2 * SHARE_DAYS : -SHARE_DAYS]

    def matrix_share(points: Sequence[DayPoint]) -> float:
        matrix = sum(point.from_matrix for point in points)
        return ratio(matrix, matrix + sum(point.from_discord for point in points))

    return Trend(
        ShareTrend(ratio(last.linked, last.active), ratio(week_ago.linked, week_ago.active)),
        ShareTrend(matrix_share(recent), matrix_share(earlier)),
    )


def report_json(report: MigrationReport) -> dict[str, Any]:
    """The report as the provisioning API answers it (``GET …/guilds/{id}/migration``) and
    the migration page draws it: the dataclass fields in snake case, snowflakes as strings
    (JavaScript numbers lose their last digits), shares as floats 0.0–1.0, plus ``active``,
    ``linked`` and ``trend`` ({"linked_share"|"matrix_share": {"now", "before",
    "direction"}})."""
    found = trend(report.days)
    cutover = report.cutover
    return {
        "guild_id": str(report.guild_id),
        "guild_name": report.guild_name,
        "generated_at_ms": report.generated_at_ms,
        "active": report.active,
        "linked": report.linked,
        "members": [
            {
                "discord_user_id": str(member.discord_user_id),
                "name": member.name,
                "mxid": member.mxid,
                "last_active_ms": member.last_active_ms,
            }
            for member in report.members
        ],
        "channels": [
            {
                "channel_id": str(channel.channel_id),
                "name": channel.name,
                "room_id": channel.room_id,
                "from_matrix": channel.from_matrix,
                "from_discord": channel.from_discord,
                "share": channel.share,
            }
            for channel in report.channels
        ],
        "days": [
            {
                "day": point.day,
                "active": point.active,
                "linked": point.linked,
                "from_matrix": point.from_matrix,
                "from_discord": point.from_discord,
            }
            for point in report.days
        ],
        "cutover": None
        if cutover is None
        else {
            "read_only": cutover.read_only,
            "started_at_ms": cutover.started_at_ms,
            "started_by": cutover.started_by,
            "message": cutover.message,
            "undone_at_ms": cutover.undone_at_ms,
            "announced_channels": cutover.announced_channels,
            "overwrites_kept": cutover.overwrites_kept,
        },
        "trend": {
            name: {"now": share.now, "before": share.before, "direction": share.direction}
            for name, share in (
                ("linked_share", found.linked_share),
                ("matrix_share", found.matrix_share),
            )
        },
    }


# ---- building the report from aggregated rows (pure) ----------------------------------------


def day_label(day: int) -> str:
    """A day number (days since 1970-01-01, UTC) as "YYYY-MM-DD"."""
    return (date(1970, 1, 1) + timedelta(days=day)).isoformat()


def linked_at_end(links: Iterable[AccountLinkRow], day: int) -> dict[int, str]:
    """Discord user id → the Matrix account they were linked to at the end of ``day``."""
    end_ms = (day + 1) * DAY_MS
    linked: dict[int, str] = {}
    for row in sorted(links, key=lambda link: link.linked_at):
        if row.linked_at < end_ms and (row.unlinked_at is None or row.unlinked_at >= end_ms):
            linked[row.discord_user_id] = row.mxid
    return linked


def member_of(
    sender_mxid: str,
    day: int,
    ghost_user: Callable[[str], int | None],
    links_of: Mapping[str, Sequence[AccountLinkRow]],
) -> int | None:
    """The Discord member who sent a message on ``day``: the ghost's user, else the Discord
    user the (real) Matrix sender was linked to at some time that day (``links_of``: the
    link history by Matrix account); None for webhook authors, the bridge's own users and
    Matrix users without a link."""
    user = ghost_user(sender_mxid)
    if user is not None:
        return user
    start_ms, end_ms = day * DAY_MS, (day + 1) * DAY_MS
    found = [
        row
        for row in links_of.get(sender_mxid, ())
        if row.linked_at < end_ms and (row.unlinked_at is None or row.unlinked_at > start_ms)
    ]
    return max(found, key=lambda row: row.linked_at).discord_user_id if found else None


def build_report(
    *,
    guild_id: int,
    guild_name: str,
    now_ms: int,
    rows: Iterable[ActivityRow],
    channels: Sequence[ChannelInfo],
    ghost_user: Callable[[str], int | None],
    bots: set[int],
    links: Sequence[AccountLinkRow],
    names: Callable[[int], str],
    cutover: CutoverState | None,
) -> MigrationReport:
    """The report from the guild's aggregated message rows (at least the last 59 days: the
    first drawn day looks 30 days back).

    ``ghost_user`` maps a ghost MXID to its Discord user id (None for anyone else, and for
    webhook authors); ``bots`` are Discord user ids of bots (not members); ``links`` is the
    whole ``account_link`` history; ``names`` gives a member's name. Rows of rooms that are
    not one of ``channels``' rooms are left out.
    """
    today = now_ms // DAY_MS
    first = today - WINDOW_DAYS + 1
    channel_of_room = {info.room_id: info for info in channels}
    per_channel: dict[int, list[int]] = {info.channel_id: [0, 0] for info in channels}
    per_day: dict[int, list[int]] = {day: [0, 0] for day in range(first, today + 1)}
    active_days: dict[int, set[int]] = {}
    last_active: dict[int, int] = {}
    links_of: dict[str, list[AccountLinkRow]] = {}
    for link in links:
        links_of.setdefault(link.mxid, []).append(link)
    for row in rows:
        info = channel_of_room.get(row.room_id)
        if info is None or row.day > today:
            continue
        side = 0 if row.from_matrix else 1
        if row.day in per_day:
            per_day[row.day][side] += row.count
        if row.day > today - SHARE_DAYS:
            per_channel[info.channel_id][side] += row.count
        user = member_of(row.sender_mxid, row.day, ghost_user, links_of)
        if user is None or user in bots:
            continue
        active_days.setdefault(user, set()).add(row.day)
        last_active[user] = max(last_active.get(user, 0), row.last_ms)

    current = {row.discord_user_id: row.mxid for row in links if row.unlinked_at is None}
    members = [
        MemberProgress(user, names(user), current.get(user), last_active[user])
        for user, days in active_days.items()
        if max(days) >= first
    ]
    members.sort(key=lambda member: (-member.last_active_ms, member.discord_user_id))

    # Day → members active in the 30 days up to it: each active day counts for 30 days (each
    # drawn day is visited once per member, however many days they were active).
    active_on: dict[int, set[int]] = {day: set() for day in range(first, today + 1)}
    for user, seen in active_days.items():
        covered = first - 1  # the last drawn day already counted for this member
        for seen_day in sorted(seen):
            end = min(seen_day + WINDOW_DAYS - 1, today)
            for day in range(max(seen_day, covered + 1, first), end + 1):
                active_on[day].add(user)
            covered = max(covered, end)
    days = []
    for day in range(first, today + 1):
        active = active_on[day]
        linked = sum(1 for user in linked_at_end(links, day) if user in active)
        matrix, discord = per_day[day]
        days.append(DayPoint(day_label(day), len(active), linked, matrix, discord))

    shares = [
        ChannelShare(
            info.channel_id,
            info.name,
            info.room_id,
            per_channel[info.channel_id][0],
            per_channel[info.channel_id][1],
            ratio(per_channel[info.channel_id][0], sum(per_channel[info.channel_id])),
        )
        for info in channels
    ]
    shares.sort(key=lambda share: (-share.share, -share.from_matrix, share.name.lower()))
    return MigrationReport(guild_id, guild_name, now_ms, members, shares, days, cutover)


async def migration_report(
    services: AdminServices, guild_id: int, *, now_ms: int | None = None
) -> MigrationReport:
    """The guild's migration progress, computed now (or at ``now_ms``, for tests).

    Raises ActionError (404) when the guild is not bridged. Cost: one aggregating query over
    the messages bridged in the last 59 days (read through the snowflake range, never the
    whole history), plus the guild's portal, puppet, link and cut-over rows.
    """
    inputs = await fetch_progress_inputs(services, guild_id, now_ms=now_ms)
    return report_from(guild_id, inputs)


def report_from(guild_id: int, inputs: ProgressInputs) -> MigrationReport:
    """The report of what :func:`fetch_progress_inputs` read (no I/O)."""
    cutover = inputs.cutover
    return build_report(
        guild_id=guild_id,
        guild_name=inputs.guild_name,
        now_ms=inputs.now_ms,
        rows=inputs.rows,
        channels=inputs.channels,
        ghost_user=inputs.ghost_user,
        bots=inputs.bots,
        links=inputs.links,
        names=inputs.names,
        cutover=None
        if cutover is None
        else CutoverState(
            cutover.read_only,
            cutover.started_at,
            cutover.started_by,
            cutover.message,
            cutover.undone_at,
            inputs.announced_channels,
            inputs.overwrites_kept,
        ),
    )


def only_channels(report: MigrationReport, keep: Callable[[int], bool]) -> MigrationReport:
    """The report with only the channels ``keep`` accepts (by channel id; pure): a member
    who may not see a private channel on Discord is not shown its name or numbers."""
    return replace(report, channels=[share for share in report.channels if keep(share.channel_id)])
