"""A ghost's display name back to the Discord name it shows (for reply quotes on Discord)."""

from __future__ import annotations

import pytest

from bridge.convert.d2m.puppet import ghost_displayname, name_in_displayname, room_displayname
from bridge.convert.model import MemberSnapshot, UserSnapshot

TEMPLATE = "{name} (Discord)"
SUFFIX = " [bot]"


@pytest.mark.parametrize(
    ("displayname", "template", "suffix", "expected"),
    [
        ("Zoë (Discord)", TEMPLATE, SUFFIX, "Zoë"),  # the case: no " (Discord)"
        ("Hook (Discord) [bot]", TEMPLATE, SUFFIX, "Hook"),
        ("Ann (she/her) (Discord)", TEMPLATE, SUFFIX, "Ann (she/her)"),
        ("Rob [bot] (Discord)", TEMPLATE, SUFFIX, "Rob [bot]"),  # a person named so
        ("[DC] Ann", "[DC] {name}", "", "Ann"),
        ("zoe via Discord", "{username} via Discord", SUFFIX, "zoe"),
        ("Zoë | zoe", "{name} | {username}", "", "Zoë"),
        ("Zoë (Discord)", "{name}", "", "Zoë (Discord)"),
        ("Zoë (Discord)", "{name} (Discord) ", SUFFIX, "Zoë"),
        ("someone else", TEMPLATE, SUFFIX, None),  # not the template's shape
        ("discord_123", "discord_{id}", "", None),  # the template names nobody
    ],
)
def test_name_in_displayname(
    displayname: str, template: str, suffix: str, expected: str | None
) -> None:
    assert name_in_displayname(displayname, template, suffix) == expected


@pytest.mark.parametrize(
    "user",
    [
        UserSnapshot(id=1, username="zoe", global_name="Zoë"),
        UserSnapshot(id=2, username="zoe"),
        UserSnapshot(id=3, username="hook", global_name="GitHub", is_bot=True),
        UserSnapshot(id=4, username="x", global_name="Ann {id} (Discord)"),
    ],
)
def test_undoes_ghost_displayname(user: UserSnapshot) -> None:
    shown = ghost_displayname(user, TEMPLATE, SUFFIX)
    assert name_in_displayname(shown, TEMPLATE, SUFFIX) == (user.global_name or user.username)


def test_undoes_room_displayname() -> None:
    user = UserSnapshot(id=1, username="zoe", global_name="Zoë")
    shown = room_displayname(user, MemberSnapshot(1, nick="Z"), TEMPLATE, SUFFIX)
    assert shown is not None and name_in_displayname(shown, TEMPLATE, SUFFIX) == "Z"
