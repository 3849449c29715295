"""Matrix links reach Discord with their text as written: Discord applies no backslash escape
inside a masked link's text, so none may be put there (FIELD-NOTES, discord-api-docs#6185)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bridge.sandbox.discord.store import Message
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import eventually
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow

DOCS = "https://example.com/docs"


async def discord_message(lounge: Lounge, predicate: Callable[[Message], bool]) -> Message:
    async def check() -> Message | None:
        history = lounge.store.history(lounge.channel_id, limit=50)
        return next((m for m in history if predicate(m)), None)

    return await eventually(check, "the message on Discord")


async def test_link_text_arrives_without_backslashes(
    lounge: Lounge,
    make_matrix_user,  # noqa: ANN001
) -> None:
    client: MatrixTestClient = await make_matrix_user(displayname="Marie")
    await client.join(lounge.space)
    await client.join(lounge.room)
    await client.send(
        lounge.room,
        {
            "msgtype": "m.text",
            "body": f"my_config_file, Ann [she/her], {DOCS}, my_notes @everyone",
            "format": "org.matrix.custom.html",
            "formatted_body": f'<a href="{DOCS}">my_config_file</a>,'
            f' <a href="{DOCS}">Ann [she/her]</a>,'
            f' <a href="{DOCS}">{DOCS}</a>,'
            f' <a href="{DOCS}"><b>my_notes</b> @everyone</a>',
        },
    )
    message = await discord_message(lounge, lambda m: "example.com/docs" in m.content)
    assert message.content == (
        f"[my_config_file]({DOCS}),"
        rf" Ann \[she/her\] (<{DOCS}>),"
        f" {DOCS},"
        f" **my\\_notes** @\u200beveryone (<{DOCS}>)"
    )
    assert not message.mention_everyone
