"""The large guild of ``bench/scale.py``: seeding it in the Discord emulator, posting its
traffic, and checking that the stub homeserver holds every room's expected state.

Not a test; imported by ``bench/scale.py`` (and its smoke test through that script).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.convert.d2m.image_pack import PACK_TYPES
from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store.models import ChannelType

# The roles that give power in Matrix, held by a few members each (every POWER_EVERY-th).
POWERFUL = (
    ("Administrator", perms.ADMINISTRATOR),
    ("Moderator", perms.MANAGE_MESSAGES),
    ("Channel manager", perms.MANAGE_CHANNELS),
)
POWER_EVERY = 1000
ROLES_PER_MEMBER = 3
OVERWRITE_EVERY = 10  # every 10th channel has a role overwrite
PRIVATE_EVERY = 50  # every 50th channel is private to a role


@dataclass
class Sizes:
    members: int = 50_000
    channels: int = 500
    categories: int = 50
    roles: int = 250
    emoji: int = 200


@dataclass
class ScaleGuild:
    """What was seeded: ids the bench needs later."""

    guild_id: int
    category_ids: list[int]
    channel_ids: list[int]
    member_ids: list[int]
    powerful_member_ids: list[int] = field(default_factory=list)


def seed_guild(emulator: DiscordEmulator, bot_id: int, sizes: Sizes) -> ScaleGuild:
    """The guild: ``sizes.members`` members (bulk, no events) holding ``ROLES_PER_MEMBER``
    ordinary roles each, every ``POWER_EVERY``-th one also a powerful role; categories of
    equal size; channels with overwrites and a few private ones; ``sizes.emoji`` emoji."""
    store = emulator.store
    owner = store.create_user("scale-owner")
    guild = store.create_guild("Scale", owner.id, system_channel=False)
    store.add_member(guild.id, bot_id)
    powerful = [
        store.create_role(guild.id, name, permissions=bits, emit=False).id
        for name, bits in POWERFUL
    ]
    plain = [
        store.create_role(guild.id, f"role-{n}", emit=False).id
        for n in range(max(sizes.roles - len(powerful), 1))
    ]

    def roles_of(n: int) -> list[int]:
        held = {plain[(n * 7 + k * 13) % len(plain)] for k in range(ROLES_PER_MEMBER)}
        if n % POWER_EVERY == 0:
            held.add(powerful[(n // POWER_EVERY) % len(powerful)])
        return sorted(held)

    member_ids = store.seed_members(
        guild.id, ((f"member{n}", roles_of(n)) for n in range(sizes.members))
    )
    everyone = guild.id
    categories = [
        store.create_channel(guild.id, f"category {n}", ChannelType.CATEGORY, emit=False).id
        for n in range(sizes.categories)
    ]
    channels = []
    for n in range(sizes.channels):
        overwrites: list[dict[str, Any]] = []
        if n % PRIVATE_EVERY == 0:
            role = plain[n % len(plain)]
            overwrites = [
                {"id": everyone, "type": 0, "allow": 0, "deny": perms.VIEW_CHANNEL},
                {"id": role, "type": 0, "allow": perms.VIEW_CHANNEL, "deny": 0},
            ]
        elif n % OVERWRITE_EVERY == 0:
            overwrites = [
                {"id": powerful[1], "type": 0, "allow": perms.MANAGE_MESSAGES, "deny": 0},
                {"id": plain[n % len(plain)], "type": 0, "allow": 0, "deny": 1 << 11},
            ]
        channel = store.create_channel(
            guild.id,
            f"channel-{n}",
            parent_id=categories[n % len(categories)] if categories else None,
            topic=f"Topic of channel {n}",
            permission_overwrites=overwrites,
            emit=False,
        )
        channels.append(channel.id)
    for n in range(sizes.emoji):
        store.create_emoji(guild.id, f"emoji{n}", solid_png(n % 256, (n * 7) % 256, 128, 16))
    powerful_ids = [m for i, m in enumerate(member_ids) if i % POWER_EVERY == 0]
    return ScaleGuild(guild.id, categories, channels, member_ids, powerful_ids)


def post_message(emulator: DiscordEmulator, seeded: ScaleGuild, n: int, authors: int) -> None:
    """Message ``n`` of the traffic: author ``n % authors`` (members from the start of the
    list, so a few are powerful), each author in two channels."""
    author_index = n % authors
    channel = seeded.channel_ids[(author_index + (n // authors) % 2 * 7) % len(seeded.channel_ids)]
    author = seeded.member_ids[author_index % len(seeded.member_ids)]
    emulator.store.create_message(channel, author, f"message {n} from member {author_index}")


def portal_rooms(database: Path, guild_id: int) -> tuple[str | None, dict[int, str]]:
    """(the space's room id, Discord channel or category id → room id) from the bridge's
    SQLite database, read-only."""
    uri = f"file:{database}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=5) as db:
        space = db.execute(
            "SELECT space_room_id FROM guild WHERE discord_id = ?", (guild_id,)
        ).fetchone()
        rows = db.execute(
            "SELECT discord_id, room_id FROM portal WHERE guild_id = ?", (guild_id,)
        ).fetchall()
    return (space[0] if space else None), {int(d): r for d, r in rows if r}


def out_of_sync(
    stub: Any, database: Path, emulator: DiscordEmulator, seeded: ScaleGuild
) -> list[str]:
    """Why the stub does not hold the expected state yet (empty: in sync).

    In sync means: the space, every category sub-space and every channel room exist at the
    stub; each room has its name, topic, power levels and bridge info; the space lists every
    category and each category every channel as ``m.space.child``, each child names its parent
    in ``m.space.parent``; the space's image pack holds every emoji.
    """
    try:
        space, rooms = portal_rooms(database, seeded.guild_id)
    except sqlite3.Error as error:
        return [f"database not readable yet: {error}"]
    problems: list[str] = []
    if space is None or space not in stub.rooms:
        return ["no space yet"]
    store = emulator.store

    def state(room_id: str, kind: str, key: str = "") -> dict[str, Any] | None:
        room = stub.rooms.get(room_id)
        event = room.state.get((kind, key)) if room else None
        return event["content"] if event else None

    def check_child(parent: str, discord_id: int, name: str) -> None:
        room_id = rooms.get(discord_id)
        if room_id is None or room_id not in stub.rooms:
            problems.append(f"no room for {name}")
            return
        if (state(room_id, "m.room.name") or {}).get("name") is None:
            problems.append(f"{name}: no name")
        if state(room_id, "m.room.power_levels") is None:
            problems.append(f"{name}: no power levels")
        if not any(kind == "m.bridge" for kind, _ in stub.rooms[room_id].state):
            problems.append(f"{name}: no bridge info")
        if state(room_id, "m.space.parent", parent) is None:
            problems.append(f"{name}: no m.space.parent")
        if not state(parent, "m.space.child", room_id):
            problems.append(f"{name}: not a child of its parent")

    for category in seeded.category_ids:
        check_child(space, category, f"category {category}")
    for channel_id in seeded.channel_ids:
        channel = store.channels[channel_id]
        parent = rooms.get(channel.parent_id) if channel.parent_id else space
        if parent is None:
            problems.append(f"channel {channel_id}: no parent room")
            continue
        check_child(parent, channel_id, f"channel {channel_id}")
        room_id = rooms.get(channel_id)
        if room_id and (state(room_id, "m.room.topic") or {}).get("topic") != channel.topic:
            problems.append(f"channel {channel_id}: topic")
    emoji = len(store.guilds[seeded.guild_id].emojis)
    if emoji:
        packs = [
            content
            for (kind, _), event in stub.rooms[space].state.items()
            if kind in PACK_TYPES and (content := event["content"])
        ]
        images = max((len(p.get("images") or {}) for p in packs), default=0)
        if images < emoji:
            problems.append(f"image pack: {images} of {emoji} emoji")
    return problems
