"""The database reads behind a guild's migration progress (bridge/migration/progress.py).

Messages are aggregated by the database, never read row by row: one ``GROUP BY`` over the
part-0 ``message_part`` rows (Discord's system messages left out) of the last 59 days (30 drawn days, each looking 30 days back).
"Since T" is a range of Discord message ids, which are snowflakes (the id's top 42 bits are
ms since Discord's epoch, 2015-01-01: https://discord.com/developers/docs/reference#snowflakes),
so the range is read through the table's primary key (discord_message_id, part) and an
imported history of a million old messages costs nothing. The same query serves every guild
(rows carry their room), so the metrics read it once for all guilds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..actions.admin.services import ActionError, AdminServices
from ..convert.model import ChannelType
from ..db.rows import AccountLinkRow, CutoverRow, PortalRow
from ..db.tables import BridgeTables, fetch_records

DISCORD_EPOCH_MS = 1_420_070_400_000
DAY_MS = 86_400_000
#: Days of messages read: the 30 drawn days, the first of which looks 29 days further back.
HISTORY_DAYS = 59
#: A message part's ``kind`` when it is a Matrix message posted to Discord.
FROM_MATRIX = "matrix:%"
#: The ``kind`` of Discord's system messages (a member joined, a pin, a boost): not counted,
#: they are not messages anyone sent (a newcomer would count as active).
SYSTEM = "notice"
#: Portal types with no messages of their own (spaces on Matrix).
_NOT_CHANNELS = (ChannelType.CATEGORY, ChannelType.FORUM, ChannelType.MEDIA)
#: Placeholders per ``IN (…)`` list (SQLite allows 32766; PostgreSQL 32767 in all).
_CHUNK = 500

ACTIVITY_SQL = (
    "SELECT room_id, sender_mxid,"
    f" CASE WHEN kind LIKE '{FROM_MATRIX}' THEN 1 ELSE 0 END AS from_matrix,"
    f" ((discord_message_id >> 22) + {DISCORD_EPOCH_MS}) / {DAY_MS} AS day,"
    " COUNT(*) AS messages, MAX(discord_message_id) AS newest"
    " FROM message_part WHERE discord_message_id >= $1 AND part = 0"
    f" AND kind <> '{SYSTEM}'"
    " GROUP BY 1, 2, 3, 4"
)


@dataclass(frozen=True)
class ActivityRow:
    """Messages one sender sent in one room on one UTC day, from one side."""

    room_id: str
    sender_mxid: str
    from_matrix: bool  # kind "matrix:%": sent from Matrix to Discord
    day: int  # days since 1970-01-01 (UTC)
    count: int
    last_ms: int  # the newest of them, ms since the epoch (from its snowflake)


@dataclass(frozen=True)
class ChannelInfo:
    """A bridged channel (or a forum post with its own room) of the guild."""

    channel_id: int
    name: str
    room_id: str


@dataclass
class ProgressInputs:
    """Everything the report is built from (see progress.build_report)."""

    guild_name: str
    now_ms: int
    rows: list[ActivityRow]
    channels: list[ChannelInfo]
    ghost_user: Callable[[str], int | None]
    bots: set[int]
    links: list[AccountLinkRow]
    names: Callable[[int], str]
    cutover: CutoverRow | None
    announced_channels: int
    overwrites_kept: int


def snowflake_at(ms: int) -> int:
    """The smallest Discord snowflake of a time (ms since the epoch); 0 before 2015."""
    return max(0, ms - DISCORD_EPOCH_MS) << 22


def history_start_ms(now_ms: int) -> int:
    """Where the report's messages start: midnight UTC, 58 days before ``now_ms``'s day."""
    return (now_ms // DAY_MS - HISTORY_DAYS + 1) * DAY_MS


async def activity_rows(tables: BridgeTables, since_ms: int) -> list[ActivityRow]:
    """The part-0 messages since ``since_ms`` (ms), grouped by room, sender, side and day."""
    records = await fetch_records(tables.db, ACTIVITY_SQL, snowflake_at(since_ms))
    return [
        ActivityRow(
            str(record[0]),
            str(record[1]),
            bool(record[2]),
            int(record[3]),
            int(record[4]),
            (int(record[5]) >> 22) + DISCORD_EPOCH_MS,
        )
        for record in records
    ]


def guild_channels(portals: Iterable[PortalRow]) -> list[ChannelInfo]:
    """The guild's portals that hold messages (not categories, forums: those are spaces)."""
    return [
        ChannelInfo(row.discord_id, row.name or str(row.discord_id), row.room_id)
        for row in portals
        if row.room_id and row.channel_type not in _NOT_CHANNELS
    ]


async def puppets_by_user(tables: BridgeTables, users: set[int]) -> dict[int, tuple[str, bool]]:
    """Discord user id → (puppet displayname or "", is_bot), for those with a puppet row."""
    found: dict[int, tuple[str, bool]] = {}
    ids = sorted(str(user) for user in users)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ", ".join(f"${index}" for index in range(1, len(chunk) + 1))
        for row in await tables.puppets.find(f"ghost_id IN ({marks})", *chunk):
            found[int(row.ghost_id)] = (row.displayname or "", row.is_bot)
    return found


async def fetch_progress_inputs(
    services: AdminServices,
    guild_id: int,
    *,
    now_ms: int | None = None,
    rows: list[ActivityRow] | None = None,
    links: list[AccountLinkRow] | None = None,
    with_cutover: bool = True,
) -> ProgressInputs:
    """Read what the guild's report needs; ``rows`` from :func:`activity_rows` and ``links``
    (every ``account_link`` row) when the caller read them already (the metrics, for all
    guilds at once). Without ``with_cutover`` the cut-over's rows are not read (the metrics
    do not show them).

    Raises ActionError (404) when the guild is not bridged.
    """
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    tables = services.tables
    guild = await tables.guilds.get(guild_id)
    if guild is None:
        raise ActionError(f"Guild {guild_id} is not bridged.", 404)
    channels = guild_channels(await tables.portals.find("guild_id = $1", guild_id))
    if rows is None:
        rows = await activity_rows(tables, history_start_ms(now_ms))
    rooms = {info.room_id for info in channels}
    rows = [row for row in rows if row.room_id in rooms]
    puppets = services.puppets
    users = {user for row in rows if (user := puppets.discord_user_of(row.sender_mxid))}
    profiles = await puppets_by_user(tables, users)
    if links is None:
        links = await tables.account_links.find()
    discord_guild = services.discord.get_guild(guild_id)

    def name_of(user: int) -> str:
        # The name the guild shows (nick, global name, username), else the ghost's name.
        member = discord_guild.get_member(user) if discord_guild is not None else None
        if member is not None:
            return member.display_name
        return profiles.get(user, ("", False))[0] or str(user)

    cutover, announced, overwrites = None, 0, 0
    if with_cutover:
        cutover = await tables.cutovers.get(guild_id)
        announced = len(await tables.cutover_announcements.find("guild_id = $1", guild_id))
        overwrites = len(await tables.cutover_overwrites.find("guild_id = $1", guild_id))
    return ProgressInputs(
        guild_name=guild.name or (discord_guild.name if discord_guild else "") or str(guild_id),
        now_ms=now_ms,
        rows=rows,
        channels=channels,
        ghost_user=puppets.discord_user_of,
        bots={user for user, (_, is_bot) in profiles.items() if is_bot},
        links=links,
        names=name_of,
        cutover=cutover,
        announced_channels=announced,
        overwrites_kept=overwrites,
    )
