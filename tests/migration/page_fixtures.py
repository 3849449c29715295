"""A bridged guild with 40 days of seeded history, for the migration page's tests.

The guild (three text channels, eight members and a bot) is bridged at start; the history is
then written straight into the tables, as the relays would have stored it: part-0
``message_part`` rows whose ids are snowflakes of their time, sent on Discord (the member's
ghost) or from Matrix (kind ``matrix:0``, the member's linked account), plus ``account_link``
history and a read-only cut-over. Members link one after another, and those linked send a
growing share from Matrix, so the charts have a shape.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio

from bridge.app import Bridge
from bridge.config import load_config
from bridge.db.rows import (
    AccountLinkRow,
    CutoverAnnouncementRow,
    CutoverOverwriteRow,
    CutoverRow,
    GuildRow,
    MessagePartRow,
    PuppetRow,
)
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.homeserver import LocalSynapse
from tests.fixtures.community import SERVER, eventually, ghost
from tests.fixtures.inprocess import overrides_to_environ

SECRET = "migration-page-secret-for-the-tests"
DAY_MS = 86_400_000
HISTORY_DAYS = 40
# name → (days ago linked, days ago unlinked, first and last day active (days ago))
MEMBERS: dict[str, tuple[int | None, int | None, int, int]] = {
    "alice": (25, None, 39, 0),
    "bob": (18, None, 39, 1),
    "carol": (35, 10, 39, 3),
    "dave": (None, None, 39, 0),
    "erin": (5, None, 20, 0),
    "frank": (None, None, 39, 33),  # gone quiet: not active in the last 30 days
    "gwen": (12, None, 28, 0),
    "hank": (None, None, 14, 2),
}
CHANNELS = ("general", "lounge", "dev")
QUIET_GUILD = 1_100_000_000_000_000_042


@dataclass
class SeededGuild:
    """The running bridge and what was seeded (names → ids and Matrix accounts)."""

    bridge: Bridge
    guild_id: int
    users: dict[str, int]
    bot_user: int
    channels: dict[str, int]
    mxids: dict[str, str]  # each member's Matrix account (linked or not)
    admin: str  # an admin's MXID (bridge.permissions), registered on demand by the tests
    page_admin: str  # another admin, who signs in on the page
    member: str  # a user-level MXID
    base_url: str


def chromium_or_skip() -> str:
    """Debian's chromium; skips when missing (fails when ``CI`` is set: `make test` installs
    it as root)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium is not installed (make test installs it: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _message_id(ms: int, serial: int) -> int:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return discord.utils.time_snowflake(moment) + serial


def history(
    seed: SeededGuild, rooms: dict[str, str], now_ms: int
) -> tuple[list[MessagePartRow], list[AccountLinkRow]]:
    """The seeded rows, the same on every run (a fixed random seed)."""
    rng = random.Random(18)
    parts: list[MessagePartRow] = []
    links: list[AccountLinkRow] = []
    for name, (linked, unlinked, first, last) in MEMBERS.items():
        if linked is not None:
            links.append(
                AccountLinkRow(
                    seed.users[name],
                    now_ms - linked * DAY_MS,
                    seed.mxids[name],
                    "discord",
                    None if unlinked is None else now_ms - unlinked * DAY_MS,
                )
            )
        for ago in range(first, last - 1, -1):
            is_linked = (
                linked is not None and linked >= ago and (unlinked is None or ago > unlinked)
            )
            for _ in range(rng.randint(0, 3)):
                ms = now_ms - ago * DAY_MS - rng.randint(60_000, 8 * 3_600_000)
                from_matrix = is_linked and rng.random() < 0.35 + (25 - ago) / 40
                channel = rng.choice(CHANNELS)
                parts.append(
                    MessagePartRow(
                        _message_id(ms, len(parts)),
                        0,
                        seed.channels[channel],
                        rooms[channel],
                        f"$seed{len(parts)}",
                        seed.mxids[name] if from_matrix else ghost(seed.users[name]),
                        ms,
                        kind="matrix:0" if from_matrix else "text",
                    )
                )
    for ago in range(0, HISTORY_DAYS, 3):  # the bot: no member
        ms = now_ms - ago * DAY_MS - 120_000
        parts.append(
            MessagePartRow(
                _message_id(ms, len(parts)),
                0,
                seed.channels["dev"],
                rooms["dev"],
                f"$bot{len(parts)}",
                ghost(seed.bot_user),
                ms,
            )
        )
    return parts, links


async def seed(seeded: SeededGuild, now_ms: int) -> None:
    tables = seeded.bridge.database.tables  # type: ignore[union-attr]
    rooms = {}
    for name, channel_id in seeded.channels.items():
        row = await eventually(lambda c=channel_id: tables.portals.get(c), f"#{name}'s room")
        assert row.room_id
        rooms[name] = row.room_id
    parts, links = history(seeded, rooms, now_ms)
    await tables.message_parts.insert_new_many(parts)
    for link in links:
        await tables.account_links.insert(link)
    await tables.puppets.upsert(PuppetRow(str(seeded.bot_user), "Helper [bot]", is_bot=True))
    guild = seeded.guild_id
    # A second bridged guild (no channels), for the page's guild picker.
    await tables.guilds.upsert(GuildRow(QUIET_GUILD, name="Quiet Guild", bridged_by="provisioning"))
    await tables.cutovers.upsert(
        CutoverRow(guild, True, "We moved to Matrix!", now_ms - 2 * DAY_MS, "@boss:" + SERVER)
    )
    for index, channel_id in enumerate(seeded.channels.values()):
        await tables.cutover_announcements.upsert(
            CutoverAnnouncementRow(channel_id, guild, 10_000 + index, True)
        )
    for channel_id in list(seeded.channels.values())[:2]:
        await tables.cutover_overwrites.upsert(CutoverOverwriteRow(channel_id, guild, False))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seeded_guild(
    discord_emulator: DiscordEmulator,
    synapse: LocalSynapse,
    bridge_config_path: Path,
    appservice_registration: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[SeededGuild]:
    """The bridge in this process, its guild bridged at start, the history seeded."""
    store = discord_emulator.store
    owner = store.create_user("owner", global_name="Guild Owner")
    bot, application, token = store.create_bot("Matrix Bridge")
    guild = store.create_guild("Migrating Guild", owner.id)
    store.add_member(guild.id, bot.id)
    users = {}
    for name in MEMBERS:
        user = store.create_user(name, global_name=name.title())
        store.add_member(guild.id, user.id)
        users[name] = user.id
    helper = store.create_user("helper", global_name="Helper")
    channels = {"general": next(iter(guild.channel_ids))}
    for name in CHANNELS[1:]:
        channels[name] = store.create_channel(guild.id, name).id
    tag = discord.utils.time_snowflake(datetime.now(UTC)) % 1_000_000
    admin, page_admin = f"@boss_{tag}:{SERVER}", f"@chief_{tag}:{SERVER}"
    member = f"@member_{tag}:{SERVER}"
    values: dict[str, Any] = {
        "homeserver.address": synapse.url,
        "appservice.database.url": f"sqlite:{tmp_path_factory.mktemp('page') / 'bridge.db'}",
        "discord.api_url": discord_emulator.api_url,
        "discord.gateway_url": discord_emulator.gateway_url,
        "discord.cdn_url": discord_emulator.cdn_url,
        "discord.bot_token": token,
        "discord.application_id": application.id,
        "bridge.guilds": f"[{guild.id}]",
        "bridge.provisioning.shared_secret": SECRET,
        "bridge.permissions": json.dumps({admin: "admin", page_admin: "admin", member: "user"}),
    }
    config = load_config(
        bridge_config_path, require=("tokens", "discord"), environ=overrides_to_environ(values)
    )
    bridge = Bridge(config)
    try:
        await bridge.start()
        seeded = SeededGuild(
            bridge,
            guild.id,
            users,
            helper.id,
            channels,
            {name: f"@{name}:{SERVER}" for name in MEMBERS},
            admin,
            page_admin,
            member,
            f"http://127.0.0.1:{config['appservice.port']}",
        )
        await seed(seeded, int(datetime.now(UTC).timestamp() * 1000))
        yield seeded
    finally:
        await bridge.stop()
