"""The migration page end to end: the bridge in this process with 40 days of seeded history
(tests/migration/page_fixtures.py), the page loaded in headless Chromium, its numbers checked
against the database, and who may see it (the shared secret, an admin's OpenID token from
the real Synapse, nobody else).

``BRIDGE_WRITE_SCREENSHOT=1`` also writes the screenshot to docs/migration-page.png (the
README's picture).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from mautrix.api import Method
from mautrix.api import Path as MatrixPath

from bridge.migration.progress import migration_report, report_json
from bridge.web.assets import CHART_JS, VENDOR_DIR
from bridge.web.migration_page import PREFIX, STATIC_DIR, MigrationPage
from bridge.web.openid import OpenIDVerifier
from tests.fixtures.community import SERVER, ghost
from tests.fixtures.homeserver import MakeMatrixUser
from tests.migration.page_fixtures import (
    DAY_MS,
    QUIET_GUILD,
    SECRET,
    SeededGuild,
    chromium_or_skip,
    seeded_guild,
)

pytestmark = pytest.mark.slow
__all__ = ["seeded_guild"]  # the module's fixture
REPO = Path(__file__).parents[2]
API = PREFIX + "/api/guilds"
ARROWS = {"up": "↑", "down": "↓", "steady": "→"}


# ---- reading the page's DOM ------------------------------------------------------------------


class PageDom(HTMLParser):
    """Texts of the elements with an id, the attributes of each, and the rows of each table
    (the row's attributes, and its cells' texts by their class)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str | None]] = {}
        self.rows: dict[str, list[dict[str, str]]] = {}
        self._open: list[tuple[str, str | None]] = []
        self._table: str | None = None
        self._cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        ident = found.get("id")
        if ident:
            self.attrs[ident] = found
            self.texts[ident] = ""
        if tag == "table" and ident:
            self._table = ident
            self.rows[ident] = []
        elif tag == "tr" and self._table and "data-" in " ".join(found):
            self.rows[self._table].append({k: v or "" for k, v in found.items()})
        elif tag == "td" and self._table and self.rows[self._table]:
            self._cell = found.get("class")
            self.rows[self._table][-1].setdefault(self._cell or "", "")
        if tag not in ("meta", "link", "br", "input"):
            self._open.append((tag, ident))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break
        if tag == "table":
            self._table = None
        if tag == "td":
            self._cell = None

    def handle_data(self, data: str) -> None:
        for _, ident in self._open:
            if ident:
                self.texts[ident] += data
        if self._table and self._cell is not None:
            self.rows[self._table][-1][self._cell] += data


