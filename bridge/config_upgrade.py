"""Upgrading a user's config: add the keys it lacks, keep everything the user wrote.

mautrix's ``BaseFileConfig.update`` rebuilds the file from the bundled example, which keeps
the example's comments but drops the user's own. Here the user's document is the one kept:
each key it lacks is inserted at the example's place, with the comment lines that stand
above it in the example.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from ruamel.yaml.comments import CommentedMap

INDENT = 4
_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>\"[^\"]+\"|[^\s#:][^:]*):(\s|$)")


def example_comments(lines: Iterable[str]) -> dict[str, str]:
    """The comment block above each key of the example, by dotted key path.

    Reads the example's text (4-space indents), because ruamel.yaml files a comment line
    under whichever key happens to precede it, not the key it describes.
    """
    comments: dict[str, str] = {}
    stack: list[str] = []
    pending: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped.removeprefix("#").removeprefix(" "))
            continue
        match = _KEY_LINE.match(line)
        if not match:
            pending = []
            continue
        depth = len(match["indent"]) // INDENT
        stack = stack[:depth] + [match["key"].strip('"')]
        if pending:
            comments[".".join(stack)] = "\n".join(pending)
        pending = []
    return comments


def add_missing_keys(
    user: CommentedMap,
    example: CommentedMap,
    comments: dict[str, str],
    whole_maps: tuple[str, ...] = (),
    prefix: str = "",
) -> list[str]:
    """Insert into ``user`` every key of ``example`` it lacks; returns the added key paths.

    Maps named in ``whole_maps`` are the user's choice: added when missing, never merged into.
    """
    added: list[str] = []
    position = 0
    for key, example_value in example.items():
        path = f"{prefix}{key}"
        if key in user:
            position = list(user.keys()).index(key) + 1
            user_value = user[key]
            if (
                isinstance(example_value, CommentedMap)
                and isinstance(user_value, CommentedMap)
                and path not in whole_maps
            ):
                added += add_missing_keys(
                    user_value, example_value, comments, whole_maps, f"{path}."
                )
            continue
        user.insert(position, key, _without_comments(example_value))
        _comment_subtree(user, key, path, comments)
        position += 1
        added.append(path)
    return added


def _without_comments(value: Any) -> Any:
    """A copy of an example value with none of ruamel.yaml's comment bookkeeping.

    The comments ruamel.yaml keeps inside a map belong to whatever follows it in the example,
    so copying them along would put them in the wrong places.
    """
    if isinstance(value, CommentedMap):
        plain = CommentedMap()
        for key, item in value.items():
            plain[key] = _without_comments(item)
        return plain
    if isinstance(value, list):
        return [_without_comments(item) for item in value]
    return copy.deepcopy(value)


def _comment_subtree(parent: CommentedMap, key: str, path: str, comments: dict[str, str]) -> None:
    """Put the example's comment lines above ``key`` and above every key beneath it."""
    if path in comments:
        indent = INDENT * path.count(".")
        parent.yaml_set_comment_before_after_key(key, before=comments[path], indent=indent)
    value = parent[key]
    if isinstance(value, CommentedMap):
        for child in value:
            _comment_subtree(value, child, f"{path}.{child}", comments)
