"""The Discord → Matrix relay, case by case: kinds of attachments, tokens in the text, embeds,
polls, forwards, system messages, reaction clearing, threads and edits — as a Matrix client
reads them from Synapse."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.app import Bridge
from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.discord.store import Attachment
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import Community, eventually, ghost, room_of
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow

IS_VOICE_MESSAGE = 1 << 13
VOICE = "org.matrix.msc3245.voice"
SPOILER = "page.codeberg.everypizza.msc4193.spoiler"


def _file(
    lounge: Lounge, filename: str, data: bytes, content_type: str, **extra: Any
) -> Attachment:
    return Attachment(lounge.store.ids.next(), filename, data, content_type, **extra)


async def _content(lounge: Lounge, message_id: int, part: int = 0) -> dict[str, Any]:
    event = await lounge.viewer.event(lounge.room, await lounge.event_of(message_id, part))
    content: dict[str, Any] = event["content"]
    return content


async def _redacted(viewer: MatrixTestClient, room: str, event_id: str) -> bool:
    event = await viewer.event(room, event_id)
    return "redacted_because" in event.get("unsigned", {})


async def test_each_kind_of_attachment_has_its_msgtype(lounge: Lounge) -> None:
    carol = lounge.user("carol")
    video = _file(lounge, "clip.mp4", b"\0\0\0\x18ftypmp42" * 8, "video/mp4", width=640, height=360)
    audio = _file(lounge, "song.mp3", b"ID3" + b"\0" * 61, "audio/mpeg")
    document = _file(lounge, "notes.txt", b"some notes\n", "text/plain")
    spoiler = _file(
        lounge, "SPOILER_secret.png", solid_png(9, 9, 9), "image/png", width=4, height=4
    )
    files = [video, audio, document, spoiler]
    message = lounge.store.create_message(lounge.channel_id, carol, "", attachments=files)
    voice = _file(
        lounge, "voice-message.ogg", b"OggS" + b"\0" * 60, "audio/ogg",
        duration_secs=3.2, waveform="AAAAAAAA",
    )  # fmt: skip
    spoken = lounge.store.create_message(
        lounge.channel_id, carol, "", attachments=[voice], flags=IS_VOICE_MESSAGE
    )

    parts = [await _content(lounge, message.id, index) for index in range(len(files))]
    assert [p["msgtype"] for p in parts] == ["m.video", "m.audio", "m.file", "m.image"]
    assert [p["body"] for p in parts] == [f.filename for f in files]
    assert all(p["url"].startswith("mxc://") for p in parts)
    clip, song, notes, secret = parts
    assert clip["info"]["mimetype"] == "video/mp4"
    assert (clip["info"]["w"], clip["info"]["h"]) == (640, 360)
    assert song["info"]["mimetype"] == "audio/mpeg" and VOICE not in song
    assert notes["info"] == {"size": len(document.data), "mimetype": "text/plain"}
    assert secret[SPOILER] is True and SPOILER not in clip
    voice_content = await _content(lounge, spoken.id)
    assert voice_content["msgtype"] == "m.audio"
    assert voice_content[VOICE] == {}
    assert voice_content["info"]["duration"] == 3200
    assert voice_content["org.matrix.msc1767.audio"] == {"duration": 3200}


async def test_mentions_of_roles_channels_times_and_everyone(lounge: Lounge) -> None:
    store, guild_id = lounge.store, lounge.community.guild_id
    role = store.create_role(guild_id, "Helpers", color=0xE67E22, mentionable=True)
    general = lounge.community.channels["general"]
    general_room = await room_of(lounge.bridge, general)
    tokens = store.create_message(
        lounge.channel_id,
        lounge.user("bob"),
        f"<@&{role.id}> see <#{general}> at <t:1700000000:F>",
    )
    content = await _content(lounge, tokens.id)
    assert content["body"] == "@Helpers see #general at Tuesday, 14 November 2023 22:13 UTC"
    html = content["formatted_body"]
    assert '<font color="#e67e22">@Helpers</font>' in html
    assert f'<a href="https://matrix.to/#/{general_room}?via=sandbox.local">#general</a>' in html
    assert "Tuesday, 14 November 2023 22:13 UTC" in html

    # alice is an admin and may ping everyone; carol may not (once @everyone loses the right).
    loud = store.create_message(lounge.channel_id, lounge.user("alice"), "@everyone meeting now")
    content = await _content(lounge, loud.id)
    assert content["body"] == "@room meeting now"
    assert content["m.mentions"] == {"room": True}
    store.update_role(
        guild_id, guild_id, permissions=perms.DEFAULT_EVERYONE & ~perms.MENTION_EVERYONE
    )
    quiet = store.create_message(lounge.channel_id, lounge.user("carol"), "@everyone look")
    content = await _content(lounge, quiet.id)
    assert "@room" not in content["body"] and "look" in content["body"]
    assert "room" not in content["m.mentions"]


async def test_embeds_link_previews_polls_and_forwards(lounge: Lounge) -> None:
    store, alice, bob = lounge.store, lounge.user("alice"), lounge.user("bob")
    rich = store.create_message(
        lounge.channel_id,
        bob,
        "release notes",
        embeds=[
            {
                "title": "Version 2",
                "url": "https://example.org/v2",
                "description": "Now with **bold** features",
                "fields": [{"name": "Size", "value": "small"}],
                "footer": {"text": "the team"},
            }
        ],
    )
    content = await _content(lounge, rich.id)
    assert content["body"].startswith("release notes\n\n> Version 2 (https://example.org/v2)")
    html = content["formatted_body"]
    assert html.startswith("<p>release notes</p><blockquote>")
    assert '<strong><a href="https://example.org/v2">Version 2</a></strong>' in html
    assert "<strong>bold</strong>" in html and "<sub>the team</sub>" in html

    # A preview of a link the text shows adds nothing; one resolved later edits nothing.
    url = "https://example.org/page"
    previewed = store.create_message(
        lounge.channel_id,
        alice,
        f"read {url}",
        embeds=[{"type": "link", "url": url, "title": "A page", "description": "about it"}],
    )
    assert (await _content(lounge, previewed.id))["body"] == f"read {url}"
    later = store.create_message(lounge.channel_id, alice, f"and {url}")
    later_event = await lounge.event_of(later.id)
    store.resolve_embeds(
        lounge.channel_id, later.id, [{"type": "link", "url": url, "title": "A page"}]
    )

    poll = store.create_message(
        lounge.channel_id,
        alice,
        "",
        poll={
            "question": {"text": "Lunch?"},
            "answers": [
                {"poll_media": {"text": "Pizza", "emoji": {"name": "🍕"}}},
                {"poll_media": {"text": "**Soup**"}},
            ],
            "allow_multiselect": True,
        },
    )
    content = await _content(lounge, poll.id)
    assert content["body"] == "📊 Poll: Lunch?\n1. 🍕 Pizza\n2. **Soup**\n(several answers allowed)"
    assert "<ol><li>🍕 Pizza</li><li><strong>Soup</strong></li></ol>" in content["formatted_body"]

    forward = store.create_message(
        lounge.channel_id,
        bob,
        "",
        message_reference={
            "type": 1,
            "message_id": str(rich.id),
            "channel_id": str(lounge.channel_id),
            "guild_id": str(lounge.community.guild_id),
        },
    )
    content = await _content(lounge, forward.id)
    assert content["body"].startswith("> Forwarded message:\n>\n> release notes")
    assert "> > Version 2" in content["body"]
    assert content["formatted_body"].startswith("<blockquote><p><em>Forwarded message:</em>")
    assert "m.relates_to" not in content

    edits = [
        e
        for e in await lounge.events()
        if e["content"].get("m.relates_to", {}).get("rel_type") == "m.replace"
    ]
    assert edits == []
    bodies = [e["content"]["body"] for e in await lounge.events()]
    assert bodies.count(f"and {url}") == 1
    assert (await lounge.viewer.event(lounge.room, later_event))["content"]["body"] == f"and {url}"


async def test_clearing_reactions_redacts_them(lounge: Lounge) -> None:
    store, bob, carol = lounge.store, lounge.user("bob"), lounge.user("carol")
    message = store.create_message(lounge.channel_id, lounge.user("alice"), "vote here")
    target = await lounge.event_of(message.id)
    for user, emoji in ((bob, "👍"), (carol, "👍"), (carol, "🎉")):
        store.add_reaction(lounge.channel_id, message.id, user, emoji)

    async def reactions() -> dict[tuple[str, str], str] | None:
        found = {
            (e["sender"], e["content"]["m.relates_to"]["key"]): e["event_id"]
            for e in await lounge.events("m.reaction")
            if e["content"].get("m.relates_to", {}).get("event_id") == target
        }
        return found if len(found) == 3 else None

    found = await eventually(reactions, "the three reactions")
    thumbs = [found[(ghost(bob), "👍")], found[(ghost(carol), "👍")]]
    party = found[(ghost(carol), "🎉")]

    store.remove_emoji_reactions(lounge.channel_id, message.id, "👍")

    async def thumbs_gone() -> bool | None:
        gone = [await _redacted(lounge.viewer, lounge.room, e) for e in thumbs]
        return True if all(gone) else None

    await eventually(thumbs_gone, "every 👍 to be redacted")
    assert not await _redacted(lounge.viewer, lounge.room, party)

    store.remove_all_reactions(lounge.channel_id, message.id)

    async def party_gone() -> bool | None:
        return True if await _redacted(lounge.viewer, lounge.room, party) else None

    await eventually(party_gone, "the 🎉 to be redacted")
    assert (
        await lounge.bridge.database.tables.reactions.find("discord_message_id = $1", message.id)
        == []
    )


async def test_threads_on_their_own_and_forum_posts(lounge: Lounge) -> None:
    store, alice, bob = lounge.store, lounge.user("alice"), lounge.user("bob")
    thread = store.create_thread(lounge.channel_id, "side topic", alice)
    first = store.create_message(thread.id, alice, "first in the thread")
    second = store.create_message(thread.id, bob, "second in the thread")
    root = await lounge.event_of(first.id)
    first_content = await _content(lounge, first.id)
    assert first_content["body"] == "first in the thread"
    assert "m.relates_to" not in first_content
    relation = (await _content(lounge, second.id))["m.relates_to"]
    assert relation["rel_type"] == "m.thread" and relation["event_id"] == root
    notice = await lounge.wait_for(
        lambda e: (
            e["content"].get("msgtype") == "m.notice" and "started a thread" in e["content"]["body"]
        ),
        "the thread-created notice",
    )
    assert notice["content"]["body"] == "Alice started a thread: side topic"

    post = lounge.community.posts["How to install?"]
    post_room = await room_of(lounge.bridge, post)
    answer = store.create_message(post, bob, "read the README")

    async def arrived() -> dict | None:
        events = await lounge.viewer.timeline(post_room, types=["m.room.message"])
        return next((e for e in events if e["content"].get("body") == "read the README"), None)

    event = await eventually(arrived, "the answer in the post's room")
    assert event["sender"] == ghost(bob)
    assert "m.relates_to" not in event["content"]
    parts = await lounge.bridge.database.tables.message_parts_of(answer.id)
    assert [p.room_id for p in parts] == [post_room]


async def test_an_edit_redacts_a_removed_file_and_replaces_the_text(lounge: Lounge) -> None:
    store, alice = lounge.store, lounge.user("alice")
    kept = _file(lounge, "kept.txt", b"kept\n", "text/plain")
    dropped = _file(lounge, "dropped.txt", b"dropped\n", "text/plain")
    message = store.create_message(
        lounge.channel_id, alice, "two files", attachments=[kept, dropped]
    )
    text, kept_event, dropped_event = [await lounge.event_of(message.id, i) for i in range(3)]
    store.edit_message(lounge.channel_id, message.id, content="one file", attachments=[kept])

    async def dropped_redacted() -> bool | None:
        return True if await _redacted(lounge.viewer, lounge.room, dropped_event) else None

    await eventually(dropped_redacted, "the removed file's event to be redacted")
    edit = await lounge.wait_for(
        lambda e: e["content"].get("m.relates_to", {}).get("rel_type") == "m.replace",
        "the text edit",
    )
    assert edit["content"]["m.relates_to"]["event_id"] == text
    assert edit["content"]["m.new_content"]["body"] == "one file"
    assert not await _redacted(lounge.viewer, lounge.room, kept_event)
    parts = await lounge.bridge.database.tables.message_parts_of(message.id)
    assert [p.event_id for p in parts] == [text, kept_event]


async def test_a_small_file_limit_and_no_system_messages(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
) -> None:
    """A file over bridge.limits.max_file_size is a link; with system messages off, a join
    sends nothing."""
    store = sandbox_guild.emulator.store
    lounge_id, general = community.channels["lounge"], community.channels["general"]
    config = make_bridge_config(
        {"bridge.limits.max_file_size": 1000, "bridge.messages.system_messages": "false"}
    )
    bridge = Bridge(config)
    await bridge.start()
    try:
        assert bridge.guilds is not None and bridge.database is not None
        await bridge.guilds.bridge_guild(community.guild_id)
        room, general_room = await room_of(bridge, lounge_id), await room_of(bridge, general)
        big = Attachment(store.ids.next(), "big.bin", b"x" * 2000, "application/octet-stream")
        message = store.create_message(lounge_id, community.users["carol"], "", attachments=[big])
        event_id = await eventually(lambda: _event_of(bridge, message.id), "the big file")
        content = (await bot_view.event(room, event_id))["content"]
        assert content["msgtype"] == "m.text" and "url" not in content
        assert content["body"].startswith("📎 big.bin (2.0 KB): http://127.0.0.1:")
        assert f"/attachments/{lounge_id}/{big.id}/big.bin" in content["body"]
        assert '<a href="http://127.0.0.1:' in content["formatted_body"]
        assert await bridge.database.tables.media.find("source_key LIKE $1", "%big.bin%") == []

        newcomer = store.create_user("dave", global_name="Dave")
        store.add_member(community.guild_id, newcomer.id, join_message=True)
        marker = store.create_message(general, community.users["alice"], "after the join")
        await eventually(lambda: _event_of(bridge, marker.id), "the marker")
        events = await bot_view.timeline(general_room, types=["m.room.message"])
        assert [e["content"]["body"] for e in events] == ["after the join"]
    finally:
        await bridge.stop()


async def test_a_member_joining_is_a_notice(lounge: Lounge) -> None:
    store, community = lounge.store, lounge.community
    general_room = await room_of(lounge.bridge, community.channels["general"])
    newcomer = store.create_user("dave", global_name="Dave")
    store.add_member(community.guild_id, newcomer.id, join_message=True)

    async def notice() -> dict | None:
        # The sample members' own joins, posted while the guild was being bridged, are in the
        # room too (messages in the start-up window wait for the rooms): Dave's is the one.
        events = await lounge.viewer.timeline(general_room, types=["m.room.message"])
        return next(
            (
                e
                for e in events
                if e["content"].get("msgtype") == "m.notice" and e["sender"] == ghost(newcomer.id)
            ),
            None,
        )

    event = await eventually(notice, "the join notice")
    assert event["content"]["body"] == "Dave joined the server."


async def _event_of(bridge: Bridge, message_id: int) -> str | None:
    assert bridge.database is not None
    parts = await bridge.database.tables.message_parts_of(message_id)
    return parts[0].event_id if parts else None
