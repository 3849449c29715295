"""DCE exports → ExportedChannel: the channel, the guild, the order, and the converters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.convert.d2m.context import MessageContext
from bridge.convert.d2m.message import convert_message
from bridge.convert.message_model import (
    ReferenceSnapshot,
)
from bridge.convert.model import ChannelType
from bridge.importer.export_items import with_thread_name
from bridge.importer.export_reader import read_export
from bridge.importer.model import ExportedChannel
from tests.importer.export_helpers import (
    GENERAL,
    GENERAL_ID,
    GUILD_ID,
    THREAD,
    THREAD_ID,
    item,
    variant,
)

# ---- the channel, the guild, the order -----------------------------------------------------


def test_guild_and_channel(general: ExportedChannel) -> None:
    assert general.source == GENERAL
    assert general.guild.id == GUILD_ID
    assert general.guild.name == "Test Guild"
    assert general.guild.icon_url is not None
    assert general.guild.icon_url.startswith("https://cdn.discordapp.com/icons/")
    channel = general.channel
    assert (channel.id, channel.name, channel.type) == (GENERAL_ID, "general", ChannelType.TEXT)
    assert channel.guild_id == GUILD_ID
    assert (channel.parent_id, channel.parent_name) == (1050000000000000001, "Text Channels")
    assert channel.topic == "Chat about anything"
    assert general.unresolved_files == ()


def test_messages_oldest_first_and_pins(general: ExportedChannel) -> None:
    ids = [i.message.id for i in general.items]
    assert ids == sorted(ids) and len(ids) == 12
    assert all(i.message.channel_id == GENERAL_ID for i in general.items)
    assert all(i.message.guild_id == GUILD_ID for i in general.items)
    assert general.pinned_ids == (1200000000000000002,)


def test_messages_are_sorted_by_id_whatever_the_file_order(tmp_path: Path) -> None:
    export = read_export(variant(tmp_path, lambda data: data["messages"].reverse()))
    ids = [i.message.id for i in export.items]
    assert ids == sorted(ids)


def test_thread_export_names_its_parent_channel() -> None:
    thread = read_export(THREAD)
    assert thread.channel.id == THREAD_ID
    assert thread.channel.type == ChannelType.PUBLIC_THREAD
    assert (thread.channel.parent_id, thread.channel.parent_name) == (GENERAL_ID, "general")
    assert thread.channel.topic is None
    reply = item(thread, 1200000000000000052).message
    assert reply.channel_id == THREAD_ID
    assert reply.reference == ReferenceSnapshot(1200000000000000051, THREAD_ID, GUILD_ID)


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("GuildTextChat", 0),
        ("GuildNews", 5),
        ("GuildNewsThread", 10),
        ("GuildPublicThread", 11),
        ("GuildPrivateThread", 12),
        ("GuildForum", 15),
        ("GuildMedia", 16),
        ("DirectTextChat", 1),
        ("14", 14),
        ("SomethingNew", 0),
    ],
)
def test_channel_types(tmp_path: Path, name: str, number: int) -> None:
    export = read_export(variant(tmp_path, lambda data: data["channel"].update(type=name)))
    assert export.channel.type == number
    assert type(export.channel.type) is int


def test_channel_without_category(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["channel"].update(categoryId=None, category=None)

    export = read_export(variant(tmp_path, change))
    assert (export.channel.parent_id, export.channel.parent_name) == (None, None)


def test_guild_without_icon(tmp_path: Path) -> None:
    icon = "https://cdn.discordapp.com/embed/avatars/0.png"
    export = read_export(variant(tmp_path, lambda data: data["guild"].update(iconUrl=icon)))
    assert export.guild.icon_url is None


# ---- the same converters work -----------------------------------------------------------------


def test_converters_take_the_snapshots(general: ExportedChannel) -> None:
    ctx = MessageContext(domain="example.org")
    parts = {i.message.id: convert_message(i.message, ctx) for i in general.items}
    assert parts[1200000000000000001][0].content["body"] == "bob joined the server."
    assert parts[1200000000000000007][0].content["body"] == "Alice A. pinned a message."
    assert parts[1200000000000000011][0].content["body"] == "Alice A. started a thread."
    [preview_skipped] = parts[1200000000000000009]
    assert preview_skipped.content["body"] == "see https://example.org/article"
    assert all(parts.values())


def test_a_started_thread_notice_gets_the_threads_name_from_its_export(
    general: ExportedChannel,
) -> None:
    """DCE writes "Started a thread." instead of the name; the thread's export has it."""
    thread = read_export(THREAD)
    names = {thread.channel.id: thread.channel.name}
    [started] = [i for i in general.items if i.message.id == 1200000000000000011]
    ctx = MessageContext(domain="example.org")
    [part] = convert_message(with_thread_name(started, names).message, ctx)
    assert part.content["body"] == "Alice A. started a thread: Planning"
    # Without the thread's export, the notice stays nameless.
    [part] = convert_message(with_thread_name(started, {}).message, ctx)
    assert part.content["body"] == "Alice A. started a thread."
