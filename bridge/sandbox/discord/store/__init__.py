"""The emulator's in-memory Discord state.

:class:`Store` is assembled from mixins, one per area, each in its own module:
``base`` (containers, lookups, ``authenticate``), ``reactions``, ``messages`` (messages, pins,
typing, ``seed_history``), ``channels`` (channels, threads, webhooks), ``expressions`` (emoji,
stickers), ``guilds`` (users, bots, guilds, members, roles), ``interactions`` (commands,
interactions), ``bans`` (guild bans) and ``snapshot`` (GUILD_CREATE data for the gateway).
Every mutator emits on ``store.events`` the gateway event Discord would send; lookups raise
:class:`~..errors.DiscordError` (404s).
"""

from .base import Blob, StoreBase
from .models import (
    Application,
    ApplicationCommand,
    Attachment,
    Ban,
    Channel,
    ChannelType,
    Emoji,
    Guild,
    Interaction,
    Member,
    Message,
    MessageType,
    Reaction,
    Role,
    Sticker,
    ThreadMember,
    ThreadMetadata,
    User,
    Webhook,
)
from .snapshot import SnapshotMixin


class Store(SnapshotMixin):
    """All emulated Discord state; see the module docstring for where each method lives."""


__all__ = [
    "Application",
    "ApplicationCommand",
    "Attachment",
    "Ban",
    "Blob",
    "Channel",
    "ChannelType",
    "Emoji",
    "Guild",
    "Interaction",
    "Member",
    "Message",
    "MessageType",
    "Reaction",
    "Role",
    "Sticker",
    "Store",
    "StoreBase",
    "ThreadMember",
    "ThreadMetadata",
    "User",
    "Webhook",
]
