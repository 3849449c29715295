"""Ghost ids, localparts, display names and media cache keys (pure)."""

from __future__ import annotations

import hashlib

import pytest

from bridge.convert.d2m.puppet import (
    MAX_DISPLAYNAME,
    avatar_source_key,
    ghost_displayname,
    ghost_localpart,
    media_source_key,
    room_displayname,
    user_ghost_id,
    webhook_ghost_id,
)
from bridge.convert.model import MemberSnapshot, UserSnapshot

TEMPLATE = "{name} (Discord)"
SUFFIX = " [bot]"


def test_user_ghost_id_is_the_snowflake() -> None:
    assert user_ghost_id(123456789012345678) == "123456789012345678"


def test_webhook_ghost_id_is_per_webhook_and_name() -> None:
    expected = "w42_" + hashlib.sha256(b"GitHub").hexdigest()[:10]
    assert webhook_ghost_id(42, "GitHub") == expected
    assert webhook_ghost_id(42, "GitHub") != webhook_ghost_id(42, "Jenkins")
    assert webhook_ghost_id(42, "GitHub") != webhook_ghost_id(43, "GitHub")
    assert webhook_ghost_id(42, "Zoë ✨").startswith("w42_")


@pytest.mark.parametrize(
    ("template", "ghost_id", "expected"),
    [
        ("discord_{id}", "123", "discord_123"),
        ("dc.{id}.ghost", "123", "dc.123.ghost"),
        ("discord_{id}", "w42_0123abcdef", "discord_w42_0123abcdef"),
        ("Discord_{id}", "7", "discord_7"),
    ],
)
def test_ghost_localpart(template: str, ghost_id: str, expected: str) -> None:
    assert ghost_localpart(template, ghost_id) == expected


def user(**fields: object) -> UserSnapshot:
    values: dict = {"id": 1001, "username": "zoe", **fields}
    return UserSnapshot(**values)


@pytest.mark.parametrize(
    ("snapshot", "template", "expected"),
    [
        (user(global_name="Zoë"), TEMPLATE, "Zoë (Discord)"),
        (user(), TEMPLATE, "zoe (Discord)"),
        (user(global_name="   "), TEMPLATE, "zoe (Discord)"),
        (user(global_name="Zoë"), "{name} ({username}, {id})", "Zoë (zoe, 1001)"),
        (user(global_name="Zoë"), "{username}", "zoe"),
        (user(global_name="Hook", is_bot=True), TEMPLATE, "Hook (Discord) [bot]"),
        (user(global_name="  spaced  "), "{name}", "spaced"),
        # A name that looks like a placeholder is not substituted again.
        (user(global_name="{id}"), TEMPLATE, "{id} (Discord)"),
        # Unknown braces in the template stay as they are.
        (user(global_name="Zoë"), "{name} {other} {", "Zoë {other} {"),
        (user(global_name="line\nbreak"), "{name}", "line break"),
        # Never empty: a template that gives nothing falls back to the username.
        (user(global_name="Zoë"), "   ", "zoe"),
        (user(username="", global_name=None), "{name}", "1001"),
    ],
)
def test_ghost_displayname(snapshot: UserSnapshot, template: str, expected: str) -> None:
    assert ghost_displayname(snapshot, template, SUFFIX) == expected


def test_ghost_displayname_is_clipped_keeping_the_bot_suffix() -> None:
    name = ghost_displayname(user(global_name="x" * 400, is_bot=True), TEMPLATE, SUFFIX)
    assert len(name) == MAX_DISPLAYNAME
    assert name.endswith(" [bot]")
    assert len(ghost_displayname(user(global_name="y" * 400), TEMPLATE, SUFFIX)) == 256


def test_empty_bot_suffix_adds_nothing() -> None:
    assert ghost_displayname(user(is_bot=True), TEMPLATE, "") == "zoe (Discord)"


@pytest.mark.parametrize(
    ("snapshot", "member", "expected"),
    [
        (user(global_name="Zoë"), None, None),
        (user(global_name="Zoë"), MemberSnapshot(1001), None),
        (user(global_name="Zoë"), MemberSnapshot(1001, nick="  "), None),
        (user(global_name="Zoë"), MemberSnapshot(1001, nick="Z"), "Z (Discord)"),
        (user(is_bot=True), MemberSnapshot(1001, nick="Helper"), "Helper (Discord) [bot]"),
    ],
)
def test_room_displayname(
    snapshot: UserSnapshot, member: MemberSnapshot | None, expected: str | None
) -> None:
    assert room_displayname(snapshot, member, TEMPLATE, SUFFIX) == expected


def test_room_displayname_fills_username_and_id() -> None:
    member = MemberSnapshot(1001, nick="Z")
    assert room_displayname(user(), member, "{name}/{username}/{id}", "") == "Z/zoe/1001"


ATTACHMENT = "https://cdn.discordapp.com/attachments/1/2/cat.png"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (ATTACHMENT, ATTACHMENT),
        (f"{ATTACHMENT}?ex=65f&is=65e&hm=abcdef&", ATTACHMENT),
        (f"{ATTACHMENT}?ex=111&is=222&hm=333", ATTACHMENT),
        (
            "https://cdn.discordapp.com/avatars/5/abc.png?size=1024",
            "https://cdn.discordapp.com/avatars/5/abc.png",
        ),
        (
            "https://media.discordapp.net/attachments/1/2/cat.png?ex=1&width=300&hm=2",
            "https://media.discordapp.net/attachments/1/2/cat.png?width=300",
        ),
        ("HTTPS://CDN.discordapp.com/a/B.png#frag", "https://cdn.discordapp.com/a/B.png"),
    ],
)
def test_media_source_key(url: str, expected: str) -> None:
    assert media_source_key(url) == expected


def test_avatar_source_key_is_per_hash_and_format() -> None:
    png = avatar_source_key("abc", "http://cdn/avatars/1/abc.png?size=1024")
    assert png == avatar_source_key("abc", "http://cdn/avatars/2/abc.png")
    assert png == "discord-avatar:abc.png"
    assert avatar_source_key("a_x", "http://cdn/avatars/1/a_x.gif") == "discord-avatar:a_x.gif"
    assert avatar_source_key("abc", "http://cdn/guilds/1/users/2/avatars/abc") == (
        "discord-avatar:abc.png"
    )
