"""Linking accounts with one-time codes, end to end: ``/matrix link`` on Discord (the emulator)
and ``link`` to the bridge bot on Matrix (Synapse), both ways; wrong, expired, reused and
wrong-side codes; guessing held back; conflicts; unlink on both sides; levels.

One bridge for the module, with a small bridged guild; each test uses its own people.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bridge.app import Bridge
from bridge.db.tables import BridgeTables
from bridge.migration.links import AccountLinks
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.commands.conftest import BOT, Chat, open_chat
from tests.commands.test_slash import matrix_command, registered
from tests.fixtures.community import SERVER, eventually
from tests.fixtures.discord import SandboxGuild, validated_responses
from tests.fixtures.inprocess import sandbox_config

pytestmark = pytest.mark.slow

CODE = re.compile(r"\*\*`([A-Z0-9]{4}-[A-Z0-9]{4})`\*\*")


@dataclass
class Linking:
    """The module's bridge, its bridged guild, and Matrix users by name with their levels."""

    bridge: Bridge
    sandbox: SandboxGuild
    synapse: LocalSynapse
    levels: dict[str, str]  # name → level; anyone else has none
    tag: str
    clients: list[MatrixTestClient]

    @property
    def tables(self) -> BridgeTables:
        assert self.bridge.database is not None
        return self.bridge.database.tables

    @property
    def links(self) -> AccountLinks:
        assert self.bridge.admin is not None
        return self.bridge.admin.links

    def mxid(self, name: str) -> str:
        return f"@{name}_{self.tag}:{SERVER}"

    def member(self, name: str) -> int:
        """A new member of the guild on Discord."""
        store = self.sandbox.emulator.store
        user = store.create_user(f"{name}_{self.tag}", global_name=name.title())
        store.add_member(self.sandbox.guild.id, user.id)
        return user.id

    async def matrix_user(self, name: str) -> MatrixTestClient:
        user_id, token = await self.synapse.register_user(
            f"{name}_{self.tag}", secrets.token_urlsafe(12)
        )
        client = MatrixTestClient(self.synapse.url, token, user_id)
        self.clients.append(client)
        return client

    async def discord(self, user_id: int, command: str, **options: Any) -> str:
        """``/matrix …`` by the member in the guild's channel: the ephemeral answer's text."""
        channel = self.sandbox.guild.system_channel_id
        assert channel is not None
        answer = await matrix_command(self.sandbox, user_id, channel, command, **options)
        return answer.content


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def linking(
    discord_emulator: DiscordEmulator,
    synapse: LocalSynapse,
    bridge_config_path: Path,
    appservice_registration: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Linking]:
    store = discord_emulator.store
    owner = store.create_user("owner", global_name="Guild Owner")
    bot, application, token = store.create_bot("Matrix Bridge")
    guild = store.create_guild("Link Guild", owner.id)
    store.add_member(guild.id, bot.id)
    sandbox = SandboxGuild(discord_emulator, guild, owner, bot, application, token)
    tag = secrets.token_hex(3)
    levels = {"mia": "user", "mia2": "user", "noah": "user", "olga": "user", "rex": "relay"}
    permissions = {f"@{name}_{tag}:{SERVER}": level for name, level in levels.items()}
    config = sandbox_config(
        bridge_config_path,
        synapse,
        sandbox,
        tmp_path_factory.mktemp("linking") / "bridge.db",
        {
            "bridge.permissions": json.dumps(permissions),
        },
    )
    clients: list[MatrixTestClient] = []
    with validated_responses(discord_emulator):
        bridge = Bridge(config)
        try:
            await bridge.start()
            assert bridge.guilds is not None
            await bridge.guilds.bridge_guild(guild.id)
            await eventually(
                lambda: registered(store, application.id, guild.id), "/matrix registered"
            )
            yield Linking(bridge, sandbox, synapse, levels, tag, clients)
        finally:
            for client in clients:
                await client.close()
            await bridge.stop()


def code_in(text: str) -> str:
    found = CODE.search(text)
    assert found, text
    return found.group(1)


async def code_row(linking: Linking, code: str) -> Any:
    digest = hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    return await linking.tables.link_codes.get(digest)


async def notice_containing(client: MatrixTestClient, room_id: str, text: str) -> str:
    """A notice of the bot in the room whose body contains ``text``."""

    async def check() -> str | None:
        for event in await client.timeline(room_id, types=["m.room.message"]):
            body = event["content"].get("body", "")
            if event["sender"] == BOT and text in body:
                return body
        return None

    return await eventually(check, f"the bot's notice with {text!r}")


