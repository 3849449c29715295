"""Ghosts and media against the real bridge, Synapse and the Discord emulator.

Homeserver requests are counted by wrapping ``AppServiceAPI.request`` (every request of the
bot and of every ghost goes through it), so "no request when nothing changed" is measured.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import discord
import pytest
import pytest_asyncio
from mautrix.appservice import AppServiceAPI
from mautrix.types import ContentURI, RoomID, UserID

from bridge.app import Bridge
from bridge.convert.d2m.puppet import webhook_ghost_id
from bridge.convert.model import MemberSnapshot, UserSnapshot
from bridge.discord.user_snapshots import author_snapshot, member_snapshot, user_snapshot
from bridge.matrix.media import MediaRepo, allowed_media_hosts
from bridge.puppet import Puppets
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.matrix_client import MatrixTestClient, wait_until
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.homeserver import MakeMatrixUser

pytestmark = pytest.mark.slow
RED, BLUE = solid_png(200, 0, 0), solid_png(0, 0, 200)


@dataclass
class Requests:
    """Homeserver requests made by the appservice: (user, method, path)."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def since(self, mark: int) -> list[tuple[str, str, str]]:
        return self.calls[mark:]

    def uploads(self) -> int:
        return sum("/upload" in path for _, _, path in self.calls)

    def kinds(self, mark: int) -> list[tuple[str, str]]:
        """Who did what since ``mark``: ("bot"|"ghost", the endpoint's name)."""
        names = ("register", "displayname", "avatar_url", "upload", "join", "invite", "unban")
        return [
            (
                "bot" if user == "bot" else "ghost",
                "member"
                if "m.room.member" in path
                else next((name for name in names if f"/{name}" in path), path),
            )
            for user, _, path in self.since(mark)
        ]


