"""Which spellings of a unicode emoji Discord accepts: its own, and no other.

Discord looks a unicode reaction up in its emoji table by exact spelling and answers any other
spelling with 400 ``{"code": 10014, "message": "Unknown Emoji"}``: ``👍\\uFE0F``, ``🎃\\uFE0F``,
``🙂\\uFE0F`` and the old ``1\\u20E3`` are refused (discord-api-docs#1047, #1165, #1254). Its
table spells each emoji in Unicode's fully-qualified form (UTS #51 emoji-test.txt).

The reference list here is the ``emoji`` package's copy of emoji-test.txt: an independent copy
of the source Discord follows, so the emulator does not check the bridge against the bridge's
own rule. Text that is no emoji in any spelling is left alone (the emulator does not keep
Discord's list of supported emoji, only its spelling rule).
"""

from __future__ import annotations

import emoji

_ACCEPTED = (emoji.STATUS["fully_qualified"], emoji.STATUS["component"])
VS16 = "\ufe0f"


def refused_spelling(name: str) -> bool:
    """Whether Discord refuses ``name`` as a unicode emoji for its variation selectors.

    True for an emoji that Unicode lists only as minimally- or unqualified (``❤`` without
    U+FE0F, ``1\\u20E3``) and for any text with a U+FE0F that is not a fully-qualified emoji
    (``👍\\uFE0F``); False for fully-qualified emoji, skin-tone components and other text.
    """
    data = emoji.EMOJI_DATA.get(name)
    if data is not None:
        return data["status"] not in _ACCEPTED
    return VS16 in name
