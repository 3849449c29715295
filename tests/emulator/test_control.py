"""The HTTP control API: acting as users and admins, reading what the bot posted, faults."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio

from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.discord.control_client import Control, ControlError
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Guild, User

from .conftest import Bot
from .gateway_client import connected_client
from .openapi import validate_component

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(60)]

PNG = base64.b64encode(solid_png(10, 20, 30)).decode()


@pytest_asyncio.fixture(loop_scope="session")
async def control(emulator: DiscordEmulator) -> AsyncIterator[Control]:
    async with Control(f"{emulator.base_url}/_control") as c:
        yield c


def general(guild: Guild) -> str:
    return str(guild.system_channel_id)


async def test_build_a_community_over_http(control: Control, emulator: DiscordEmulator) -> None:
    owner = await control.create_user("alice", global_name="Alice", avatar=PNG)
    validate_component("UserResponse", owner)
    bot = await control.request(
        "POST", "/bots", {"username": "HTTP Bot", "privileged_intents": ["GUILD_MEMBERS"]}
    )
    guild = await control.request(
        "POST", "/guilds", {"name": "Made over HTTP", "owner_id": owner["id"], "icon": PNG}
    )
    gid = guild["id"]
    await control.add_member(gid, bot["user"]["id"])
    role = await control.request(
        "POST", f"/guilds/{gid}/roles", {"name": "Mods", "permissions": "8192"}
    )
    validate_component("GuildRoleResponse", role)
    user = await control.create_user("bob")
    member = await control.add_member(gid, user["id"], nick="Bobby", roles=[role["id"]])
    validate_component("GuildMemberResponse", member)
    category = await control.create_channel(gid, "Stuff", type=4)
    channel = await control.create_channel(gid, "talk", parent_id=category["id"], topic="t")
    validate_component("GuildChannelResponse", channel)
    forum = await control.create_channel(gid, "forum", type=15)
    post = await control.request(
        "POST",
        f"/channels/{forum['id']}/threads",
        {"name": "Q", "user_id": user["id"], "content": "?"},
    )
    validate_component("ThreadResponse", post)
    emoji = await control.request("POST", f"/guilds/{gid}/emojis", {"name": "e", "image": PNG})
    validate_component("EmojiResponse", emoji)
    sticker = await control.request(
        "POST", f"/guilds/{gid}/stickers", {"name": "s", "image": PNG, "tags": "x"}
    )
    validate_component("GuildStickerResponse", sticker)
    full = await control.request("GET", f"/guilds/{gid}")
    assert {c["name"] for c in full["channels"]} >= {"general", "Stuff", "talk", "forum"}
    assert [t["name"] for t in full["threads"]] == ["Q"]
    assert {m["user"]["username"] for m in full["members"]} == {"alice", "bob", "HTTP Bot"}
    state = await control.state()
    assert any(b["token"] == bot["token"] for b in state["bots"])
    updated = await control.request("PATCH", f"/guilds/{gid}", {"name": "Renamed"})
    assert updated["name"] == "Renamed"
    await control.request("DELETE", f"/guilds/{gid}/members/{user['id']}")
    assert int(user["id"]) not in emulator.store.guilds[int(gid)].members


async def test_users_act_and_the_bot_sees_it(
    control: Control, emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User
) -> None:
    channel_id = general(guild)
    async with connected_client(emulator, bot.token) as client:
        posted = await control.post_message(
            channel_id, owner.id, "hi bot", files={"a.txt": b"hello"}
        )
        validate_component(
            "MessageResponse", {k: v for k, v in posted.items() if k not in ("guild_id", "member")}
        )
        (message,) = await client.next_event("message", lambda m: m.id == int(posted["id"]))
        assert message.attachments[0].filename == "a.txt"
        assert await message.attachments[0].read() == b"hello"
        reply = await control.post_message(channel_id, owner.id, "a reply", reply_to=posted["id"])
        assert reply["type"] == 19
        mid = posted["id"]
        await control.request(
            "PATCH", f"/channels/{channel_id}/messages/{mid}", {"content": "edited"}
        )
        await client.next_event("message_edit", lambda b, a: a.content == "edited")
        await control.react(channel_id, mid, owner.id, "👍")
        await client.next_event("raw_reaction_add", lambda e: e.message_id == int(mid))
        await control.request(
            "DELETE",
            f"/channels/{channel_id}/messages/{mid}/reactions",
            {"user_id": str(owner.id), "emoji": "👍"},
        )
        await client.next_event("raw_reaction_remove", lambda e: e.message_id == int(mid))
        await control.request(
            "PUT", f"/channels/{channel_id}/pins/{mid}", {"user_id": str(owner.id)}
        )
        await client.next_event("guild_channel_pins_update", lambda c, t: c.id == int(channel_id))
        await control.request("POST", f"/channels/{channel_id}/typing", {"user_id": str(owner.id)})
        await client.next_event("raw_typing", lambda e: e.user_id == owner.id)
        await control.request("DELETE", f"/channels/{channel_id}/messages/{reply['id']}")
        await client.next_event("raw_message_delete", lambda e: e.message_id == int(reply["id"]))
        thread = await control.request(
            "POST",
            f"/channels/{channel_id}/threads",
            {"name": "th", "user_id": str(owner.id), "message_id": mid},
        )
        await client.next_event("thread_create", lambda t: t.id == int(thread["id"]))
        await control.request("POST", f"/guilds/{guild.id}/thread-list-sync", {})
        await client.wait_until(lambda: client.dispatches("THREAD_LIST_SYNC"))
        await control.request(
            "POST",
            "/interactions",
            {
                "application_id": str(bot.application.id),
                "user_id": str(owner.id),
                "channel_id": channel_id,
                "data": {"id": "1", "name": "ping", "type": 1},
            },
        )
        await client.next_event("interaction")

        # What the bot posts over REST is readable through the control API.
        before = (await control.messages(channel_id))[-1]["id"]
        channel = client.get_channel(int(channel_id))
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("from the bot")
        hook = await channel.create_webhook(name="Relay")
        await hook.send("from a webhook", username="Someone", wait=True)
        by_bridge = await control.messages(channel_id, after=before, source="bridge")
        assert [m["content"] for m in by_bridge] == ["from the bot", "from a webhook"]
        assert [
            m["content"]
            for m in await control.messages(channel_id, after=before, source="webhooks")
        ] == ["from a webhook"]
        assert by_bridge[0]["id"] == str(sent.id)


async def test_multipart_post_and_bulk_delete(
    control: Control, emulator: DiscordEmulator, guild: Guild, owner: User
) -> None:
    channel_id = general(guild)
    form = aiohttp.FormData()
    form.add_field(
        "payload_json",
        f'{{"user_id": "{owner.id}", "content": "with a file"}}',
        content_type="application/json",
    )
    form.add_field("files[0]", solid_png(1, 1, 1), filename="pic.png", content_type="image/png")
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{control.url}/channels/{channel_id}/messages", data=form) as resp,
    ):
        assert resp.status == 201
        body = await resp.json()
    assert (
        body["attachments"][0]["filename"] == "pic.png"
        and body["attachments"][0]["content_type"] == "image/png"
    )
    ids = [(await control.post_message(channel_id, owner.id, f"m{n}"))["id"] for n in range(3)]
    await control.request(
        "POST", f"/channels/{channel_id}/messages/bulk-delete", {"message_ids": ids}
    )
    assert all(int(i) not in emulator.store.messages for i in ids)


async def test_seed_100k_messages_quickly(
    control: Control, emulator: DiscordEmulator, guild: Guild, owner: User
) -> None:
    channel = await control.create_channel(guild.id, "archive")
    started = time.perf_counter()
    result = await control.seed_history(
        channel["id"],
        count=100_000,
        user_ids=[str(owner.id)],
        interval=30,
        start="2020-01-01T00:00:00Z",
    )
    elapsed = time.perf_counter() - started
    assert result["count"] == 100_000 and elapsed < 10, elapsed
    history = emulator.store.history(int(channel["id"]), limit=2)
    assert history[0].content == "message 99999"
    assert emulator.store.message_time(history[0]).year == 2020
    entries = [
        {
            "user_id": str(owner.id),
            "content": "old",
            "timestamp": "2019-05-01T10:00:00Z",
            "pinned": True,
        }
    ]
    small = await control.seed_history(channel["id"], messages=entries)
    assert emulator.store.messages[int(small["first_id"])].pinned


async def test_errors(control: Control) -> None:
    with pytest.raises(ControlError) as caught:
        await control.request("PATCH", "/channels/1/messages/2", {"content": "x"})
    assert caught.value.status == 404 and caught.value.body["code"] == 10008
    with pytest.raises(ControlError) as caught:
        await control.request("POST", "/users", {})
    assert caught.value.status == 400


async def test_rest_faults(control: Control, emulator: DiscordEmulator, bot: Bot) -> None:
    await control.fail_rest(503, count=1, pattern="GET /users/@me")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {bot.token}"}) as http:
        async with http.get(f"{emulator.api_url}/users/@me") as resp:
            assert resp.status == 503
        async with http.get(f"{emulator.api_url}/users/@me") as resp:
            assert resp.status == 200
    faults: dict[str, Any] = await control.request("POST", "/faults/rest", {"delay": 0.2})
    assert faults["delay"] == 0.2
    await control.request("DELETE", "/faults/rest")
    assert (await control.request("GET", "/faults"))["rest"] == {"delay": 0.0, "rules": []}


async def test_gateway_faults_over_http(
    control: Control, emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User
) -> None:
    async with connected_client(emulator, bot.token) as client:
        status = await control.request("GET", "/gateway")
        assert any(s["connected"] and s["bot_id"] == str(bot.user.id) for s in status["sessions"])
        assert (await control.drop_gateway())["dropped"] >= 1
        missed = await control.post_message(general(guild), owner.id, "while down")
        await client.next_event("resumed")
        await client.next_event("message", lambda m: m.id == int(missed["id"]))
        await control.request("POST", "/faults/gateway/reconnect")
        await client.wait_until(lambda: len(client.received("resumed")) == 2)
        delay = await control.request("POST", "/faults/gateway/delay", {"seconds": 0.1})
        assert delay["dispatch_delay"] == 0.1
        await control.request("POST", "/faults/gateway/delay", {"seconds": 0})
        await control.request("POST", "/faults/gateway/invalidate", {"resumable": True})
        await client.wait_until(lambda: len(client.received("resumed")) == 3)
        await control.request(
            "POST",
            "/dispatch",
            {
                "t": "GUILD_UPDATE",
                "d": {"id": str(guild.id), "name": "Raw"},
                "guild_id": str(guild.id),
                "intent": "GUILDS",
            },
        )
        await client.next_event("guild_update", lambda b, a: a.name == "Raw")
