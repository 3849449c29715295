"""What the Matrix → Discord actions share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import discord
from mautrix.appservice import IntentAPI

from ...db.tables import BridgeTables
from ...migration.members import DiscordMembers
from ...puppet.puppets import Puppets
from ...stats import RelayStats
from ...web.avatars import AvatarProxy
from ...web.files import FileLinks
from ..ordering import ChannelQueues
from .read_markers import ReadMarkers
from .webhooks import Webhooks


@dataclass(frozen=True)
class M2DOptions:
    permissions: Mapping[str, str]  # bridge.permissions
    room_mentions: bool = True  # @room may become @everyone (with the room's notification power)
    relay_notices: bool = True  # m.notice from Matrix users go to Discord too
    # Largest file sent to Discord (the guild's limit may be lower).
    max_file_size: int = 10 * 1024 * 1024


@dataclass
class M2DServices:
    bot: IntentAPI
    tables: BridgeTables
    puppets: Puppets
    webhooks: Webhooks
    avatars: AvatarProxy
    discord: discord.Client
    options: M2DOptions
    # Links to files too large for Discord (None: such files are only named).
    file_links: FileLinks | None = None
    # Events of one room are relayed in the order the homeserver sent them.
    queues: ChannelQueues = field(default_factory=ChannelQueues)
    # Messages relayed and failures, per guild (``status``).
    stats: RelayStats = field(default_factory=RelayStats)
    # Discord members behind linked Matrix accounts (their name and avatar on Discord).
    discord_members: DiscordMembers = field(default_factory=DiscordMembers)
    # The bot's read marker, moved behind the relayed messages (once per backlog).
    read_markers: ReadMarkers = field(init=False)

    def __post_init__(self) -> None:
        self.read_markers = ReadMarkers(self.bot, self.queues)
