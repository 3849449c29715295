"""Editing the user's config file as text, so that every line the bridge does not change
stays byte for byte as the user wrote it (indentation, quoting, comments, line endings).

Two edits exist: inserting the blocks of keys the file lacks (copied from the example config
with their comment lines, re-indented to the file's own indentation) and replacing one
scalar value on its line (the registration tokens). Line numbers come from ruamel.yaml's
round-trip parser (``lc``); a section written in flow style (``{a: 1}``) cannot take new lines
(in_flow_section finds the keys that would go there; insert_keys gives up, None, if asked to).
Callers check the result by parsing it again.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

# The example config is indented with 4 spaces per level.
EXAMPLE_INDENT = 4
_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")


def parse(text: str) -> Any:
    """The round-trip parse of a config text (ruamel.yaml CommentedMap with line numbers)."""
    return YAML().load(text)


@dataclass(frozen=True)
class _Insertion:
    before: int  # index in the user's lines
    order: int  # keeps blocks inserted at the same place in the example's order
    lines: tuple[str, ...]  # without line endings


def _newline(lines: list[str]) -> str:
    """The file's line ending: that of its first line ("\\r\\n" or "\\n")."""
    return "\r\n" if lines and lines[0].endswith("\r\n") else "\n"


def _is_filler(line: str) -> bool:
    """A blank or comment-only line, which belongs to no key's value."""
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _node(root: CommentedMap, parts: list[str]) -> Any:
    node: Any = root
    for part in parts:
        node = node[part]
    return node


def _block_start(node: CommentedMap, key: str, lines: list[str]) -> int:
    """The first line of ``key``'s block: its key line, or the comment lines just above it."""
    start = int(node.lc.key(key)[0])
    while start > 0 and lines[start - 1].strip().startswith("#"):
        start -= 1
    return start


def _block_end(root: CommentedMap, parts: list[str], lines: list[str]) -> int:
    """One past the last line of the value of the key at ``parts`` (comments after it excluded).

    The block ends where the next key at its level or above starts (or the file ends); the
    blank and comment lines before that key are that key's, not this one's.
    """
    boundary = len(lines)
    for depth in range(len(parts), 0, -1):
        parent = _node(root, parts[: depth - 1])
        keys = list(parent.keys())
        following = keys[keys.index(parts[depth - 1]) + 1 :]
        if following:
            boundary = int(parent.lc.key(following[0])[0])
            break
    key_line = int(_node(root, parts[:-1]).lc.key(parts[-1])[0])
    end = boundary
    while end - 1 > key_line and _is_filler(lines[end - 1]):
        end -= 1
    return end


def _indent_unit(root: CommentedMap) -> int:
    """The file's indentation step: how far the first nested block section is indented."""
    for key, value in root.items():
        if isinstance(value, CommentedMap) and value and not value.fa.flow_style():
            step = int(value.lc.key(next(iter(value)))[1]) - int(root.lc.key(key)[1])
            if step > 0:
                return step
    return EXAMPLE_INDENT


