"""Real-shaped message snapshots and contexts for the message converter tests."""

from __future__ import annotations

from typing import Any

from bridge.convert.d2m.context import MessageContext, UploadedMedia
from bridge.convert.d2m.message import MatrixPart
from bridge.convert.message_model import AttachmentSnapshot, MessageSnapshot, ReferenceSnapshot
from bridge.convert.model import MemberSnapshot, UserSnapshot

DOMAIN = "example.org"
GUILD_ID = 1_100_000_000_000_000_001
CHANNEL_ID = 1_100_000_000_000_000_002
MESSAGE_ID = 1_200_000_000_000_000_001
ALICE = UserSnapshot(id=1_300_000_000_000_000_001, username="alice", global_name="Alice")
BOB = UserSnapshot(id=1_300_000_000_000_000_002, username="bob", global_name="Bob")
ALICE_MXID = f"@discord_{ALICE.id}:{DOMAIN}"
BOB_MXID = f"@discord_{BOB.id}:{DOMAIN}"
CDN = "https://cdn.discordapp.com/attachments"


def message(**fields: Any) -> MessageSnapshot:
    """A message by Alice in a guild channel; ``fields`` override the defaults."""
    values: dict[str, Any] = {
        "id": MESSAGE_ID,
        "channel_id": CHANNEL_ID,
        "guild_id": GUILD_ID,
        "author": ALICE,
        "ghost_id": str(ALICE.id),
        "timestamp_ms": 1_700_000_000_000,
        "member": MemberSnapshot(user_id=ALICE.id),
    }
    values.update(fields)
    return MessageSnapshot(**values)


def context(**fields: Any) -> MessageContext:
    values: dict[str, Any] = {
        "domain": DOMAIN,
        "user_mxids": {ALICE.id: ALICE_MXID, BOB.id: BOB_MXID},
        "user_names": {ALICE.id: "Alice", BOB.id: "Bob"},
    }
    values.update(fields)
    return MessageContext(**values)


def attachment(
    attachment_id: int, filename: str, content_type: str | None, size: int = 1234, **fields: Any
) -> AttachmentSnapshot:
    url = f"{CDN}/{CHANNEL_ID}/{attachment_id}/{filename}?ex=65f1&is=65e0&hm=abc&"
    return AttachmentSnapshot(
        id=attachment_id,
        filename=filename,
        url=url,
        size=size,
        content_type=content_type,
        **fields,
    )


def uploaded(*ids: int, mimetype: str | None = None) -> dict[int, UploadedMedia]:
    return {i: UploadedMedia(mxc=f"mxc://{DOMAIN}/media{i}", mimetype=mimetype) for i in ids}


def kinds(parts: list[MatrixPart]) -> list[str]:
    return [part.kind for part in parts]


def text_of(part: MatrixPart) -> str:
    """What a reader sees: the HTML when there is some, else the body."""
    return str(part.content.get("formatted_body") or part.content["body"])


# Events a message relates to, and a reply and a file to relate with.
REPLIED = "$replied:example.org"
ROOT = "$root:example.org"
LATEST = "$latest:example.org"
REPLY = ReferenceSnapshot(message_id=1, channel_id=CHANNEL_ID)
FILE = attachment(70, "a.png", "image/png")
