"""The link flow's database work on both databases (SQLite and PostgreSQL), with the clock in
the test's hands: issuing replaces older codes and clears old rows, codes expire at 15
minutes, a link spends the others, a refused code stays valid unless it was typed in the open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio

from bridge.db.connect import open_database
from bridge.db.tables import BridgeTables
from bridge.db.url import resolve_database_url
from bridge.migration import codes
from bridge.migration.linking import LinkGuard, LinkRefused, Refusal, Someone, issue, redeem, unlink
from bridge.migration.links import AccountLinks
from tests.fixtures.postgres import fresh_postgres_database

NOW = 1_800_000_000_000
MINUTE = 60_000
DANA, ERIN = Someone.on_discord(11), Someone.on_discord(12)
MIA, NOAH = Someone.on_matrix("@mia:hs"), Someone.on_matrix("@noah:hs")


@pytest_asyncio.fixture(scope="module", params=["sqlite", "postgres"])
async def tables(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BridgeTables]:
    """A migrated database of each kind, for the module."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("link_flow")
        database = await open_database(resolve_database_url(f"sqlite:{path / 'b.db'}", path))
        try:
            yield database.tables
        finally:
            await database.close()
        return
    async with fresh_postgres_database() as url:
        database = await open_database(resolve_database_url(url, tmp_path_factory.getbasetemp()))
        try:
            yield database.tables
        finally:
            await database.close()


@pytest.fixture
async def services(tables: BridgeTables) -> Any:
    """What the flow reads of the admin services (the tables, the links, the guard), on
    empty tables."""
    await tables.db.execute("DELETE FROM link_code")
    await tables.db.execute("DELETE FROM account_link")
    links = AccountLinks(tables)
    await links.load()
    return SimpleNamespace(tables=tables, links=links, link_guard=LinkGuard())


async def refusal(services: Any, person: Someone, code: str, at: int, **kwargs: Any) -> Refusal:
    with pytest.raises(LinkRefused) as refused:
        await redeem(services, person, code, now=at, **kwargs)
    return refused.value.refusal


async def test_a_new_code_replaces_the_older_and_old_rows_go(services: Any) -> None:
    first = await issue(services, DANA, now=NOW)
    assert first.expires_at == NOW + 15 * MINUTE
    second = await issue(services, DANA, now=NOW + MINUTE)
    erins = await issue(services, ERIN, now=NOW + MINUTE)  # someone else's stays valid
    assert await refusal(services, MIA, first.code, NOW + 2 * MINUTE) is Refusal.EXPIRED
    assert len(await services.tables.link_codes.find()) == 3
    # A day after they expired, rows are deleted when the next code is issued.
    later = NOW + 16 * MINUTE + codes.KEEP_AFTER_EXPIRY_MS + 1
    await issue(services, NOAH, now=later)
    kept = await services.tables.link_codes.find()
    assert [row.mxid for row in kept] == ["@noah:hs"]
    assert await refusal(services, MIA, second.code, later) is Refusal.UNKNOWN
    assert erins.code != second.code


async def test_a_code_lives_15_minutes_and_links_once(services: Any) -> None:
    issued = await issue(services, MIA, now=NOW)
    at_end = NOW + 15 * MINUTE
    assert await refusal(services, DANA, issued.code, at_end) is Refusal.EXPIRED
    redeemed = await redeem(services, DANA, issued.code.lower(), now=at_end - 1)
    assert (redeemed.change.discord_user_id, redeemed.change.mxid) == (11, "@mia:hs")
    [row] = await services.tables.account_links.find()
    assert (row.discord_user_id, row.mxid, row.via) == (11, "@mia:hs", "discord")
    assert await refusal(services, ERIN, issued.code, at_end - 1) is Refusal.USED
    assert await refusal(services, MIA, issued.code, at_end - 1) is Refusal.WRONG_SIDE
    with pytest.raises(LinkRefused) as refused:
        await issue(services, MIA, now=NOW)
    assert (refused.value.refusal, refused.value.other) == (Refusal.LINKED_ALREADY, 11)
    assert (await unlink(services, MIA)) is not None and await unlink(services, DANA) is None


async def test_a_link_spends_the_other_codes_of_both(services: Any) -> None:
    danas = await issue(services, DANA, now=NOW)
    mias = await issue(services, MIA, now=NOW)
    await redeem(services, MIA, danas.code, now=NOW + 1)
    await unlink(services, DANA)
    assert await refusal(services, ERIN, mias.code, NOW + 2) is Refusal.EXPIRED


async def test_a_refused_code_stays_valid_unless_typed_in_the_open(services: Any) -> None:
    await redeem(services, NOAH, (await issue(services, ERIN, now=NOW)).code, now=NOW)
    # Noah's account is linked to Erin's: Dana's code is refused to him, and kept…
    danas = await issue(services, DANA, now=NOW)
    assert await refusal(services, NOAH, danas.code, NOW + 1) is Refusal.LINKED_ALREADY
    assert await refusal(services, NOAH, danas.code, NOW + 2) is Refusal.LINKED_ALREADY
    mias = await issue(services, MIA, now=NOW)
    assert await refusal(services, ERIN, mias.code, NOW + 3) is Refusal.LINKED_ALREADY
    await redeem(services, MIA, danas.code, now=NOW + 4)  # …so it works for someone free.
    # Typed by Noah where others read it (a shared room): refused, and spent.
    await unlink(services, MIA)
    another = await issue(services, DANA, now=NOW + 5)
    kwargs = {"burn_on_refusal": True}
    assert await refusal(services, NOAH, another.code, NOW + 6, **kwargs) is Refusal.LINKED_ALREADY
    assert await refusal(services, MIA, another.code, NOW + 7) is Refusal.USED


async def test_guessing_is_held_back_per_sender(services: Any) -> None:
    issued = await issue(services, DANA, now=NOW)
    for n in range(5):
        assert await refusal(services, MIA, "ZZZZ-ZZZ" + "23456"[n], NOW + n) is Refusal.UNKNOWN
    assert await refusal(services, MIA, issued.code, NOW + 5) is Refusal.TOO_MANY
    assert await refusal(services, MIA, "not a code", NOW + 5) is Refusal.TOO_MANY
    await redeem(services, NOAH, issued.code, now=NOW + 5)  # another sender is not held back
    assert services.link_guard.guesses.wait_ms("matrix:@mia:hs", NOW + 15 * MINUTE) == 0


async def test_an_issuer_linked_meanwhile_another_way(services: Any) -> None:
    erins = await issue(services, ERIN, now=NOW)
    await services.links.link(12, "@other:hs", via="matrix")  # e.g. the provisioning API
    assert await refusal(services, NOAH, erins.code, NOW + 1) is Refusal.OTHER_LINKED
    assert services.links.discord_for("@noah:hs") is None