async def test_a_code_from_discord_links_on_matrix_once_and_unlink_on_matrix(
    linking: Linking,
) -> None:
    dana, mia = linking.member("dana"), await linking.matrix_user("mia")
    chat = await open_chat(mia)
    answer = await linking.discord(dana, "matrix link")
    code = code_in(answer)
    assert f"send `link {code}` to `{BOT}` in a direct chat" in answer, answer
    row = await code_row(linking, code)
    assert row is not None and (row.issued_on, row.discord_user_id) == ("discord", dana)
    assert row.expires_at - row.created_at == 15 * 60 * 1000 and row.used_at is None
    assert code.replace("-", "") not in repr(await linking.tables.link_codes.find())

    # Typed on Discord, where it was made: refused, saying where it goes.
    answer = await linking.discord(dana, "matrix link", code=code.lower())
    assert answer.startswith("That code was made here on Discord: it is for Matrix"), answer
    assert f"`link {code}` to `{BOT}`" in answer

    reply = await chat.command(f"link  {code.replace('-', '').lower()} ")
    assert reply["body"].startswith(
        "Linked: your Matrix account is now linked to the Discord account **Dana**"
    ), reply["body"]
    assert f"`dana_{linking.tag}`, ID `{dana}`" in reply["body"]
    assert linking.links.mxid_for(dana) == mia.user_id
    assert linking.links.discord_for(mia.user_id) == dana
    [link] = await linking.tables.account_links.find("discord_user_id = $1", dana)
    assert (link.mxid, link.via, link.unlinked_at) == (mia.user_id, "matrix", None)
    assert (await code_row(linking, code)).used_at is not None

    reply = await chat.command(f"link {code}")
    assert reply["body"].startswith("⚠️ That code was used already"), reply["body"]
    # Dana is linked: a new code would be of no use.
    answer = await linking.discord(dana, "matrix link")
    assert f"linked to the Matrix account `{mia.user_id}` already" in answer, answer
    assert "`/matrix unlink` first" in answer

    reply = await chat.command("unlink")
    assert reply["body"].startswith(
        "Unlinked: your Matrix account is no longer linked to the Discord account **Dana**"
    ), reply["body"]
    assert linking.links.mxid_for(dana) is None
    [link] = await linking.tables.account_links.find("discord_user_id = $1", dana)
    assert link.unlinked_at is not None
    reply = await chat.command("unlink")
    assert (
        reply["body"]
        == "Your Matrix account is not linked to a Discord account: nothing to unlink."
    )


async def test_a_code_from_matrix_links_on_discord_and_unlink_on_discord(
    linking: Linking,
) -> None:
    erin, hank, noah = (
        linking.member("erin"),
        linking.member("hank"),
        await linking.matrix_user("noah"),
    )
    chat = await open_chat(noah)
    first = code_in((await chat.command("link"))["body"])
    reply = await chat.command("link")
    assert f"`/matrix link code:{code_in(reply['body'])}`" in reply["body"], reply["body"]
    assert "works once, for 15 minutes (until " in reply["body"]
    code = code_in(reply["body"])
    row = await code_row(linking, code)
    assert row is not None and (row.issued_on, row.mxid, row.discord_user_id) == (
        "matrix",
        noah.user_id,
        None,
    )

    # The newer code replaced the first one.
    answer = await linking.discord(erin, "matrix link", code=first)
    assert answer.startswith("That code has expired"), answer
    answer = await linking.discord(erin, "matrix link", code=f" {code.lower()} ")
    assert answer.startswith(
        f"Linked: your Discord account is now linked to the Matrix account `{noah.user_id}`"
    ), answer
    assert linking.links.mxid_for(erin) == noah.user_id
    [link] = await linking.tables.account_links.find("discord_user_id = $1", erin)
    assert (link.mxid, link.via) == (noah.user_id, "discord")
    # Matrix is told too, in the direct chat: a code typed by someone else would show here.
    notice = await notice_containing(noah, chat.room_id, "is now linked to the Discord account")
    assert f"**Erin** (`erin_{linking.tag}`, ID `{erin}`)" in notice and "send `unlink`" in notice

    # Noah's account is linked to Erin's: a code from Hank is refused, and stays valid.
    hanks = code_in(await linking.discord(hank, "matrix link"))
    reply = await chat.command(f"link {hanks}")
    assert reply["body"].startswith(
        f"⚠️ Your Matrix account is linked to the Discord account **Erin** (`erin_{linking.tag}`, ID `{erin}`) already. Send `unlink` first"
    ), reply["body"]
    assert (await code_row(linking, hanks)).used_at is None
    assert linking.links.mxid_for(hank) is None

    answer = await linking.discord(erin, "matrix unlink")
    assert (
        answer
        == f"Unlinked: your Discord account is no longer linked to the Matrix account `{noah.user_id}`."
    )
    assert linking.links.discord_for(noah.user_id) is None
    await notice_containing(noah, chat.room_id, "unlinked itself from your Matrix account")
    answer = await linking.discord(erin, "matrix unlink")
    assert answer == "Your Discord account is not linked to a Matrix account: nothing to unlink."


