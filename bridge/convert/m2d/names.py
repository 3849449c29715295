"""Display names as Discord accepts them for a webhook message's author."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 80
DEFAULT_NAME = "Matrix user"
# Discord refuses any name containing these (case-insensitively): one letter of each is swapped
# for a Cyrillic look-alike, which reads the same and matches no more.
_RESERVED = re.compile(r"discord|clyde", re.IGNORECASE)
_LOOK_ALIKES = {
    "o": "\u043e",
    "O": "\u041e",
    "y": "\u0443",
    "Y": "\u0423",
    "e": "\u0435",
    "E": "\u0415",
}
# Names Discord refuses as a whole.
_WHOLE_NAMES = ("everyone", "here")
_SPACES = re.compile(r"\s+")
# Letters and marks that show nothing: Hangul fillers, the combining grapheme joiner, Khmer's
# inherent vowels, the braille blank; with the format characters (Cf), names that look empty
# or like someone else's are made of these.
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u034f\u17b4\u17b5\u2800")
_FIRST_TAG, _CANCEL_TAG = "\U000e0000", "\U000e007f"
# A subdivision flag: black flag, a region code in tag letters and digits, cancel tag (🏴 gbeng).
_FLAG = re.compile("\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,6}\U000e007f")


def webhook_username(name: str, fallback: str) -> str:
    """A webhook username for `name`: 1–80 characters, no control characters, nothing reserved.

    An empty name (after cleaning) becomes `fallback` (the Matrix localpart), cleaned the same.
    """
    for candidate in (name, fallback, DEFAULT_NAME):
        cleaned = _clean(candidate)
        if cleaned:
            return cleaned
    return DEFAULT_NAME


def visible_name(name: str) -> str:
    """A name shown inside a message (reply quote, emote, pill): on one line, without the
    control and invisible characters `webhook_username` drops (bidi overrides and the like)."""
    return _SPACES.sub(" ", _visible_only(name)).strip()


def _clean(name: str) -> str:
    visible = "".join(" " if char.isspace() else char for char in _visible_only(name))
    trimmed = _visible_only(_SPACES.sub(" ", visible).strip()[:MAX_NAME]).strip()
    if not _has_visible(trimmed):
        return ""
    trimmed = _RESERVED.sub(_disguise, trimmed)
    if trimmed.casefold() in _WHOLE_NAMES:
        trimmed = _disguise_letter(trimmed, len(trimmed) - 1)
    return trimmed


def _visible_only(name: str) -> str:
    """The name without control characters and without the invisible ones that can disguise
    it: bidirectional overrides, embeddings, isolates and marks (U+202A–U+202E,
    U+2066–U+2069, U+200E/F, U+061C), zero-width spaces, soft hyphens, filler letters, and any
    other format character (Cf). Joiners stay where writing needs them: a ZWJ between emoji
    (🏳️‍🌈), a ZWNJ after a letter of a script that uses it (Persian, Indic), and the tag
    characters of a flag such as 🏴 England's."""
    flag_tags = {i for flag in _FLAG.finditer(name) for i in range(flag.start() + 1, flag.end())}
    kept: list[str] = []
    for index, char in enumerate(name):
        if _FIRST_TAG <= char <= _CANCEL_TAG:  # invisible ASCII, unless it names a flag
            if index in flag_tags:
                kept.append(char)
        elif char in "\u200c\u200d":
            before = kept[-1] if kept else ""
            after = name[index + 1 : index + 2]
            if _joins(char, before, after):
                kept.append(char)
        elif not _control(char) and char not in _INVISIBLE and unicodedata.category(char) != "Cf":
            kept.append(char)
    return "".join(kept)


def _joins(joiner: str, before: str, after: str) -> bool:
    """Whether a ZWJ (between emoji) or ZWNJ (after a non-Latin letter) does its job here."""
    if not before or not after:
        return False
    if joiner == "\u200d":
        return _emoji_part(before) and _emoji_part(after)
    return ord(before) > 0x36F and unicodedata.category(before)[0] in "LM"


def _emoji_part(char: str) -> bool:
    """A symbol, or what follows one inside an emoji (variation selector, skin tone)."""
    return unicodedata.category(char) in ("So", "Sk") or "\ufe00" <= char <= "\ufe0f"


def _control(char: str) -> bool:
    """Control characters (Cc) and line/paragraph separators (whitespace aside)."""
    return char not in " \t\n" and unicodedata.category(char) in ("Cc", "Zl", "Zp")


def _has_visible(name: str) -> bool:
    return any(unicodedata.category(char)[0] not in ("Z", "C") for char in name)


def _disguise(match: re.Match[str]) -> str:
    word = match.group()
    index = next(i for i, char in enumerate(word) if char in "oOyY")
    return _disguise_letter(word, index)


def _disguise_letter(word: str, index: int) -> str:
    return word[:index] + _LOOK_ALIKES.get(word[index], word[index]) + word[index + 1 :]
