"""Reaction keys in Discord's form: unicode emoji with U+FE0F exactly where Discord puts it.

Matrix clients send emoji reactions with or without the emoji variation selector (U+FE0F):
Element's quick reactions send ``👍\\uFE0F``, other clients ``👍``. Discord knows each emoji in
one spelling only and answers any other with 400 ``{"code": 10014, "message": "Unknown Emoji"}``
(discord-api-docs#1047, #1165). Its spelling is Unicode's *fully-qualified* form (UTS #51,
emoji-test.txt), which Discord's client table follows since late 2019: ``❤️`` and keycaps
``1️⃣`` carry U+FE0F (discord-api-docs#1254), ``👍``, ``🎃`` and ``🙂`` do not (#1047).

Fully qualified means: a U+FE0F after every character that has both a text and an emoji
presentation (mautrix's table, built from Unicode's emoji-variation-sequences.txt) and whose
default presentation is text (``Emoji_Presentation=No`` in emoji-data.txt), except before a
skin-tone modifier; a keycap base (``#``, ``*``, ``0``-``9``) takes it only before U+20E3;
nothing else takes one. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Iterable

from mautrix.util import variation_selector

VS16 = "\ufe0f"
KEYCAP = "\u20e3"
_SKIN_TONES = frozenset(variation_selector.SKIN_TONE_MODIFIERS)
_KEYCAP_BASES = frozenset("#*0123456789")

# Emoji_Presentation=Yes in Unicode's emoji-data.txt (as of Unicode 14; later versions only add
# new emoji, and no new emoji has a text-style variation sequence). Inclusive ranges.
_EMOJI_PRESENTATION_RANGES = (
    "231A..231B 23E9..23EC 23F0 23F3 25FD..25FE 2614..2615 2648..2653 267F 2693 26A1 "
    "26AA..26AB 26BD..26BE 26C4..26C5 26CE 26D4 26EA 26F2..26F3 26F5 26FA 26FD 2705 "
    "270A..270B 2728 274C 274E 2753..2755 2757 2795..2797 27B0 27BF 2B1B..2B1C 2B50 2B55 "
    "1F004 1F0CF 1F18E 1F191..1F19A 1F1E6..1F1FF 1F201 1F21A 1F22F 1F232..1F236 1F238..1F23A "
    "1F250..1F251 1F300..1F320 1F32D..1F335 1F337..1F37C 1F37E..1F393 1F3A0..1F3CA "
    "1F3CF..1F3D3 1F3E0..1F3F0 1F3F4 1F3F8..1F43E 1F440 1F442..1F4FC 1F4FF..1F53D "
    "1F54B..1F54E 1F550..1F567 1F57A 1F595..1F596 1F5A4 1F5FB..1F64F 1F680..1F6C5 1F6CC "
    "1F6D0..1F6D2 1F6D5..1F6D7 1F6DD..1F6DF 1F6EB..1F6EC 1F6F4..1F6FC 1F7E0..1F7EB 1F7F0 "
    "1F90C..1F93A 1F93C..1F945 1F947..1F9FF 1FA70..1FA74 1FA78..1FA7C 1FA80..1FA86 "
    "1FA90..1FAAC 1FAB0..1FABA 1FAC0..1FAC5 1FAD0..1FAD9 1FAE0..1FAE7 1FAF0..1FAF6"
)
_EMOJI_PRESENTATION: tuple[tuple[int, int], ...] = tuple(
    (int(low, 16), int(high or low, 16))
    for low, _, high in (item.partition("..") for item in _EMOJI_PRESENTATION_RANGES.split())
)


def _emoji_presentation(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _EMOJI_PRESENTATION)


# Characters written with a U+FE0F in their fully-qualified form (text presentation by default).
_TEXT_DEFAULT = frozenset(
    char for char in variation_selector.read_data().values() if not _emoji_presentation(char)
)


def discord_form(key: str) -> str:
    """A reaction key as Discord spells it; keys that are not unicode emoji come back unchanged.

    ``"👍\\uFE0F"`` → ``"👍"``, ``"❤"`` → ``"❤\\uFE0F"``, ``"1\\u20E3"`` → ``"1\\uFE0F\\u20E3"``,
    ``"☝\\uFE0F🏽"`` → ``"☝🏽"``; ZWJ sequences get the selector on each text-default part
    (``"🏳\\u200D🌈"`` → ``"🏳\\uFE0F\\u200D🌈"``). A custom emoji's ``name:id`` or an ``mxc://``
    key has nothing to change. Source: UTS #51 fully-qualified emoji, as Discord's table.
    """
    bare = variation_selector.remove(key)
    out: list[str] = []
    for index, char in enumerate(bare):
        out.append(char)
        after = bare[index + 1] if index + 1 < len(bare) else ""
        if char in _KEYCAP_BASES:
            if after == KEYCAP:
                out.append(VS16)
        elif char in _TEXT_DEFAULT and after not in _SKIN_TONES:
            out.append(VS16)
    return "".join(out)


def same_reaction(first: str, second: str) -> bool:
    """Whether two reaction keys are the same emoji (compared in Discord's form)."""
    return first == second or discord_form(first) == discord_form(second)


def matrix_key(discord_name: str, keys_in_use: Iterable[str]) -> str:
    """The Matrix key for Discord's emoji ``discord_name`` on a message.

    A key already used on Matrix for the same emoji (e.g. a Matrix user's ``👍\\uFE0F``), so
    Matrix clients count the reactions under one key: Discord's own spelling if it is in use,
    else the first other spelling in ``keys_in_use``; with none in use, Discord's.
    """
    keys = list(keys_in_use)
    if discord_name in keys:
        return discord_name
    return next((key for key in keys if same_reaction(key, discord_name)), discord_name)
