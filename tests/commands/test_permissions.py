"""Every command at every level: allowed, or refused with the refusal text; `help` lists only
what the sender may use; bad and missing arguments name the argument.

Most of it runs ``MatrixCommands.run`` with a hand-made context and executors that only say
they ran; the end-to-end tests at the bottom check the same through Matrix.
"""

from __future__ import annotations

import argparse
import re
from types import SimpleNamespace
from typing import Any

import pytest

from bridge.actions.admin.services import ActionError
from bridge.app import Bridge
from bridge.commands import executors
from bridge.commands.context import CommandContext
from bridge.commands.matrix_door import MatrixCommands
from bridge.commands.render import Reply, refusal_reply
from bridge.commands.table import COMMANDS
from bridge.permissions import Level
from tests.commands.conftest import BOT, Chat, People, localpart, open_chat
from tests.fixtures.community import eventually

PREFIX = "!discord"
LEVELS = [Level.ADMIN, Level.USER, Level.RELAY, Level.NONE]
# Arguments each command accepts (a new command must be added here).
VALID = {
    "help": [],
    "version": [],
    "ping": [],
    "guilds": [],
    "link": ["ABCD-EFGH"],
    "unlink": [],
    "bridge": ["123", "--import"],
    "bridge-room": ["456"],
    "unbridge": ["123", "--delete-rooms"],
    "sync": ["123"],
    "import": ["123", "--since", "2024-01-31", "--replace-rooms"],
    "cancel": [],
    "status": ["123"],
    "migration": ["123"],
    "invite": ["@alice:example.com", "123"],
    "cutover": ["123", "--read-only", "--message", "We moved to Matrix"],
    "set-relay": [],
    "unset-relay": [],
    "delete-portal": [],
    "handover": ["123"],
}
# Commands with a required argument: the argument's name in the error.
MISSING = {
    "bridge": "guild",
    "bridge-room": "channel",
    "unbridge": "target",
    "sync": "guild",
    "migration": "guild",
    "import": "target",
    "invite": "user",
    "handover": "guild",
    "cutover": "guild",
}
# A bad value for each command that takes one, and the argument the reply names.
BAD = {
    "bridge": (["abc"], "argument guild"),
    "bridge-room": (["#lounge"], "argument channel"),
    "unbridge": (["0"], "argument target"),
    "sync": (["12ab"], "argument guild"),
    "import": (["123", "--since", "yesterday"], "argument --since"),
    "cancel": (["abc"], "argument target"),
    "status": (["abc"], "argument guild"),
    "migration": (["x1"], "argument guild"),
    "invite": (["alice"], "argument user"),
    "handover": (["abc"], "argument guild"),
    "cutover": (["12ab", "--undo"], "argument guild"),
}


def context(level: Level, *, management_room: bool = False) -> CommandContext:
    async def reply(message: Reply) -> str:
        return "$reply"

    async def edit(target: str, message: Reply) -> None:
        return None

    return CommandContext(
        services=SimpleNamespace(config={"bridge.command_prefix": PREFIX}),  # type: ignore[arg-type]
        sender="@someone:example.com",
        room_id="!room:example.com",
        event_id="$command",
        level=level,
        prefix=PREFIX,
        management_room=management_room,
        reply=reply,
        edit=edit,
    )


@pytest.fixture
def door(monkeypatch: pytest.MonkeyPatch) -> MatrixCommands:
    """The Matrix door, with executors that only say what ran (``help`` stays real)."""
    for name in COMMANDS:
        if name == "help":
            continue

        async def ran(
            ctx: CommandContext, arguments: argparse.Namespace, name: str = name
        ) -> Reply:
            return Reply(f"ran {name} {sorted(vars(arguments).items())}")

        monkeypatch.setitem(executors.EXECUTORS, name, ran)
    services = SimpleNamespace(config={"bridge.command_prefix": PREFIX})
    return MatrixCommands(services)  # type: ignore[arg-type]


def test_every_command_has_sample_arguments() -> None:
    assert set(VALID) == set(COMMANDS)
    assert set(MISSING) | set(BAD) <= set(COMMANDS)


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.name.lower())
@pytest.mark.parametrize("name", list(COMMANDS))
async def test_every_command_at_every_level(door: MatrixCommands, name: str, level: Level) -> None:
    spec = COMMANDS[name]
    reply = await door.run(context(level), name, VALID[name])
    assert reply is not None
    if level >= spec.level:
        if name == "help":
            assert reply.markdown.startswith("**Commands you may use**")
        else:
            assert reply.markdown.startswith(f"ran {name} "), reply.markdown
        return
    assert reply == refusal_reply(spec, level)
    if level is Level.NONE:
        assert reply.markdown.startswith("You may not use this bridge")
        assert "gives you no level" in reply.markdown
    else:
        assert reply.markdown.startswith(f"You may not use `{name}`: it needs the ")
        assert f"`{spec.level.name.lower()}` level" in reply.markdown
        assert f"yours is `{level.name.lower()}`" in reply.markdown


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.name.lower())
async def test_help_lists_exactly_what_the_sender_may_use(
    door: MatrixCommands, level: Level
) -> None:
    reply = await door.run(context(level), "help", [])
    assert reply is not None
    listed = re.findall(r"^- `!discord ([a-z-]+)[ `]", reply.markdown, flags=re.MULTILINE)
    assert listed == [name for name, spec in COMMANDS.items() if level >= spec.level]
    if level is Level.NONE:
        assert "You may not use this bridge" in reply.markdown


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.name.lower())
async def test_unknown_commands_by_level(door: MatrixCommands, level: Level) -> None:
    reply = await door.run(context(level), "brige", [])
    assert reply is not None
    if level is Level.NONE:
        assert reply.markdown.startswith("You may not use this bridge")
    else:
        assert "Unknown command `brige`" in reply.markdown and "`!discord bridge`" in reply.markdown


