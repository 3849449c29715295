"""Finding commands in messages, parsing their arguments, and the replies' text (pure)."""

from __future__ import annotations

import pytest

from bridge.commands.arguments import HelpRequested, UsageError
from bridge.commands.matrix_door import is_prefixed_command, starts_with_prefix
from bridge.commands.parse import (
    Invocation,
    UnknownCommand,
    command_spec,
    find_invocation,
    parse_arguments,
)
from bridge.commands.render import (
    Reply,
    help_reply,
    refusal_reply,
    unknown_reply,
    usage_reply,
)
from bridge.commands.table import COMMANDS
from bridge.permissions import Level

PREFIX = "!discord"


def find(body: str, management_room: bool = False) -> Invocation | None:
    return find_invocation(body, prefix=PREFIX, management_room=management_room)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("!discord help", Invocation("help", [])),
        ("!DISCORD help", Invocation("help", [])),
        ("  !Discord   GUILDS  ", Invocation("guilds", [])),
        ("!discord", Invocation("help", [])),
        ("!discord bridge 123 --import", Invocation("bridge", ["123", "--import"])),
        ('!discord invite "@a b:x"', Invocation("invite", ["@a b:x"])),
        ("!discordx help", None),
        ("!discord-bridge 1", None),
        ("hello there", None),
        ("help", None),  # no prefix outside a management room
    ],
)
def test_invocations_in_a_room(body: str, expected: Invocation | None) -> None:
    assert find(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("help", Invocation("help", [])),
        ("Bridge 42", Invocation("bridge", ["42"])),
        ("!discord bridge 42", Invocation("bridge", ["42"])),  # the prefix is allowed there too
        ("", Invocation("help", [])),
        ("!discordx", None),  # another bot's prefix: not ours, even here
    ],
)
def test_invocations_in_a_management_room(body: str, expected: Invocation | None) -> None:
    assert find(body, management_room=True) == expected


def test_unclosed_quote_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as caught:
        find('!discord invite "@alice:example.com')
    assert "cannot read the arguments" in str(caught.value)
    assert "quotation" in str(caught.value)
    reply = usage_reply(caught.value)
    assert reply.markdown.startswith("⚠️ cannot read the arguments")
    assert "--help" in reply.markdown


def test_the_prefix_test_of_the_door() -> None:
    assert starts_with_prefix("!discord help", PREFIX)
    assert starts_with_prefix("  !DISCORD", PREFIX)
    assert not starts_with_prefix("!discordx", PREFIX)
    assert not starts_with_prefix(None, PREFIX)
    assert not starts_with_prefix("!discord help", "  ")
    message = {"type": "m.room.message", "content": {"msgtype": "m.text", "body": "!discord x"}}
    assert is_prefixed_command(message, PREFIX)
    edit = {**message, "content": {**message["content"], "m.new_content": {}}}
    assert not is_prefixed_command(edit, PREFIX)
    notice = {**message, "content": {**message["content"], "msgtype": "m.notice"}}
    assert not is_prefixed_command(notice, PREFIX)


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [("brige", "bridge"), ("gilds", "guilds"), ("unbrdge", "unbridge"), ("setrelay", "set-relay")],
)
def test_unknown_commands_suggest_the_nearest(typed: str, suggestion: str) -> None:
    with pytest.raises(UnknownCommand) as caught:
        command_spec(typed)
    assert caught.value.suggestion == suggestion
    reply = unknown_reply(caught.value, PREFIX, management_room=False)
    assert f"Unknown command `{typed}`" in reply.markdown
    assert f"Did you mean `!discord {suggestion}`?" in reply.markdown
    assert "`!discord help`" in reply.markdown
    bare = unknown_reply(caught.value, PREFIX, management_room=True)
    assert f"Did you mean `{suggestion}`?" in bare.markdown and "`help`" in bare.markdown


def test_unknown_command_far_from_any() -> None:
    with pytest.raises(UnknownCommand) as caught:
        command_spec("xyzzy")
    assert caught.value.suggestion is None
    assert "Did you mean" not in unknown_reply(caught.value, PREFIX, False).markdown


def test_arguments_and_help_of_a_command() -> None:
    spec = COMMANDS["bridge"]
    arguments = parse_arguments(spec, ["123", "--import"], PREFIX)
    assert arguments.guild == 123 and arguments.import_history is True
    with pytest.raises(HelpRequested) as shown:
        parse_arguments(spec, ["--help"], PREFIX)
    assert shown.value.text.startswith("usage: !discord bridge")
    with pytest.raises(UsageError) as caught:
        parse_arguments(spec, ["abc"], "")
    assert "argument guild" in str(caught.value) and "'abc'" in str(caught.value)
    assert caught.value.usage.startswith("usage: bridge")


def test_help_lists_only_what_the_level_allows() -> None:
    user_help = help_reply(Level.USER, PREFIX, management_room=False).markdown
    assert "`!discord guilds`" in user_help and "`!discord ping`" in user_help
    assert "bridge-room" not in user_help and "`!discord bridge`" not in user_help
    assert "need no `!discord` prefix" in user_help
    admin_help = help_reply(Level.ADMIN, PREFIX, management_room=True).markdown
    assert all(f"- `{name}" in admin_help for name in COMMANDS)
    assert "- `unbridge [--delete-rooms] target`" in admin_help  # with its arguments
    assert "without a prefix" in admin_help
    assert help_reply(Level.NONE, PREFIX, False) == refusal_reply(None, Level.NONE)


def test_refusals_say_what_decides() -> None:
    text = refusal_reply(COMMANDS["bridge"], Level.USER).markdown
    assert text == (
        "You may not use `bridge`: it needs the `admin` level in `bridge.permissions`, and "
        "yours is `user`. Send `help` for what you may use."
    )
    assert "no level" in refusal_reply(COMMANDS["help"], Level.NONE).markdown


def test_replies_are_notices_with_html() -> None:
    content = Reply("**bold** and `code`").content()
    assert content["msgtype"] == "m.notice"
    assert content["body"] == "**bold** and `code`"
    assert content["formatted_body"] == "<p><strong>bold</strong> and <code>code</code></p>"
