"""Which keys a config may hold: those of the bundled example, and the nearest one to a typo.

The known keys are read from the example config (bridge/example-config.yaml), never listed
here, so a key added to the example is known at once. Maps whose entries are the user's own
(``whole_maps``: bridge.permissions, logging) are known as a whole; what they hold is
checked by the rules of config_schema, not here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

# Keys an earlier version read and this one does not: dotted path → what to do instead.
# Read in `git log -p bridge/example-config.yaml`: no key has been removed or renamed yet
# (every change so far added keys). Add an entry when one is, e.g.
#   "bridge.old_key": "replaced by bridge.new_key (same values)".
REMOVED_KEYS: dict[str, str] = {}

# difflib ratios (0..1) above which a known key counts as "near" an unknown one: a sibling
# in the same section may differ more than a key from anywhere in the file.
SIBLING_CUTOFF = 0.6
ANYWHERE_CUTOFF = 0.75


def known_keys(example: Mapping[str, Any], whole_maps: tuple[str, ...] = ()) -> set[str]:
    """Every dotted key path of ``example``: sections (``bridge.messages``) and leaves.

    The entries of the maps named in ``whole_maps`` are not listed: those maps are one value.
    """
    return set(_paths(example, whole_maps))


def known_leaves(example: Mapping[str, Any], whole_maps: tuple[str, ...] = ()) -> list[str]:
    """The dotted paths of ``example`` that hold a value (whole maps count as one), in order."""
    return [
        path
        for path, value in _walk(example, whole_maps)
        if not (isinstance(value, Mapping) and path not in whole_maps)
    ]


def _walk(
    node: Mapping[str, Any], whole_maps: tuple[str, ...], prefix: str = ""
) -> Iterator[tuple[str, Any]]:
    for key, value in node.items():
        path = f"{prefix}{key}"
        yield path, value
        if isinstance(value, Mapping) and path not in whole_maps:
            yield from _walk(value, whole_maps, f"{path}.")


def _paths(node: Mapping[str, Any], whole_maps: tuple[str, ...]) -> Iterator[str]:
    for path, _ in _walk(node, whole_maps):
        yield path


def unknown_keys(
    user: Mapping[str, Any], example: Mapping[str, Any], whole_maps: tuple[str, ...] = ()
) -> list[str]:
    """The dotted paths in ``user`` that ``example`` lacks, in the user's order.

    An unknown section is one entry (its keys are not listed one by one); a known section
    holding something else than a map is left to the value rules.
    """
    found: list[str] = []

    def visit(node: Mapping[str, Any], reference: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if key not in reference:
                found.append(path)
            elif (
                isinstance(value, Mapping)
                and isinstance(reference[key], Mapping)
                and path not in whole_maps
            ):
                visit(value, reference[key], f"{path}.")

    visit(user, example, "")
    return found


def nearest_key(path: str, known: set[str]) -> str | None:
    """The known key a user most likely meant by ``path``, or None when nothing is close.

    First a known key with the same last part in another section (``bridge.room_mentions``
    → ``bridge.messages.room_mentions``), then the closest sibling by difflib's ratio, then
    the closest key anywhere.
    """
    parent, _, leaf = path.rpartition(".")
    same_leaf = sorted(k for k in known if k.rpartition(".")[2] == leaf and k != path)
    if same_leaf:
        return difflib.get_close_matches(path, same_leaf, n=1, cutoff=0.0)[0]
    siblings = [k for k in known if k.rpartition(".")[0] == parent]
    close = difflib.get_close_matches(path, siblings, n=1, cutoff=SIBLING_CUTOFF)
    if not close:
        close = difflib.get_close_matches(path, sorted(known), n=1, cutoff=ANYWHERE_CUTOFF)
    return close[0] if close else None


def describe_unknown(path: str, known: set[str]) -> str:
    """One line for a key this version does not read: removed (and what replaced it) or unknown.

    e.g. "homeserver.adress: unknown key — did you mean homeserver.address?"
    """
    if path in REMOVED_KEYS:
        return f"{path}: no longer used by this version of the bridge — {REMOVED_KEYS[path]}"
    suggestion = nearest_key(path, known)
    if suggestion is not None:
        return f"{path}: unknown key — did you mean {suggestion}?"
    return f"{path}: unknown key (the example config has no such key); remove it"
