"""What the Discord → Matrix actions share: the bridge's parts, wired once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import discord
from mautrix.appservice import IntentAPI

from ...db.tables import BridgeTables
from ...locks import KeyedLocks
from ...matrix.media import MediaRepo
from ...portal.guild_sync import GuildBridge
from ...puppet.puppets import Puppets
from ...stats import RelayStats
from ..m2d.webhooks import Webhooks
from ..ordering import ChannelQueues

if TYPE_CHECKING:
    from ...migration.double_puppet import DoublePuppets


@dataclass(frozen=True)
class RelayOptions:
    """The config's say on how messages are relayed."""

    cdn_url: str
    domain: str
    room_mentions: bool = True  # @everyone/@here may become @room (if the author may)
    captions: bool = False  # text + one attachment as one captioned media event
    system_messages: bool = True  # joins, pins, boosts… as notices


@dataclass
class RelayServices:
    bot: IntentAPI
    tables: BridgeTables
    puppets: Puppets
    media: MediaRepo
    guilds: GuildBridge
    discord: discord.Client
    options: RelayOptions
    # The bridge's own webhooks (Matrix users' messages), never relayed back.
    webhooks: Webhooks | None = None
    # Events of one channel are handled in arrival order (see ordering.py).
    queues: ChannelQueues = field(default_factory=ChannelQueues)
    # Work on one room never interleaves (a channel and its threads share a room).
    room_locks: KeyedLocks = field(default_factory=KeyedLocks)
    # Rooms replaced while the bridge runs (``handover``), old room id → new: set under the
    # old room's lock, so a message that waited for it goes on to the new room.
    replaced_rooms: dict[str, str] = field(default_factory=dict)
    # Custom emoji id → a local copy of its image (an export's --media files), uploaded
    # instead of fetching the emoji from Discord's CDN.
    emoji_images: dict[int, str] = field(default_factory=dict)
    # Live messages relayed and failures, per guild (``status``).
    stats: RelayStats = field(default_factory=RelayStats)
    # Channels (and forums) with a history import queued in this process: their catch-up
    # leaves an unfinished import's rest to the import (see catch_up.py).
    importing: set[int] = field(default_factory=set)
    # Linked members' own Matrix accounts (bridge.double_puppet); None: off, ghosts act.
    double_puppets: DoublePuppets | None = None