@pytest.mark.parametrize("name", list(MISSING))
async def test_missing_arguments_are_named(door: MatrixCommands, name: str) -> None:
    reply = await door.run(context(Level.ADMIN), name, [])
    assert reply is not None
    assert f"the following arguments are required: {MISSING[name]}" in reply.markdown
    assert f"usage: !discord {name}" in reply.markdown


@pytest.mark.parametrize("name", list(BAD))
async def test_bad_arguments_are_named(door: MatrixCommands, name: str) -> None:
    argv, named = BAD[name]
    reply = await door.run(context(Level.ADMIN), name, argv)
    assert reply is not None
    assert reply.markdown.startswith(f"⚠️ {named}"), reply.markdown
    assert "--help" in reply.markdown


@pytest.mark.parametrize("name", [name for name in COMMANDS if name != "help"])
async def test_extra_arguments_and_help_of_each_command(door: MatrixCommands, name: str) -> None:
    reply = await door.run(context(Level.ADMIN), name, [*VALID[name], "1", "2", "3"])
    assert reply is not None and "unrecognized arguments" in reply.markdown, reply.markdown
    shown = await door.run(context(Level.ADMIN), name, ["--help"])
    assert shown is not None and f"usage: !discord {name}" in shown.markdown
    assert COMMANDS[name].summary in " ".join(shown.markdown.split())  # argparse wraps it


@pytest.mark.parametrize("name", [name for name, spec in COMMANDS.items() if spec.in_room])
async def test_room_commands_refused_in_a_direct_chat(door: MatrixCommands, name: str) -> None:
    reply = await door.run(context(Level.ADMIN, management_room=True), name, VALID[name])
    assert reply is not None
    assert f"`{name}` acts on the room it is sent in" in reply.markdown
    refused = await door.run(context(Level.USER, management_room=True), name, VALID[name])
    assert refused == refusal_reply(COMMANDS[name], Level.USER)


async def test_failures_of_actions_become_replies(
    door: MatrixCommands, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(ctx: CommandContext, arguments: Any) -> Reply:
        raise ActionError("The guild is gone. Do this instead.", 404)

    async def crash(ctx: CommandContext, arguments: Any) -> Reply:
        raise RuntimeError("boom")

    monkeypatch.setitem(executors.EXECUTORS, "sync", refuse)
    reply = await door.run(context(Level.ADMIN), "sync", ["1"])
    assert reply is not None and reply.markdown == "⚠️ The guild is gone. Do this instead."
    monkeypatch.setitem(executors.EXECUTORS, "sync", crash)
    reply = await door.run(context(Level.ADMIN), "sync", ["1"])
    assert (
        reply is not None and "`sync` failed in the bridge (RuntimeError: boom)" in reply.markdown
    )


# ---- end to end ------------------------------------------------------------------------------


@pytest.mark.slow
async def test_levels_through_matrix(
    command_bridge: Bridge, make_matrix_user: Any, people: People
) -> None:
    member = await make_matrix_user(localpart=localpart(people.user))
    chat = await open_chat(member)
    reply = await chat.command("help")
    assert "`guilds`" in reply["body"] and "`bridge`" not in reply["body"], reply["body"]
    reply = await chat.command("bridge 123")
    assert reply["body"].startswith("You may not use `bridge`: it needs the `admin` level")
    reply = await chat.command("guilds")
    assert "Guild" in reply["body"] or "no guild" in reply["body"], reply["body"]

    # A relay-level user and a user with no level, in a room with the user and the bot.
    talker = await make_matrix_user(localpart=localpart(people.relay))
    nobody = await make_matrix_user()
    room = await member.create_room("Talk", invite=[BOT, talker.user_id, nobody.user_id])

    async def bot_joined() -> bool | None:
        return True if BOT in await member.api.get_joined_members(room) else None  # type: ignore[arg-type]

    await eventually(bot_joined, "the bot joining the room")
    await talker.join(room)
    await nobody.join(room)
    reply = await Chat(talker, room).command("!discord help")
    listed = re.findall(r"`!discord ([a-z-]+)[ `]", reply["body"])
    assert listed == ["help", "version", "link", "unlink"], reply["body"]
    reply = await Chat(talker, room).command("!DISCORD ping")
    assert "needs the `user` level" in reply["body"] and "yours is `relay`" in reply["body"]
    reply = await Chat(nobody, room).command("!discord help")
    assert reply["body"].startswith("You may not use this bridge"), reply["body"]
    reply = await Chat(member, room).command("!discord bridge-room nope")
    assert "needs the `admin` level" in reply["body"], reply["body"]

    # The bot does not stay in a room whose inviter has less than the user level.
    alone = await nobody.create_room("Alone", invite=[BOT])

    async def bot_left() -> bool | None:
        members = await nobody.state(alone, "m.room.member")
        bot = next((m for m in members if m["state_key"] == BOT), None)
        return True if bot and bot["content"]["membership"] == "leave" else None

    await eventually(bot_left, "the bot refusing the invite")
