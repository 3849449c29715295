"""Upgrading a user's config in memory: add the keys it lacks, keep everything the user wrote.

mautrix's ``BaseFileConfig.update`` rebuilds the config from the bundled example. Here the
user's document is the one kept: each key it lacks is inserted at the example's place. The
file itself is changed line by line by config_text, which adds the example's comments.
"""

from __future__ import annotations

import copy
from typing import Any

from ruamel.yaml.comments import CommentedMap


def add_missing_keys(
    user: CommentedMap,
    example: CommentedMap,
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
                added += add_missing_keys(user_value, example_value, whole_maps, f"{path}.")
            continue
        user.insert(position, key, _without_comments(example_value))
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