async def chromium(*args: str) -> bytes:
    """Run headless Chromium (not blocking the loop the bridge runs in); its stdout."""
    process = await asyncio.create_subprocess_exec(
        chromium_or_skip(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--window-size=1280,1600",
        "--virtual-time-budget=15000",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 90)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, stderr.decode(errors="replace")[-2000:]
    return stdout


async def load_page(url: str, profile: Path) -> PageDom:
    dom = PageDom()
    dom.feed((await chromium(f"--user-data-dir={profile}", "--dump-dom", url)).decode())
    return dom


def percent(share: float) -> str:
    return f"{share * 100:.1f} %"


def check_numbers(dom: PageDom, expected: dict[str, Any]) -> None:
    """The page shows exactly the report's numbers."""
    assert dom.texts["active"] == str(expected["active"])
    assert dom.texts["linked"] == str(expected["linked"])
    for key, name in (("linked-share", "linked_share"), ("matrix-share", "matrix_share")):
        share = expected["trend"][name]
        assert (
            dom.texts[key]
            == f"{percent(share['now'])} {ARROWS[share['direction']]} from {percent(share['before'])} a week ago"
        )
    channels = {row["data-channel-id"]: row for row in dom.rows["channels-table"]}
    assert list(channels) == [c["channel_id"] for c in expected["channels"]]
    for channel in expected["channels"]:
        row = channels[channel["channel_id"]]
        assert (row["name"], row["from-matrix"], row["from-discord"], row["share"]) == (
            channel["name"],
            str(channel["from_matrix"]),
            str(channel["from_discord"]),
            percent(channel["share"]),
        )
    columns = ("active", "linked", "from-matrix", "from-discord")
    days = [(r["data-day"], *(int(r[c]) for c in columns)) for r in dom.rows["days-table"]]
    assert days == [
        (d["day"], *(d[c.replace("-", "_")] for c in columns)) for d in expected["days"]
    ]
    members = [(r["data-user-id"], r["mxid"]) for r in dom.rows["members-table"]]
    assert members == [
        (m["discord_user_id"], m["mxid"] or "not linked") for m in expected["members"]
    ]


async def direct_counts(seeded: SeededGuild, now_ms: int) -> tuple[int, int]:
    """Active and linked members counted from the rows themselves: senders of the last 30
    UTC days (ghosts but the bot; Matrix accounts linked that day), linked = current link."""
    tables = seeded.bridge.database.tables  # type: ignore[union-attr]
    since = (now_ms // DAY_MS - 29) * DAY_MS
    parts = await tables.message_parts.find("part = 0 AND timestamp >= $1", since)
    links = await tables.account_links.find()
    by_ghost = {ghost(user): user for user in seeded.users.values()}
    active = set()
    for part in parts:
        if part.sender_mxid in by_ghost:
            active.add(by_ghost[part.sender_mxid])
        for link in links:
            start, end = (
                part.timestamp // DAY_MS * DAY_MS,
                part.timestamp // DAY_MS * DAY_MS + DAY_MS,
            )
            if (
                link.mxid == part.sender_mxid
                and link.linked_at < end
                and (link.unlinked_at is None or link.unlinked_at > start)
            ):
                active.add(link.discord_user_id)
    linked = {link.discord_user_id for link in links if link.unlinked_at is None} & active
    return len(active), len(linked)


# ---- the page in the browser -----------------------------------------------------------------


async def test_the_page_shows_the_databases_numbers_with_charts(
    seeded_guild: SeededGuild, tmp_path: Path
) -> None:
    seeded = seeded_guild
    services = seeded.bridge.admin
    assert services is not None
    url = f"{seeded.base_url}{PREFIX}/#secret={SECRET}"
    before = report_json(await migration_report(services, seeded.guild_id))
    dom = await load_page(url, tmp_path / "profile")
    after = report_json(await migration_report(services, seeded.guild_id))
    expected = (
        before if dom.rows["days-table"][-1]["data-day"] == before["days"][-1]["day"] else after
    )

    assert dom.texts["guild-name"] == "Migrating Guild"
    assert "hidden" not in dom.attrs["guild-picker"]  # two guilds bridged
    assert dom.texts["guild"] == "Migrating GuildQuiet Guild"
    assert dom.texts["viewer"] == "Signed in with the provisioning secret"
    check_numbers(dom, expected)
    # The seeded story, counted without the report: alice, bob, carol, dave, erin, gwen, hank
    # were active (frank went quiet, the bot is no member); alice, bob, erin, gwen are linked.
    assert await direct_counts(seeded, expected["generated_at_ms"]) == (7, 4)
    assert (expected["active"], expected["linked"]) == (7, 4)
    assert {r["data-user-id"] for r in dom.rows["members-table"] if r["data-linked"] == "no"} == {
        str(seeded.users[name]) for name in ("carol", "dave", "hank")
    }
    assert dom.texts["cutover"].startswith("Announced ")
    assert (
        "in 3 channel(s); Discord is read-only (2 channel permission(s) kept"
        in dom.texts["cutover"]
    )
    assert dom.attrs["cutover"]["data-state"] == "read-only"
    assert "hidden" in dom.attrs["signin"] and "hidden" in dom.attrs["notice"]

    if (VENDOR_DIR / CHART_JS.files["package/dist/chart.umd.min.js"]).exists():
        assert "hidden" in dom.attrs["charts-missing"]
        for canvas in ("members-chart", "channels-chart", "messages-chart"):  # drawn by Chart.js
            assert "box-sizing" in (dom.attrs[canvas].get("style") or ""), dom.attrs[canvas]
    elif os.environ.get("CI"):
        pytest.fail(f"the charting library is missing in {VENDOR_DIR}: make install fetches it")
    else:
        assert "hidden" not in dom.attrs["charts-missing"]

    screenshot = tmp_path / "migration-page.png"
    await chromium(f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={screenshot}", url)
    png = screenshot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 30_000
    if os.environ.get("BRIDGE_WRITE_SCREENSHOT") == "1":
        (REPO / "docs").mkdir(exist_ok=True)
        shutil.copyfile(screenshot, REPO / "docs" / "migration-page.png")


async def test_without_the_charting_library_the_tables_stay_and_the_page_says_why(
    seeded_guild: SeededGuild, tmp_path: Path
) -> None:
    static = tmp_path / "static"
    shutil.copytree(STATIC_DIR, static, ignore=shutil.ignore_patterns("vendor"))
    app = aiohttp.web.Application()
    services = seeded_guild.bridge.admin
    page = MigrationPage(
        SECRET, lambda: services, OpenIDVerifier(SERVER, "http://127.0.0.1:9"), static
    )
    page.add_routes(app)
    async with TestServer(app, host="127.0.0.1") as server:
        url = f"http://127.0.0.1:{server.port}{PREFIX}/#secret={SECRET}"
        dom = await load_page(url, tmp_path / "profile")
    assert "hidden" not in dom.attrs["charts-missing"]
    assert "python -m bridge.web.assets" in dom.texts["charts-missing"]
    assert dom.texts["active"] == "7" and len(dom.rows["days-table"]) == 30


async def test_signing_in_on_the_page(
    seeded_guild: SeededGuild, make_matrix_user: MakeMatrixUser, tmp_path: Path
) -> None:
    page = f"{seeded_guild.base_url}{PREFIX}/"
    dom = await load_page(page, tmp_path / "profile")
    assert "hidden" not in dom.attrs["signin"] and "hidden" in dom.attrs["report"]
    assert "shared_secret" in dom.texts["signin"] and "openid/request_token" in dom.texts["signin"]
    wrong = await load_page(page + "#secret=nope", tmp_path / "profile")
    assert wrong.texts["notice"] == "Wrong secret: use bridge.provisioning.shared_secret"
    assert "hidden" not in wrong.attrs["signin"]
    token = await openid_token(make_matrix_user, seeded_guild.page_admin)
    admin = await load_page(f"{page}#openid={token}&server={SERVER}", tmp_path / "profile")
    assert admin.texts["viewer"] == f"Signed in as {seeded_guild.page_admin}"
    assert admin.texts["active"] == "7" and admin.texts["linked"] == "4"


# ---- who may see it (no browser) ----------------------------------------------------------


async def openid_token(make_matrix_user: MakeMatrixUser, mxid: str) -> str:
    """A real OpenID token of ``mxid`` (registered now) from Synapse."""
    client = await make_matrix_user(localpart=mxid[1:].split(":")[0])
    answer = await client.api.api.request(
        Method.POST, MatrixPath.v3.user[client.user_id].openid.request_token, {}
    )
    assert answer["matrix_server_name"] == SERVER
    return str(answer["access_token"])


async def get(seeded: SeededGuild, path: str, **headers: str) -> tuple[int, str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(seeded.base_url + path, headers=headers) as response,
    ):
        text = await response.text()
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, text, body


async def test_who_may_see_the_numbers(
    seeded_guild: SeededGuild, make_matrix_user: MakeMatrixUser
) -> None:
    seeded = seeded_guild
    report = f"{API}/{seeded.guild_id}"
    status, _, body = await get(seeded, report)
    assert status == 401 and body["errcode"] == "M_MISSING_TOKEN"
    assert "#secret=" in body["error"] and "OpenID" in body["error"]
    status, text, _ = await get(seeded, report, Accept="text/html")  # opened in a browser
    assert status == 401 and "<h1>401" in text and "bridge.provisioning.shared_secret" in text
    status, _, body = await get(seeded, report, Authorization="Bearer not-the-secret")
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    status, _, body = await get(seeded, report, Authorization=f"Bearer {SECRET}")
    assert status == 200 and body["guild_id"] == str(seeded.guild_id) and body["active"] == 7

    admin_token = await openid_token(make_matrix_user, seeded.admin)
    status, _, body = await get(seeded, API, Authorization=f"OpenID {SERVER} {admin_token}")
    assert status == 200 and body["viewer"] == seeded.admin
    assert body["guilds"] == [
        {"guild_id": str(seeded.guild_id), "name": "Migrating Guild"},
        {"guild_id": str(QUIET_GUILD), "name": "Quiet Guild"},
    ]
    status, _, body = await get(seeded, report, Authorization=f"OpenID {SERVER} {admin_token}")
    assert status == 200 and body["linked"] == 4

    member_token = await openid_token(make_matrix_user, seeded.member)
    status, _, body = await get(seeded, report, Authorization=f"OpenID {SERVER} {member_token}")
    assert (status, body["error"]) == (
        403,
        f"{seeded.member} is not a bridge admin (bridge.permissions)",
    )
    status, _, body = await get(
        seeded, report, Authorization=f"OpenID {SERVER} madeup{admin_token}"
    )
    assert status == 403 and "does not know this OpenID token" in body["error"]
    # No admin could be on another server: refused without asking anyone.
    status, _, body = await get(seeded, report, Authorization=f"OpenID evil.example {admin_token}")
    assert (status, body["error"]) == (403, "No bridge admin is on evil.example")

    status, _, body = await get(seeded, f"{API}/1234", Authorization=f"Bearer {SECRET}")
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
