"""What an import reads, whatever it reads from (the Discord API or DiscordChatExporter files)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..convert.message_model import MessageSnapshot
from ..convert.model import UserSnapshot


@dataclass(frozen=True)
class ImportedReaction:
    """One emoji on a message with everyone who reacted with it."""

    emoji: str  # a unicode emoji, or a custom emoji's name
    emoji_id: int | None = None
    animated: bool = False
    users: tuple[UserSnapshot, ...] = ()


@dataclass(frozen=True)
class ImportItem:
    """A message as the import sends it: the message, then its reactions."""

    message: MessageSnapshot
    reactions: tuple[ImportedReaction, ...] = ()
    # Attachment or sticker id → a local file (exports made with --media).
    local_files: Mapping[int, Path] = field(default_factory=dict)
    # Custom emoji id → its image on disk (--media), from reactions and from emoji inline
    # in the content: uploaded instead of fetching the emoji from Discord's CDN.
    emoji_files: Mapping[int, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelInfo:
    """A channel or thread as an export or the API describes it."""

    id: int
    name: str
    type: int
    guild_id: int | None = None
    parent_id: int | None = None  # a thread's channel, or a channel's category
    parent_name: str | None = None
    topic: str | None = None


@dataclass(frozen=True)
class GuildInfo:
    id: int
    name: str
    icon_url: str | None = None


@dataclass(frozen=True)
class ExportedChannel:
    """One DiscordChatExporter file: a channel (or thread) and its messages, oldest first."""

    guild: GuildInfo
    channel: ChannelInfo
    items: tuple[ImportItem, ...]
    pinned_ids: tuple[int, ...] = ()
    source: Path | None = None
    # Local paths (--media) the export names but that were not used: missing, or outside
    # the export's folder and the allowed media folders. Their text stays where the URL was.
    unresolved_files: tuple[str, ...] = ()
