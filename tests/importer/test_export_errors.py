"""DCE exports: bad input, and finding exports in files and folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.importer.export_reader import ExportError, find_exports, read_export
from tests.importer.export_helpers import (
    FIXTURES,
    GENERAL,
    GENERAL_ID,
    MEDIA,
    MEDIA_NAME,
    THREAD,
    load,
    variant,
    write,
)

# ---- bad input -------------------------------------------------------------------------------


def _error(path: Path) -> ExportError:
    with pytest.raises(ExportError) as caught:
        read_export(path)
    assert str(path) in str(caught.value)
    assert caught.value.path == path
    assert caught.value.__cause__ is None  # no traceback of the parser for bad input
    return caught.value


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not valid JSON"),
        (b"<html></html>", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[1, 2]", "not a DiscordChatExporter JSON export"),
        (b'{"name": "package.json"}', 'no "guild", "channel", "messages"'),
        (b'{"guild": {}, "channel": {}, "messages": {}}', '"messages" is not an array'),
        (b'{"guild": [], "channel": {}, "messages": []}', '"guild" is not an object'),
    ],
)
def test_not_an_export(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert problem in _error(path).problem


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert "no such file" in _error(tmp_path / "nope.json").problem
    assert "folder" in _error(tmp_path).problem


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["messages"][0].pop("id"), "messages[0].id: missing"),
        (lambda d: d["messages"][1].update(id="12ab"), "not an id"),
        (lambda d: d["messages"][1].pop("author"), "message 1200000000000000002.author: missing"),
        (lambda d: d["messages"][1]["author"].pop("id"), ".author.id: missing"),
        (lambda d: d["messages"][1].update(timestamp="yesterday"), ".timestamp: not a date"),
        (lambda d: d["messages"][1].pop("timestamp"), ".timestamp: missing"),
        (lambda d: d["messages"][1].update(attachments={}), ".attachments: not an array"),
        (lambda d: d["messages"][1].update(isPinned="yes"), ".isPinned: not true or false"),
        (lambda d: d["messages"].append("text"), "messages[12]: not an object"),
        (lambda d: d["channel"].pop("id"), "channel.id: missing"),
        (lambda d: d["channel"].pop("name"), "channel.name: missing"),
        (lambda d: d["guild"].pop("name"), "guild.name: missing"),
        (lambda d: d["messages"][1]["reactions"][0].pop("emoji"), ".reactions[0].emoji: missing"),
    ],
)
def test_missing_or_wrong_fields(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any], problem: str
) -> None:
    assert problem in _error(variant(tmp_path, change)).problem


# ---- finding exports -------------------------------------------------------------------------


def test_find_exports_in_the_fixtures() -> None:
    found = find_exports([FIXTURES])
    assert found == [GENERAL.resolve(), MEDIA.resolve(), THREAD.resolve()]


def test_find_exports_puts_threads_after_their_parent(tmp_path: Path) -> None:
    shutil.copy(THREAD, tmp_path / "a-thread.json")  # sorts first by name
    shutil.copy(GENERAL, tmp_path / "b-general.json")
    assert [p.name for p in find_exports([tmp_path])] == ["b-general.json", "a-thread.json"]
    # A thread whose parent is not exported is ordered like any channel.
    assert find_exports([tmp_path / "a-thread.json"]) == [(tmp_path / "a-thread.json").resolve()]


def test_find_exports_skips_media_folders_and_other_json(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "all")
    media_folder = tmp_path / "all" / "media" / f"{MEDIA_NAME}_Files"
    shutil.copy(GENERAL, media_folder / "looks-like-an-export.json")
    write(tmp_path / "all" / "package.json", {"name": "x"})
    write(tmp_path / "all" / "list.json", [1, 2])
    (tmp_path / "all" / "broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "all" / "notes.txt").write_text("hi", encoding="utf-8")
    found = find_exports([tmp_path / "all", tmp_path / "all" / GENERAL.name])
    assert [p.name for p in found] == [GENERAL.name, MEDIA_NAME, THREAD.name]


def test_find_exports_refuses_a_named_file_that_is_not_an_export(tmp_path: Path) -> None:
    path = write(tmp_path / "package.json", {"name": "x"})
    with pytest.raises(ExportError, match="package.json"):
        find_exports([path])
    with pytest.raises(ExportError, match="no such file or folder"):
        find_exports([tmp_path / "missing"])


def test_find_exports_orders_partitions_by_number(tmp_path: Path) -> None:
    for part in (10, 2, 1):
        shutil.copy(GENERAL, tmp_path / f"general [part {part}].json")
    names = [p.name for p in find_exports([tmp_path])]
    assert names == ["general [part 1].json", "general [part 2].json", "general [part 10].json"]


def test_find_exports_reads_exports_laid_out_otherwise(tmp_path: Path) -> None:
    """Messages first (another tool re-wrote the file), or a header longer than the peek."""
    data = load(GENERAL)
    reordered = {"messages": data.pop("messages"), **data}
    first = write(tmp_path / "messages-first.json", reordered)
    data = load(GENERAL)
    data["channel"]["topic"] = "x" * 300_000
    long_header = write(tmp_path / "long-topic.json", data)
    assert set(find_exports([tmp_path])) == {first.resolve(), long_header.resolve()}
    assert read_export(first).channel.id == GENERAL_ID


def test_find_exports_with_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + GENERAL.read_bytes())
    assert find_exports([path]) == [path.resolve()]
    assert read_export(path).channel.id == GENERAL_ID