@pytest.fixture
def hs_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[Requests]:
    requests = Requests()
    original = AppServiceAPI.request

    def counting(self: AppServiceAPI, method: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        requests.calls.append((str(self.identity or "bot"), str(method), str(path)))
        return original(self, method, path, *args, **kwargs)

    monkeypatch.setattr(AppServiceAPI, "request", counting)
    yield requests


@pytest_asyncio.fixture(loop_scope="session")
async def puppets(running_bridge: Bridge) -> AsyncIterator[Puppets]:
    """The bridge's own ghost layer; built here as the bridge builds it if it has none."""
    existing = getattr(running_bridge, "puppets", None)
    if isinstance(existing, Puppets):
        yield existing
        return
    config = running_bridge.config
    assert running_bridge.appservice and running_bridge.database
    tables = running_bridge.database.tables
    media = MediaRepo(tables, allowed_media_hosts(config), config["bridge.limits.max_file_size"])
    yield Puppets(
        running_bridge.appservice,
        tables,
        media,
        username_template=config["bridge.username_template"],
        displayname_template=config["bridge.displayname_template"],
        bot_suffix=config["bridge.bot_suffix"],
        domain=config["homeserver.domain"],
    )
    await media.close()


@pytest_asyncio.fixture(loop_scope="session")
async def human(make_matrix_user: MakeMatrixUser) -> MatrixTestClient:
    """A Matrix user who looks at the ghosts' profiles and rooms."""
    return await make_matrix_user()


async def bridged_room(puppets: Puppets, human: MatrixTestClient) -> str:
    """A private room of the bridge bot with the human in it, like a portal."""
    room_id = await puppets.appservice.intent.create_room(name="portal", invitees=[human.api.mxid])
    await human.join(room_id)
    return str(room_id)


async def discord_user(guild: SandboxGuild, running_bridge: Bridge, name: str, **kw: Any) -> Any:
    """A new emulator user, as discord.py sees it."""
    created = guild.emulator.store.create_user(name, **kw)
    return await running_bridge.discord.fetch_user(created.id)


async def download(human: MatrixTestClient, mxc: str) -> bytes:
    return await human.api.download_media(ContentURI(mxc))


async def member_state(human: MatrixTestClient, room_id: str, mxid: str) -> dict | None:
    return await human.state_event(room_id, "m.room.member", mxid)


async def test_ghost_is_made_lazily_with_name_and_avatar_and_only_once(
    running_bridge: Bridge,
    puppets: Puppets,
    sandbox_guild: SandboxGuild,
    human: MatrixTestClient,
    hs_requests: Requests,
) -> None:
    zoe = user_snapshot(
        await discord_user(sandbox_guild, running_bridge, "zoe", global_name="Zoë", avatar=RED)
    )
    assert zoe.avatar_url and zoe.avatar_url.startswith(sandbox_guild.emulator.cdn_url)
    mxid = puppets.mxid(str(zoe.id))
    assert mxid == f"@discord_{zoe.id}:sandbox.local" and puppets.is_ghost(mxid)
    assert not puppets.is_ghost("@discordbot:sandbox.local")

    mark = len(hs_requests.calls)
    intent = await puppets.ensure(zoe)
    first = hs_requests.since(mark)
    assert intent.mxid == mxid
    # register, displayname, upload, avatar: four requests for a new ghost.
    assert [(m, p.rsplit("/", 1)[-1]) for _, m, p in first] == [
        ("POST", "register"),
        ("PUT", "displayname"),
        ("POST", "upload"),
        ("PUT", "avatar_url"),
    ], first

    profile = await human.api.get_profile(UserID(mxid))
    assert profile.displayname == "Zoë (Discord)"
    assert await download(human, profile.avatar_url) == RED

    mark = len(hs_requests.calls)
    await puppets.ensure(zoe)
    assert hs_requests.since(mark) == []  # nothing changed: zero homeserver requests

    row = await running_bridge.database.tables.puppets.get(str(zoe.id))  # type: ignore[union-attr]
    assert row and row.name_set and row.avatar_set and row.avatar_hash == zoe.avatar_hash
    assert row.avatar_mxc == profile.avatar_url and not row.is_bot


async def test_avatar_is_uploaded_once_per_hash_and_changes_update_the_profile(
    running_bridge: Bridge,
    puppets: Puppets,
    sandbox_guild: SandboxGuild,
    human: MatrixTestClient,
    hs_requests: Requests,
) -> None:
    store = sandbox_guild.emulator.store
    ann = user_snapshot(await discord_user(sandbox_guild, running_bridge, "ann", avatar=BLUE))
    bob = user_snapshot(await discord_user(sandbox_guild, running_bridge, "bob", avatar=BLUE))
    assert ann.avatar_url != bob.avatar_url and ann.avatar_hash == bob.avatar_hash
    uploads = hs_requests.uploads()
    ann_intent, bob_intent = await puppets.ensure(ann), await puppets.ensure(bob)
    await puppets.ensure(ann)
    assert hs_requests.uploads() == uploads + 1  # one file, one upload, for two users
    ann_profile = await human.api.get_profile(ann_intent.mxid)
    bob_profile = await human.api.get_profile(bob_intent.mxid)
    assert ann_profile.avatar_url == bob_profile.avatar_url
    assert ann_profile.displayname == "ann (Discord)"

    # Discord changes come through discord.py; the ghost follows with one request each.
    store.update_user(ann.id, global_name="Ann Arbor", avatar=RED)
    changed = user_snapshot(await running_bridge.discord.fetch_user(ann.id))
    mark = len(hs_requests.calls)
    await puppets.ensure(changed)
    assert [p.rsplit("/", 1)[-1] for _, _, p in hs_requests.since(mark)] == [
        "displayname",
        "upload",
        "avatar_url",
    ]
    profile = await human.api.get_profile(ann_intent.mxid)
    assert profile.displayname == "Ann Arbor (Discord)"
    assert await download(human, profile.avatar_url) == RED

    # Removing the avatar clears it.
    store.update_user(ann.id, avatar=None)
    await puppets.ensure(user_snapshot(await running_bridge.discord.fetch_user(ann.id)))
    assert not (await human.api.get_profile(ann_intent.mxid)).avatar_url


async def test_bots_and_webhook_authors_are_marked(
    running_bridge: Bridge,
    puppets: Puppets,
    sandbox_guild: SandboxGuild,
    human: MatrixTestClient,
) -> None:
    bot_user = user_snapshot(await discord_user(sandbox_guild, running_bridge, "Helper", bot=True))
    assert bot_user.is_bot
    intent = await puppets.ensure(bot_user)
    assert (await human.api.get_profile(intent.mxid)).displayname == "Helper (Discord) [bot]"

    channel = sandbox_guild.guild.system_channel_id
    assert channel
    hook = sandbox_guild.emulator.store.create_webhook(channel, "CI", avatar=RED)
    posted = sandbox_guild.emulator.store.create_message(
        channel, hook.id, "build passed", webhook_id=hook.id, webhook_name="GitHub"
    )
    discord_channel = running_bridge.discord.get_channel(channel)
    assert isinstance(discord_channel, discord.TextChannel)
    ghost_id, author = author_snapshot(await discord_channel.fetch_message(posted.id))
    assert ghost_id == webhook_ghost_id(hook.id, "GitHub")
    assert author.is_bot and author.id == hook.id and author.avatar_hash == hook.avatar
    intent = await puppets.ensure(author, ghost_id=ghost_id)
    assert intent.mxid == f"@discord_{ghost_id}:sandbox.local" and puppets.is_ghost(intent.mxid)
    assert puppets.ghost_id_of(intent.mxid) == ghost_id
    profile = await human.api.get_profile(intent.mxid)
    assert profile.displayname == "GitHub (Discord) [bot]"
    assert await download(human, profile.avatar_url) == RED
    other = await puppets.ensure(
        replace(author, username="Jenkins"), ghost_id=webhook_ghost_id(hook.id, "Jenkins")
    )
    assert other.mxid != intent.mxid
    row = await running_bridge.database.tables.puppets.get(ghost_id)  # type: ignore[union-attr]
    assert row and row.is_bot


async def test_guild_nick_and_avatar_show_in_that_guilds_room_only(
    running_bridge: Bridge,
    puppets: Puppets,
    sandbox_guild: SandboxGuild,
    human: MatrixTestClient,
    hs_requests: Requests,
) -> None:
    store = sandbox_guild.emulator.store
    created = store.create_user("zed", global_name="Zed", avatar=RED)
    store.add_member(sandbox_guild.guild.id, created.id, nick="Z", avatar=BLUE, join_message=False)
    guild = running_bridge.discord.get_guild(sandbox_guild.guild.id)
    assert guild
    member = member_snapshot(await guild.fetch_member(created.id))
    assert member.nick == "Z" and member.guild_avatar_hash
    user = user_snapshot(await running_bridge.discord.fetch_user(created.id))
    guild_room, other_room = await bridged_room(puppets, human), await bridged_room(puppets, human)

    intent = await puppets.ensure(user)
    mark = len(hs_requests.calls)
    await puppets.join(intent, guild_room, user=user, member=member)
    joined = hs_requests.kinds(mark)
    await puppets.join(intent, other_room, user=user, member=None)
    assert hs_requests.uploads() >= 1
    in_guild = await member_state(human, guild_room, intent.mxid)
    assert in_guild and in_guild["membership"] == "join"
    assert in_guild["displayname"] == "Z (Discord)"
    assert await download(human, in_guild["avatar_url"]) == BLUE
    elsewhere = await member_state(human, other_room, intent.mxid)
    assert elsewhere and elsewhere["displayname"] == "Zed (Discord)"
    assert await download(human, elsewhere["avatar_url"]) == RED
    # Guild avatar upload; the join with the nick (refused: not invited) → the bot invites
    # with the nick → the join with it: the room never shows the global profile (issue #15).
    assert joined == [
        ("ghost", "upload"),
        ("ghost", "member"),
        ("bot", "member"),
        ("ghost", "member"),
    ], joined

    mark = len(hs_requests.calls)
    await puppets.ensure(user)
    await puppets.join(intent, guild_room, user=user, member=member)
    await puppets.join(intent, other_room, user=user, member=None)
    assert hs_requests.since(mark) == []  # already there, as wanted: zero requests

    # A global rename: Synapse rewrites every room, the guild nick is put back.
    store.update_user(created.id, global_name="Zedd")
    user = user_snapshot(await running_bridge.discord.fetch_user(created.id))
    mark = len(hs_requests.calls)
    await puppets.ensure(user)
    await puppets.join(intent, guild_room, user=user, member=member)
    await puppets.join(intent, other_room, user=user, member=None)

    async def names(room_id: str) -> list[str]:
        events = await human.timeline(room_id, types=["m.room.member"])
        return [e["content"].get("displayname") for e in events if e["state_key"] == intent.mxid]

    async def settled() -> bool:
        other = await member_state(human, other_room, intent.mxid)
        # Synapse's rewrite reached the guild room too, and was undone.
        rewritten = (await names(guild_room))[-2:] == ["Zedd (Discord)", "Z (Discord)"]
        return bool(rewritten and other and other.get("displayname") == "Zedd (Discord)")

    await wait_until(settled, what="the nick to survive the rename")
    # One profile request, and one member event to put the nick back; nothing else.
    assert hs_requests.kinds(mark) == [("ghost", "displayname"), ("ghost", "member")]
    assert (await names(other_room))[-1] == "Zedd (Discord)"

    # The nick removed: the guild room shows the global name again.
    member = replace(member, nick=None, guild_avatar_url=None, guild_avatar_hash=None)
    await puppets.join(intent, guild_room, user=user, member=member)
    state = await member_state(human, guild_room, intent.mxid)
    assert state and state["displayname"] == "Zedd (Discord)"
    assert await download(human, state["avatar_url"]) == RED


async def test_leave_and_ban_are_seen_as_membership(
    running_bridge: Bridge,
    puppets: Puppets,
    sandbox_guild: SandboxGuild,
    human: MatrixTestClient,
    hs_requests: Requests,
) -> None:
    rooms = [await bridged_room(puppets, human) for _ in range(3)]
    user = UserSnapshot(id=sandbox_guild.owner.id, username="owner", global_name="Guild Owner")
    intent = await puppets.ensure(user)
    for room in rooms:
        await puppets.join(intent, room, user=user, member=MemberSnapshot(user.id, nick="Boss"))
    ghost_id = str(user.id)

    await puppets.leave(ghost_id, rooms[:1], reason="left the guild")
    left = await member_state(human, rooms[0], intent.mxid)
    assert left and left["membership"] == "leave" and left.get("reason") == "left the guild"
    # Leaving again, or a member who never had a ghost: nothing to do, no request.
    mark = len(hs_requests.calls)
    await puppets.leave(ghost_id, rooms[:1])
    await puppets.leave("1234567890", rooms)
    assert hs_requests.since(mark) == []

    # Banning where the ghost is, and where the bot is not: the latter is only logged.
    gone = await puppets.appservice.intent.create_room(name="bot leaves")
    await puppets.appservice.intent.leave_room(gone)
    await puppets.ban(ghost_id, [rooms[1], str(gone), rooms[2]], reason="banned on Discord")
    for room in rooms[1:]:
        banned = await member_state(human, room, intent.mxid)
        assert banned and banned["membership"] == "ban"
        assert banned.get("reason") == "banned on Discord"

    # Joining again after a ban: the bot unbans and invites.
    await puppets.join(intent, rooms[1], user=user, member=None)
    back = await member_state(human, rooms[1], intent.mxid)
    assert back and back["membership"] == "join"
    assert RoomID(rooms[1]) in await intent.get_joined_rooms()