def _reindent(block: list[str], from_column: int, to_column: int, unit: int) -> list[str]:
    """Move the example's lines from ``from_column`` to ``to_column``, scaling deeper levels."""
    moved = []
    for line in block:
        if not line.strip():
            moved.append("")
            continue
        body = line.lstrip(" ")
        relative = len(line) - len(body) - from_column
        moved.append(" " * (to_column + relative * unit // EXAMPLE_INDENT) + body)
    return moved


def _example_block(example: CommentedMap, example_lines: list[str], parts: list[str]) -> list[str]:
    parent = _node(example, parts[:-1])
    start = _block_start(parent, parts[-1], example_lines)
    end = _block_end(example, parts, example_lines)
    return [line.rstrip("\r\n") for line in example_lines[start:end]]


def in_flow_section(root: CommentedMap, path: str) -> bool:
    """Whether the dotted ``path`` lies inside a section written in flow style (``{a: 1}``),
    where no line can be inserted. ``root`` is the parsed file; missing sections count as
    block style (their whole block is inserted)."""
    node: Any = root
    for part in path.split(".")[:-1]:
        if not isinstance(node, CommentedMap) or part not in node:
            return False
        node = node[part]
        if isinstance(node, CommentedMap) and node.fa.flow_style():
            return True
    return False


def insert_keys(text: str, example_text: str, paths: list[str]) -> str | None:
    """``text`` with the example's block for each dotted path in ``paths`` inserted.

    Each block (the key, its value and the comment lines above it in the example) goes
    after the block of the nearest key that precedes it in the example and that the file
    has, or else before the first key of its section, indented like its new siblings.
    Returns None when a section to insert into is written in flow style.
    """
    lines = text.splitlines(keepends=True)
    user, example = parse(text), parse(example_text)
    example_lines = example_text.splitlines(keepends=True)
    unit = _indent_unit(user)
    insertions: list[_Insertion] = []
    for order, path in enumerate(paths):
        parts = path.split(".")
        parent = _node(user, parts[:-1])
        if not isinstance(parent, CommentedMap) or parent.fa.flow_style() or not parent:
            return None
        example_keys = list(_node(example, parts[:-1]).keys())
        before = [k for k in example_keys[: example_keys.index(parts[-1])] if k in parent]
        if before:
            at = _block_end(user, [*parts[:-1], before[-1]], lines)
        else:
            at = _block_start(parent, next(iter(parent)), lines)
        column = int(parent.lc.key(next(iter(parent)))[1])
        example_parent = _node(example, parts[:-1])
        from_column = int(example_parent.lc.key(parts[-1])[1])
        block = _reindent(_example_block(example, example_lines, parts), from_column, column, unit)
        if len(parts) == 1:  # a top-level section: blank lines between it and its neighbours
            if before:
                block = ["", *block]
            if not before or (at < len(lines) and lines[at].strip()):
                block = [*block, ""]
        insertions.append(_Insertion(at, order, tuple(block)))
    return _apply(lines, insertions)


def _apply(lines: list[str], insertions: list[_Insertion]) -> str:
    newline = _newline(lines)
    if lines and not lines[-1].endswith("\n") and any(i.before == len(lines) for i in insertions):
        lines = [*lines[:-1], lines[-1] + newline]
    result = list(lines)
    for insertion in sorted(insertions, key=lambda i: (i.before, i.order), reverse=True):
        result[insertion.before : insertion.before] = [line + newline for line in insertion.lines]
    # Blocks inserted at the same place keep the example's order: the later one went in first.
    return "".join(result)


def replace_scalar(text: str, path: str, value: str) -> str | None:
    """``text`` with the scalar at ``path`` replaced by ``value``, quoted as the old one was.

    Only that value's characters change; a comment after it stays. Returns None when the
    key is missing or its value does not sit on one line.
    """
    parts = path.split(".")
    try:
        parent = _node(parse(text), parts[:-1])
        line_number, column = (int(n) for n in parent.lc.value(parts[-1]))
    except (KeyError, TypeError, AttributeError):
        return None
    lines = text.splitlines(keepends=True)
    line = lines[line_number]
    content = line.rstrip("\r\n")
    ending = line[len(content) :]
    quote = content[column : column + 1]
    if quote in ("'", '"'):
        close = _closing_quote(content, column)
        if close is None:
            return None
        stop, new = close + 1, f"{quote}{value}{quote}"
    else:
        comment = content.find(" #", column)
        stop = len(content[: len(content) if comment < 0 else comment].rstrip())
        new = value if _PLAIN_SAFE.match(value) else f'"{value}"'
    lines[line_number] = content[:column] + new + content[stop:] + ending
    return "".join(lines)


def _closing_quote(content: str, start: int) -> int | None:
    """The index of the quote closing the one at ``start``, or None if it is not on the line."""
    quote = content[start]
    index = start + 1
    while index < len(content):
        char = content[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            if quote == "'" and content[index + 1 : index + 2] == "'":
                index += 2  # '' is an escaped quote inside single quotes
                continue
            return index
        index += 1
    return None


def write_atomically(path: Path, text: str) -> None:
    """Replace the file at ``path`` with ``text`` (UTF-8, line endings as given), keeping its
    permission bits; a crash leaves the old file or the new one, never half of one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8"))
        shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
