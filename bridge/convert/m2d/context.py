"""What a Matrix → Discord converter needs to know beyond the event: looked up beforehand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DiscordEmoji:
    id: int
    name: str
    animated: bool = False


@dataclass(frozen=True)
class M2DContext:
    """The world one Matrix event is converted in.

    Pills are resolved from these maps: a ghost's pill becomes a real Discord mention, a
    bridged room's pill a channel mention, anything else readable text.
    """

    # Matrix user id of a ghost, or of a Matrix account linked to a Discord member (issue
    # #18) → the Discord user id it stands for: its pill becomes a mention.
    ghost_user_ids: Mapping[str, int] = field(default_factory=dict)
    # Matrix user id → display name, for pills of real Matrix users (shown as @name).
    display_names: Mapping[str, str] = field(default_factory=dict)
    # Room id or alias of a bridged room → its Discord channel id.
    room_channels: Mapping[str, int] = field(default_factory=dict)
    # The guild's custom emoji by name, and by the mxc of their bridged image.
    emoji_by_name: Mapping[str, DiscordEmoji] = field(default_factory=dict)
    emoji_by_mxc: Mapping[str, DiscordEmoji] = field(default_factory=dict)
    # @room may become @everyone: the sender has the room's notification power and config
    # allows it. Otherwise it is neutralised.
    allow_everyone: bool = False
    # Display name of the sender, for m.emote ("*name* waves").
    sender_name: str = ""
