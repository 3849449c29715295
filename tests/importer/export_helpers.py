"""Shared paths, ids and helpers of the DiscordChatExporter export reader tests.

The fixtures are synthetic (made-up people, ids and texts) and laid out as DCE 2.4x writes
JSON with ``--markdown false --utc`` (and ``--media`` for the one under ``media/``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.importer.export_reader import read_export
from bridge.importer.model import ExportedChannel, ImportItem

FIXTURES = Path(__file__).parent / "fixtures"
GENERAL = FIXTURES / "Test Guild - Text Channels - general [1100000000000000001].json"
THREAD = FIXTURES / "Test Guild - Text Channels - general - Planning [1100000000000000050].json"
MEDIA_NAME = "Test Guild - Text Channels - media [1100000000000000002].json"
MEDIA = FIXTURES / "media" / MEDIA_NAME
MEDIA_FILES = FIXTURES / "media" / f"{MEDIA_NAME}_Files"

GUILD_ID = 1000000000000000001
GENERAL_ID = 1100000000000000001
THREAD_ID = 1100000000000000050
ALICE_ID, BOB_ID, HELPER_ID, HOOK_ID, CAROL_ID = (
    2100000000000000001,
    2100000000000000002,
    2100000000000000003,
    2100000000000000004,
    2100000000000000005,
)
ALICE_AVATAR = "0123456789abcdef0123456789abcdef"


def item(export: ExportedChannel, message_id: int) -> ImportItem:
    return next(i for i in export.items if i.message.id == message_id)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def variant(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the general export with ``change`` applied to its data."""
    data = copy.deepcopy(load(GENERAL))
    change(data)
    return write(tmp_path / "variant.json", data)


def one_message(tmp_path: Path, **fields: Any) -> ImportItem:
    """The general export cut to its second message, with ``fields`` replaced."""

    def change(data: dict[str, Any]) -> None:
        message = data["messages"][1]
        message.update(fields)
        data["messages"] = [message]

    [only] = read_export(variant(tmp_path, change)).items
    return only
