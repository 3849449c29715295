"""Migration progress from aggregated rows (pure): the report's numbers, the week's trend and
the replies' texts, without a bridge or a database."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from bridge.db.rows import AccountLinkRow
from bridge.migration.progress import (
    DAY_MS,
    CutoverState,
    DayPoint,
    MigrationReport,
    build_report,
    report_json,
    trend,
)
from bridge.migration.progress_metrics import MigrationGauges
from bridge.migration.progress_query import ActivityRow, ChannelInfo
from bridge.migration.progress_text import discord_reply_text, matrix_reply_text

TODAY = 20_000  # days since 1970-01-01: 2024-10-04
NOW_MS = TODAY * DAY_MS + 15 * 3_600_000  # 15:00 UTC
GENERAL = ChannelInfo(11, "general", "!general:hs")
RANDOM = ChannelInfo(12, "random", "!random:hs")
GHOST = re.compile(r"@discord_(\d+):hs")

ALICE, BOB, CAROL, DAVE, ROBOT = 101, 102, 103, 104, 199
NAMES = {ALICE: "Alice (Discord)", BOB: "Bob_the_*builder*", CAROL: "Carol", DAVE: "Dave"}


def ghost(user: int) -> str:
    return f"@discord_{user}:hs"


def ghost_user(mxid: str) -> int | None:
    match = GHOST.fullmatch(mxid)
    return int(match[1]) if match else None


def row(room: ChannelInfo, sender: str, matrix: bool, day: int, count: int) -> ActivityRow:
    return ActivityRow(room.room_id, sender, matrix, TODAY - day, count, (TODAY - day) * DAY_MS + 1)


# Alice linked 10 days ago and talks from Matrix since; Bob linked 3 days ago; Carol linked 20
# days ago and unlinked 8 days ago; Dave never linked and was last seen 35 days ago.
LINKS = [
    AccountLinkRow(ALICE, (TODAY - 10) * DAY_MS + 5, "@alice:hs", "discord"),
    AccountLinkRow(BOB, (TODAY - 3) * DAY_MS + 5, "@bob:hs", "matrix"),
    AccountLinkRow(CAROL, (TODAY - 20) * DAY_MS, "@carol:hs", "discord", (TODAY - 8) * DAY_MS),
]
ROWS = [
    row(GENERAL, ghost(ALICE), False, 12, 4),  # before linking, on Discord
    row(GENERAL, "@alice:hs", True, 2, 6),  # from Matrix, linked: Alice's activity
    row(RANDOM, "@alice:hs", True, 9, 2),  # older than 7 days: in no channel share
    row(GENERAL, ghost(BOB), False, 1, 3),
    row(RANDOM, ghost(BOB), False, 0, 1),
    row(GENERAL, ghost(CAROL), False, 25, 2),
    row(GENERAL, "@carol:hs", True, 15, 1),  # from Matrix while linked
    row(GENERAL, "@stranger:hs", True, 1, 5),  # never linked: counted, not a member
    row(GENERAL, ghost(DAVE), False, 35, 7),  # active 35 days ago only
    row(GENERAL, ghost(ROBOT), False, 1, 9),  # a bot: counted, not a member
    row(GENERAL, "@discord_w5_0123456789:hs", False, 1, 2),  # a webhook author
    ActivityRow("!elsewhere:hs", ghost(ALICE), False, TODAY - 1, 50, 0),  # another guild
]
CUTOVER = CutoverState(True, (TODAY - 1) * DAY_MS, "@boss:hs", "We moved", None, 2, 3)


def report(rows: list[ActivityRow] = ROWS, links: list[AccountLinkRow] = LINKS) -> MigrationReport:
    return build_report(
        guild_id=1234,
        guild_name="Guild*",
        now_ms=NOW_MS,
        rows=rows,
        channels=[GENERAL, RANDOM],
        ghost_user=ghost_user,
        bots={ROBOT},
        links=links,
        names=lambda user: NAMES.get(user, str(user)),
        cutover=CUTOVER,
    )


def test_members_active_in_30_days_and_who_linked() -> None:
    found = report()
    # Newest activity first: Bob (today), Alice (2 days ago), Carol (15 days ago).
    assert [m.discord_user_id for m in found.members] == [BOB, ALICE, CAROL]
    assert [m.mxid for m in found.members] == ["@bob:hs", "@alice:hs", None]
    assert found.members[0].last_active_ms == TODAY * DAY_MS + 1
    assert (found.active, found.linked) == (3, 2)
    assert [m.name for m in found.not_linked] == ["Carol"]


def test_channel_shares_over_the_last_7_days() -> None:
    channels = {share.name: share for share in report().channels}
    general = channels["general"]
    # Alice 6 (Matrix) + the stranger 5 (Matrix); Bob 3 + robot 9 + webhook 2 (Discord).
    assert (general.from_matrix, general.from_discord) == (11, 14)
    assert general.share == 11 / 25
    random = channels["random"]
    assert (random.from_matrix, random.from_discord, random.share) == (0, 1, 0.0)
    assert [share.name for share in report().channels] == ["general", "random"]


def test_days_count_actives_and_links_as_they_were() -> None:
    days = report().days
    assert len(days) == 30 and days[-1].day == "2024-10-04" and days[0].day == "2024-09-05"
    by_age = {29 - index: point for index, point in enumerate(days)}  # days ago → point
    # Each point counts who was active in the 30 days up to it, linked at its end.
    assert (by_age[29].active, by_age[29].linked) == (1, 0)  # Dave (35 days ago)
    assert (by_age[20].active, by_age[20].linked) == (2, 1)  # Dave, Carol; Carol linked
    assert (by_age[10].active, by_age[10].linked) == (3, 2)  # + Alice, linked that day
    assert (by_age[8].active, by_age[8].linked) == (3, 1)  # Carol unlinked at its start
    assert (by_age[5].active, by_age[5].linked) == (2, 1)  # Dave gone, Bob not seen yet
    assert (by_age[0].active, by_age[0].linked) == (3, 2)  # Bob, Alice, Carol
    assert (by_age[1].from_matrix, by_age[1].from_discord) == (5, 3 + 9 + 2)
    assert (by_age[2].from_matrix, by_age[2].from_discord) == (6, 0)
    assert sum(point.from_matrix for point in days) == 6 + 2 + 1 + 5


def test_trend_compares_with_a_week_ago() -> None:
    found = trend(report().days)
    assert found.linked_share.now == 2 / 3
    assert found.linked_share.before == 1 / 3  # 7 days ago: Dave, Carol, Alice; Alice linked
    assert found.linked_share.direction == "up"
    assert found.matrix_share.now == 11 / 26
    assert found.matrix_share.before == 2 / 6  # Alice: 2 from Matrix, 4 on Discord
    assert found.matrix_share.direction == "up"
    assert trend([*report().days[:-1], DayPoint("d", 3, 0, 0, 0)]).linked_share.direction == (
        "down"
    )
    flat = [DayPoint("d", 4, 2, 1, 1)] * 30
    assert trend(flat).linked_share.direction == "steady"
    assert trend(flat[:3]).matrix_share.before == 0.0  # too few days: zeros before


def test_a_guild_without_activity() -> None:
    empty = report(rows=[], links=[])
    assert (empty.active, empty.linked, len(empty.days)) == (0, 0, 30)
    assert all(share.share == 0.0 for share in empty.channels)
    text = matrix_reply_text(empty)
    assert "No member sent a message in the last 30 days." in text
    assert "0% of the messages" in text


def test_json_has_the_interface_names_and_string_snowflakes() -> None:
    body = report_json(report())
    assert body["guild_id"] == "1234" and (body["active"], body["linked"]) == (3, 2)
    assert body["members"][0] == {
        "discord_user_id": str(BOB),
        "name": "Bob_the_*builder*",
        "mxid": "@bob:hs",
        "last_active_ms": TODAY * DAY_MS + 1,
    }
    assert body["channels"][0]["channel_id"] == "11"
    assert len(body["days"]) == 30 and set(body["days"][0]) == {
        "day",
        "active",
        "linked",
        "from_matrix",
        "from_discord",
    }
    assert body["cutover"]["overwrites_kept"] == 3
    assert body["trend"]["linked_share"]["direction"] == "up"
    assert body["trend"]["matrix_share"] == {"now": 11 / 26, "before": 2 / 6, "direction": "up"}


def test_matrix_reply_names_the_members_not_linked() -> None:
    text = matrix_reply_text(report())
    assert "**Migration of Guild\\***" in text
    assert "2 of 3 members active in the last 30 days (67%), ↑ up from 33% a week ago" in text
    assert "**Not linked yet:** Carol." in text
    assert "42% of the messages, ↑ up from 33% the 7 days before" in text
    assert "- #general: 44% (11 of 25 messages)" in text
    assert "- #random: 0% (0 of 1 message)" in text
    assert "**Cut-over:** read-only on Discord since 2024-10-03 00:00 UTC, 2 channels" in text


def test_discord_reply_names_only_for_managers() -> None:
    many = report(
        rows=[*ROWS, *(row(GENERAL, ghost(500 + n), False, 1, 1) for n in range(40))],
    )
    for_admin = discord_reply_text(many, show_names=True)
    # Newest activity first: the 40 of yesterday, then Carol; 30 named.
    assert "**Not linked yet:** 500, 501, 502," in for_admin
    assert "529 and 11 more." in for_admin
    for_member = discord_reply_text(many, show_names=False)
    assert "**Not linked yet:** 41 active members." in for_member
    assert "501" not in for_member and "Carol" not in for_member
    assert len(for_admin) <= 2000 and len(for_member) <= 2000


async def test_gauges_are_computed_at_most_once_per_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    computed: list[object] = []

    async def compute(services: object) -> dict[int, tuple[int, int, float]]:
        computed.append(services)
        return {1234: (3, 2, 0.25)}

    monkeypatch.setattr(MigrationGauges, "_compute", staticmethod(compute))
    services: list[object] = []
    gauges = MigrationGauges(lambda: services[0] if services else None, interval=60)
    await gauges.refresh()  # the bridge is starting: nothing to read yet
    assert computed == []
    services.append(object())
    await gauges.refresh()
    await gauges.refresh()  # a second scrape within the minute: the same numbers
    assert len(computed) == 1
    registry = CollectorRegistry()
    registry.register(gauges)
    text = generate_latest(registry).decode()
    assert 'discord_bridge_migration_active_members{guild="1234"} 3.0' in text
    assert 'discord_bridge_migration_linked_members{guild="1234"} 2.0' in text
    assert 'discord_bridge_migration_matrix_share{guild="1234"} 0.25' in text


def test_matrix_messages_count_for_whom_the_account_was_linked_to_that_day() -> None:
    rows = [
        row(GENERAL, "@carol:hs", True, 15, 1),  # linked to Carol then
        row(GENERAL, "@carol:hs", True, 2, 1),  # after her unlink: nobody's
        row(GENERAL, "@bob:hs", True, 5, 1),  # before Bob linked: nobody's
    ]
    found = report(rows=rows)
    assert [(m.discord_user_id, m.last_active_ms) for m in found.members] == [
        (CAROL, (TODAY - 15) * DAY_MS + 1)
    ]
    assert sum(point.from_matrix for point in found.days) == 3
