"""A guild's custom emoji and stickers as a Matrix image pack (room emotes and stickers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .room_state import DesiredState

# Both the stable type (spec v1.19) and the older one most clients still read.
PACK_TYPES = ("m.room.image_pack", "im.ponies.room_emotes")
PACK_STATE_KEY = ""


@dataclass(frozen=True)
class PackImage:
    shortcode: str
    mxc: str
    mimetype: str | None = None
    sticker: bool = False


def image_pack(
    display_name: str, avatar_mxc: str | None, images: list[PackImage]
) -> dict[str, Any]:
    """The pack content; a sticker whose name an emoji already has gets a ``_sticker`` suffix."""
    entries: dict[str, Any] = {}
    for image in images:
        shortcode = image.shortcode
        if shortcode in entries:
            shortcode = f"{shortcode}_sticker" if image.sticker else shortcode
            if shortcode in entries:
                continue
        entry: dict[str, Any] = {
            "url": image.mxc,
            "body": image.shortcode,
            "usage": ["sticker"] if image.sticker else ["emoticon"],
        }
        if image.mimetype:
            entry["info"] = {"mimetype": image.mimetype}
        entries[shortcode] = entry
    pack: dict[str, Any] = {
        "display_name": display_name,
        "usage": ["emoticon", "sticker"],
        "attribution": "Discord",
    }
    if avatar_mxc:
        pack["avatar_url"] = avatar_mxc
    return {"images": entries, "pack": pack}


def with_image_pack(state: DesiredState, pack: dict[str, Any] | None) -> DesiredState:
    """The desired state plus the pack under both event types (nothing when no pack)."""
    if pack is None or not pack["images"]:
        return state
    return {**state, **{(event_type, PACK_STATE_KEY): pack for event_type in PACK_TYPES}}
