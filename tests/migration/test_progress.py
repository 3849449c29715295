"""Migration progress on a seeded history, end to end: ``migration <guild>`` to the bridge bot,
``/matrix migration`` on Discord for a member with Manage Server and for one without (numbers,
no names), the provisioning API's JSON and the Prometheus metrics all show the same numbers.

One bridge for the module, with a small bridged guild (two channels). The history is written
through the tables API, as the relays store it: 40 days of part-0 rows from ghosts and from
Matrix users (kind ``matrix:0``), a thread's message, and links made on different days, one
of them ended. Days are counted back from today's midnight (UTC).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from bridge.app import Bridge
from bridge.db.rows import AccountLinkRow, MessagePartRow, PuppetRow
from bridge.db.tables import BridgeTables
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.homeserver import LocalSynapse, free_port
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.commands.conftest import open_chat
from tests.commands.test_slash import matrix_command, registered
from tests.fixtures.community import SERVER, eventually, ghost, room_of
from tests.fixtures.discord import SandboxGuild, validated_responses
from tests.fixtures.inprocess import sandbox_config
from tests.web.conftest import SECRET, ProvisioningClient, base_url

pytestmark = pytest.mark.slow

DAY_MS = 86_400_000
DISCORD_EPOCH_MS = 1_420_070_400_000


@dataclass
class Seeded:
    """The module's bridge, its guild, and who is who."""

    bridge: Bridge
    sandbox: SandboxGuild
    users: dict[str, int]  # Discord members by name
    general: int  # channel ids
    lounge: int
    admin: MatrixTestClient  # level admin in bridge.permissions
    member: MatrixTestClient  # level user
    metrics_url: str


class History:
    """Part-0 rows as the relays write them, at times counted back from today's midnight."""

    def __init__(self, today_ms: int) -> None:
        self.today_ms = today_ms
        self.rows: list[MessagePartRow] = []

    def add(
        self,
        channel_id: int,
        room_id: str,
        sender: str,
        days_ago: int,
        count: int = 1,
        *,
        matrix: bool = False,
        thread_id: int | None = None,
    ) -> None:
        for _ in range(count):
            ms = self.today_ms - days_ago * DAY_MS + 1000 + len(self.rows)
            snowflake = ((ms - DISCORD_EPOCH_MS) << 22) + len(self.rows)
            self.rows.append(
                MessagePartRow(
                    snowflake,
                    0,
                    thread_id or channel_id,
                    room_id,
                    f"$seed{len(self.rows)}_{secrets.token_hex(4)}",
                    sender,
                    ms,
                    thread_id=thread_id,
                    kind="matrix:0" if matrix else "text",
                )
            )


