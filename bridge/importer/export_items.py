"""Exported items made ready to send: pure, nothing read or written.

Files the export holds on disk replace their URLs, and a "started a thread" notice gets the
thread's name back from the thread's own export.
"""

from __future__ import annotations

import dataclasses

from ..convert.message_model import MessageType
from .model import ImportItem


def with_local_files(item: ImportItem) -> ImportItem:
    """Attachments and stickers that the export holds on disk point at their files."""
    if not item.local_files:
        return item
    files = item.local_files
    message = item.message
    attachments = tuple(
        dataclasses.replace(a, url=str(files[a.id])) if a.id in files else a
        for a in message.attachments
    )
    stickers = tuple(
        dataclasses.replace(s, url=str(files[s.id])) if s.id in files else s
        for s in message.stickers
    )
    return dataclasses.replace(
        item, message=dataclasses.replace(message, attachments=attachments, stickers=stickers)
    )


def with_thread_name(item: ImportItem, thread_names: dict[int, str]) -> ImportItem:
    """A "started a thread" notice gets the thread's name back from the thread's own export
    (DCE writes a made-up sentence in its place; its reference names the thread)."""
    message = item.message
    reference = message.reference
    if message.type != MessageType.THREAD_CREATED or message.content or reference is None:
        return item
    name = thread_names.get(reference.channel_id or 0)
    if name is None:
        return item
    return dataclasses.replace(item, message=dataclasses.replace(message, content=name))
