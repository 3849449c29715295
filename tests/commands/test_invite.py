"""`invite`: users of the bridge's own server must exist; a second invite says where the user
already is; the count names the space apart from the rooms."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bridge.app import Bridge
from tests.commands.conftest import Chat
from tests.fixtures.community import SERVER, Community

pytestmark = pytest.mark.slow


async def test_invite_checks_the_user_and_says_what_was_already_so(
    admin_chat: Chat, command_bridge: Bridge, community: Community, make_matrix_user: Any
) -> None:
    reply = await admin_chat.command(f"bridge {community.guild_id}")
    assert "Bridged" in reply["body"], reply["body"]
    tables = command_bridge.database.tables  # type: ignore[union-attr]
    space = (await tables.guilds.get(community.guild_id)).space_room_id  # type: ignore[union-attr]

    nobody = f"@nobody_here:{SERVER}"
    reply = await admin_chat.command(f"invite {nobody}")
    assert f"There is no Matrix user {nobody} on this homeserver" in reply["body"], reply["body"]
    assert "Invited" not in reply["body"]

    guest = await make_matrix_user()
    reply = await admin_chat.command(f"invite {guest.user_id}")
    found = re.fullmatch(
        rf"Invited {re.escape(guest.user_id)} to the space and (\d+) rooms of \*\*.+\*\*\.",
        reply["body"],
    )
    assert found, reply["body"]
    rooms = int(found[1])
    await guest.join(space)
    reply = await admin_chat.command(f"invite {guest.user_id}")
    name = command_bridge.discord.get_guild(community.guild_id).name  # type: ignore[union-attr]
    assert reply["body"] == (
        f"{guest.user_id} was already invited to {rooms} rooms and already in the space of "
        f"**{name}**. Nothing to do."
    ), reply["body"]