async def seed(tables: BridgeTables, seeded: Seeded, general_room: str, lounge_room: str) -> None:
    """Alice talks on Discord 20 and 12 days ago, links 10 days ago and talks from Matrix 3 and
    1 days ago; Bob talks today and 2 days ago (once in a thread) and links 3 days ago; Carol
    talks 25 and 15 days ago, linked from 20 to 8 days ago; Dave spoke 35 days ago only; Marie
    (Matrix, never linked) sends 5 from Matrix yesterday; a bot posts too."""
    users = seeded.users
    today_ms = int(time.time() * 1000) // DAY_MS * DAY_MS
    history = History(today_ms)
    alice_mx, marie_mx = f"@alice_mx:{SERVER}", f"@marie_mx:{SERVER}"
    general, lounge = seeded.general, seeded.lounge
    history.add(general, general_room, ghost(users["alice"]), 20)
    history.add(general, general_room, ghost(users["alice"]), 12)
    history.add(lounge, lounge_room, alice_mx, 3, 2, matrix=True)
    history.add(lounge, lounge_room, alice_mx, 1, 2, matrix=True)
    history.add(general, general_room, ghost(users["bob"]), 2, 2)
    history.add(general, general_room, ghost(users["bob"]), 0, 1)
    history.add(general, general_room, ghost(users["bob"]), 0, 1, thread_id=general + 77)
    history.add(lounge, lounge_room, ghost(users["bob"]), 1, 3)
    history.add(general, general_room, ghost(users["carol"]), 25)
    history.add(general, general_room, ghost(users["carol"]), 15)
    history.add(general, general_room, ghost(users["dave"]), 35, 4)
    history.add(lounge, lounge_room, marie_mx, 1, 5, matrix=True)
    history.add(general, general_room, ghost(users["robot"]), 1, 6)  # a bot: not a member
    await tables.message_parts.upsert_many(history.rows)
    names = {"alice": "Alice", "bob": "Bob", "carol": "Carol_*C*", "dave": "Dave", "robot": "Robo"}
    for name, shown in names.items():
        await tables.puppets.upsert(
            PuppetRow(str(users[name]), shown, is_bot=name == "robot", name_set=True)
        )
    for link in (
        AccountLinkRow(users["alice"], today_ms - 10 * DAY_MS + 5, alice_mx, "discord"),
        AccountLinkRow(users["bob"], today_ms - 3 * DAY_MS + 5, f"@bob_mx:{SERVER}", "matrix"),
        AccountLinkRow(
            users["carol"],
            today_ms - 20 * DAY_MS,
            f"@carol_mx:{SERVER}",
            "discord",
            today_ms - 8 * DAY_MS,
        ),
    ):
        await tables.account_links.insert(link)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seeded(
    discord_emulator: DiscordEmulator,
    synapse: LocalSynapse,
    bridge_config_path: Path,
    appservice_registration: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Seeded]:
    store = discord_emulator.store
    owner = store.create_user("owner", global_name="Guild Owner")
    bot, application, token = store.create_bot("Matrix Bridge")
    guild = store.create_guild("Progress Guild", owner.id)
    store.add_member(guild.id, bot.id)
    sandbox = SandboxGuild(discord_emulator, guild, owner, bot, application, token)
    users = {}
    for name in ("alice", "bob", "carol", "dave", "robot"):
        users[name] = store.create_user(name, global_name=name.title(), bot=name == "robot").id
        # Carol's guild nick has markdown characters: the replies must escape them.
        store.add_member(guild.id, users[name], nick="Carol_*C*" if name == "carol" else None)
    general = guild.system_channel_id
    assert general is not None
    lounge = store.create_channel(guild.id, "lounge").id
    tag = secrets.token_hex(3)
    admin_id, member_id = f"@boss_{tag}:{SERVER}", f"@member_{tag}:{SERVER}"
    metrics_address = f"127.0.0.1:{free_port()}"
    config = sandbox_config(
        bridge_config_path,
        synapse,
        sandbox,
        tmp_path_factory.mktemp("progress") / "bridge.db",
        {
            "bridge.permissions": json.dumps({admin_id: "admin", member_id: "user"}),
            "bridge.provisioning.shared_secret": SECRET,
            "metrics.enabled": "true",
            "metrics.listen_address": metrics_address,
        },
    )
    clients: list[MatrixTestClient] = []
    with validated_responses(discord_emulator):
        bridge = Bridge(config)
        try:
            await bridge.start()
            assert bridge.guilds is not None and bridge.database is not None
            await bridge.guilds.bridge_guild(guild.id)
            for mxid in (admin_id, member_id):
                _, access = await synapse.register_user(mxid[1:].split(":")[0], "pw-" + tag)
                clients.append(MatrixTestClient(synapse.url, access, mxid))
            made = Seeded(
                bridge, sandbox, users, general, lounge, *clients, f"http://{metrics_address}"
            )
            general_room = await room_of(bridge, general)
            await seed(bridge.database.tables, made, general_room, await room_of(bridge, lounge))
            await eventually(
                lambda: registered(store, application.id, guild.id), "/matrix registered"
            )
            yield made
        finally:
            for client in clients:
                await client.close()
            await bridge.stop()


# Expected: active in 30 days Bob (today), Alice (yesterday, from Matrix), Carol (15 days ago);
# linked now Bob and Alice; a week ago Alice of Dave, Carol and Alice. Last 7 days: general
# 0 of 10 (Bob 2+1+1 in the thread, the bot 6), lounge 9 of 12 (Alice 4, Marie 5; Bob 3);
# the 7 days before: Alice's 1 on Discord.
LINKED_LINE = "2 of 3 members active in the last 30 days (67%), ↑ up from 33% a week ago"
MATRIX_LINE = "41% of the messages, ↑ up from 0% the 7 days before"


async def test_migration_command_for_admins_only(seeded: Seeded) -> None:
    guild_id = seeded.sandbox.guild.id
    chat = await open_chat(seeded.admin)
    reply = (await chat.command(f"migration {guild_id}"))["body"]
    assert f"**Migration of Progress Guild** (`{guild_id}`)" in reply, reply
    assert LINKED_LINE in reply, reply
    assert "**Not linked yet:** Carol\\_\\*C\\*." in reply, reply
    assert MATRIX_LINE in reply, reply
    assert reply.index("- #lounge: 75% (9 of 12 messages)") < reply.index(
        "- #general: 0% (0 of 10 messages)"
    ), reply
    assert "**Cut-over:** not yet." in reply

    refused = await open_chat(seeded.member)
    answer = (await refused.command(f"migration {guild_id}"))["body"]
    assert answer.startswith("You may not use `migration`"), answer
    missing = (await chat.command("migration 123456789012345678"))["body"]
    assert missing == "⚠️ Guild 123456789012345678 is not bridged.", missing