async def test_wrong_expired_and_guessed_codes(linking: Linking) -> None:
    gus, olga = linking.member("gus"), await linking.matrix_user("olga")
    chat = await open_chat(olga)
    code = code_in(await linking.discord(gus, "matrix link"))
    row = await code_row(linking, code)
    await linking.tables.db.execute(
        "UPDATE link_code SET expires_at = $1 WHERE code_hash = $2", row.created_at, row.code_hash
    )
    reply = await chat.command(f"link {code}")
    assert reply["body"].startswith("⚠️ That code has expired: codes last 15 minutes"), reply["body"]
    reply = await chat.command("link hello")
    assert reply["body"].startswith("⚠️ `hello` is not a link code"), reply["body"]

    fresh = code_in(await linking.discord(gus, "matrix link"))
    for attempt in range(5):
        reply = await chat.command("link ZZZZ-ZZZ" + "23456"[attempt])
        assert reply["body"].startswith("⚠️ No such link code"), reply["body"]
    reply = await chat.command(f"link {fresh}")  # right, but after 5 wrong ones
    assert reply["body"].startswith("⚠️ Too many wrong link codes: try again in 15 minutes"), reply[
        "body"
    ]
    assert linking.links.mxid_for(gus) is None
    assert (await code_row(linking, fresh)).used_at is None


async def test_relay_level_links_with_the_prefix_and_no_level_is_refused(
    linking: Linking,
) -> None:
    mia2, rex, nina = [await linking.matrix_user(n) for n in ("mia2", "rex", "nina")]
    finn = linking.member("finn")
    # A room of a user-level member with the bot, a relay-level user and one with no level.
    room = await rex_room(mia2, rex, nina)
    reply = await Chat(rex, room).command("!discord help")
    assert "`!discord link [code]`" in reply["body"] and "`!discord unlink`" in reply["body"]
    reply = await Chat(rex, room).command("!discord link")
    assert reply["body"].startswith("⚠️ I give link codes only in a direct chat with me"), reply[
        "body"
    ]
    assert not CODE.search(reply["body"])

    code = code_in(await linking.discord(finn, "matrix link"))
    reply = await Chat(nina, room).command(f"!discord link {code}")
    assert reply["body"].startswith("You may not use this bridge"), reply["body"]
    assert (await code_row(linking, code)).used_at is None
    reply = await Chat(rex, room).command(f"!discord link {code}")
    assert reply["body"].startswith(
        "Linked: your Matrix account is now linked to the Discord account **Finn**"
    ), reply["body"]
    assert "Send `!discord unlink` to undo it." in reply["body"]
    assert linking.links.mxid_for(finn) == rex.user_id
    reply = await Chat(rex, room).command("!discord unlink")
    assert reply["body"].startswith("Unlinked"), reply["body"]

    # A direct chat offered by the relay-level user is declined with how to link instead.
    direct = await rex.create_room(invite=[BOT], is_direct=True)

    async def declined() -> dict | None:
        for event in await rex.state(direct, "m.room.member"):
            if event["state_key"] == BOT and event["content"].get("membership") == "leave":
                return event["content"]
        return None

    content = await eventually(declined, "the bot declining the direct chat")
    assert "run /matrix link on Discord, then send `!discord link CODE`" in content["reason"]


async def rex_room(owner: MatrixTestClient, *others: MatrixTestClient) -> str:
    room = await owner.create_room("Talk", invite=[BOT, *(o.user_id for o in others)])

    async def bot_joined() -> bool | None:
        return True if BOT in await owner.api.get_joined_members(room) else None  # type: ignore[arg-type]

    await eventually(bot_joined, "the bot joining the room")
    for other in others:
        await other.join(room)
    return room


async def test_link_in_a_guild_that_is_not_bridged(linking: Linking) -> None:
    store, sandbox = linking.sandbox.emulator.store, linking.sandbox
    other = store.create_guild("Other Guild", sandbox.owner.id)
    ivy = store.create_user(f"ivy_{linking.tag}").id
    store.add_member(other.id, ivy)
    store.add_member(other.id, sandbox.bot.id)
    await eventually(lambda: registered(store, sandbox.application.id, other.id), "/matrix there")
    assert other.system_channel_id is not None
    answer = await matrix_command(sandbox, ivy, other.system_channel_id, "matrix link")
    assert answer.content.startswith(
        "**Other Guild** is not bridged to Matrix, so `/matrix link` does not work here"
    ), answer.content
    assert await linking.tables.link_codes.find("discord_user_id = $1", ivy) == []
