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


def webhook_username(name: str, fallback: str) -> str:
    """A webhook username for `name`: 1–80 characters, no control characters, nothing reserved.

    An empty name (after cleaning) becomes `fallback` (the Matrix localpart), cleaned the same.
    """
    for candidate in (name, fallback, DEFAULT_NAME):
        cleaned = _clean(candidate)
        if cleaned:
            return cleaned
    return DEFAULT_NAME


def _clean(name: str) -> str:
    visible = "".join(" " if char.isspace() else char for char in name if not _control(char))
    trimmed = _SPACES.sub(" ", visible).strip()[:MAX_NAME].strip()
    if not _has_visible(trimmed):
        return ""
    trimmed = _RESERVED.sub(_disguise, trimmed)
    if trimmed.casefold() in _WHOLE_NAMES:
        trimmed = _disguise_letter(trimmed, len(trimmed) - 1)
    return trimmed


def _control(char: str) -> bool:
    """Control characters (Cc) and line/paragraph separators; zero-width joiners stay (emoji)."""
    return char not in " \t\n" and (
        unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in "\u2028\u2029"
    )


def _has_visible(name: str) -> bool:
    return any(unicodedata.category(char)[0] not in ("Z", "C") for char in name)


def _disguise(match: re.Match[str]) -> str:
    word = match.group()
    index = next(i for i, char in enumerate(word) if char in "oOyY")
    return _disguise_letter(word, index)


def _disguise_letter(word: str, index: int) -> str:
    return word[:index] + _LOOK_ALIKES.get(word[index], word[index]) + word[index + 1 :]