async def test_slash_migration_names_only_for_managers(seeded: Seeded) -> None:
    sandbox = seeded.sandbox
    store = sandbox.emulator.store
    newcomer = store.create_user("newcomer").id
    store.add_member(sandbox.guild.id, newcomer)
    history = list(store.channel_messages.get(seeded.general, []))
    for_owner = await matrix_command(sandbox, sandbox.owner.id, seeded.general, "matrix migration")
    assert LINKED_LINE in for_owner.content, for_owner.content
    assert "**Not linked yet:** Carol\\_\\*C\\*." in for_owner.content, for_owner.content
    assert "#lounge: 75% (9 of 12 messages)" in for_owner.content
    for_member = await matrix_command(sandbox, newcomer, seeded.general, "matrix migration")
    assert LINKED_LINE in for_member.content and MATRIX_LINE in for_member.content
    assert "**Not linked yet:** 1 active member." in for_member.content, for_member.content
    assert "Carol" not in for_member.content
    assert "#lounge: 75%" in for_member.content
    # Only the members who ran it saw the answers: nothing was posted in the channel.
    assert store.channel_messages.get(seeded.general, []) == history

    # #lounge made private: a member who cannot see it is not told its name or numbers.
    hidden = [{"id": str(sandbox.guild.id), "type": 0, "allow": "0", "deny": str(1 << 10)}]
    store.update_channel(seeded.lounge, permission_overwrites=hidden)

    async def private_in_cache() -> bool:
        guild = seeded.bridge.discord.get_guild(sandbox.guild.id)
        channel = guild.get_channel(seeded.lounge) if guild else None
        return channel is not None and bool(channel.overwrites)

    await eventually(private_in_cache, "#lounge private in the bridge's Discord cache")
    try:
        for_member = await matrix_command(sandbox, newcomer, seeded.general, "matrix migration")
        assert "lounge" not in for_member.content, for_member.content
        for_owner = await matrix_command(
            sandbox, sandbox.owner.id, seeded.general, "matrix migration"
        )
        assert "#lounge: 75%" in for_owner.content, for_owner.content
    finally:
        store.update_channel(seeded.lounge, permission_overwrites=[])


async def test_provisioning_and_metrics_show_the_same_numbers(seeded: Seeded) -> None:
    guild_id, users = seeded.sandbox.guild.id, seeded.users
    async with aiohttp.ClientSession() as session:
        api = ProvisioningClient(base_url(seeded.bridge), session)
        answer = await api.get("/guilds/{guild_id}/migration", guild_id=guild_id)
        assert answer.status == 200, answer.body
        body = answer.body
        assert (body["active"], body["linked"]) == (3, 2)
        assert [m["discord_user_id"] for m in body["members"]] == [
            str(users[name]) for name in ("bob", "alice", "carol")
        ]
        assert [m["mxid"] for m in body["members"]] == [
            f"@bob_mx:{SERVER}",
            f"@alice_mx:{SERVER}",
            None,
        ]
        shares = {c["name"]: (c["from_matrix"], c["from_discord"]) for c in body["channels"]}
        assert shares == {"lounge": (9, 3), "general": (0, 10)}
        days = body["days"]
        assert len(days) == 30
        assert (days[-1]["active"], days[-1]["linked"]) == (3, 2)
        assert (days[-8]["active"], days[-8]["linked"]) == (3, 1)  # a week ago
        assert (days[-30]["active"], days[-30]["linked"]) == (1, 0)  # Dave only
        assert sum(d["from_matrix"] for d in days) == 9
        # Alice 2, Bob 7 (one in the thread), Carol 2, the bot 6; Dave's are older.
        assert sum(d["from_discord"] for d in days) == 2 + 7 + 2 + 6
        assert body["trend"]["linked_share"]["direction"] == "up"
        assert body["cutover"] is None
        unknown = await api.get("/guilds/{guild_id}/migration", guild_id=123456789012345678)
        assert unknown.status == 404 and unknown.body["errcode"] == "M_NOT_FOUND"

        async with session.get(seeded.metrics_url + "/metrics") as response:
            text = await response.text()
    samples = {
        (sample.name, sample.labels.get("guild")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("discord_bridge_migration_")
    }
    label = str(guild_id)
    assert samples[("discord_bridge_migration_active_members", label)] == 3
    assert samples[("discord_bridge_migration_linked_members", label)] == 2
    assert samples[("discord_bridge_migration_matrix_share", label)] == pytest.approx(9 / 22)
