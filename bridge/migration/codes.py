"""One-time link codes (pure): making them, reading what a person typed, judging a stored code.

A code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as
``ABCD-EFGH`` and accepted in any case, with or without the dash and spaces: 32⁸ ≈ 10¹² codes,
40 bits. Only its SHA-256 is stored (``link_code.code_hash``), so a database dump shows no code.
A code lives 15 minutes and is redeemed once, on the side it was not issued on. Guessing is
held back by :class:`GuessLimit`: a few wrong codes per sender and quarter-hour.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import deque
from dataclasses import dataclass
from enum import Enum

from ..db.rows import LinkCodeRow

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0 O 1 I L: nothing to mistake when typing
CODE_LENGTH = 8
LIFETIME_MS = 15 * 60 * 1000
# Expired and used rows are kept this long after they expire, so that typing such a code
# says "expired" or "already used" rather than "no such code"; then they are deleted.
KEEP_AFTER_EXPIRY_MS = 24 * 60 * 60 * 1000
SIDES = ("discord", "matrix")
WRONG_CODES_ALLOWED = 5  # per sender and LIFETIME_MS: then they wait


def new_code() -> str:
    """A fresh code, ``CODE_LENGTH`` characters of ``ALPHABET`` from :mod:`secrets` (no dash)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def shown(code: str) -> str:
    """The code as people read it: ``ABCDEFGH`` → ``ABCD-EFGH``."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def normalise(text: str) -> str | None:
    """What a person typed (``" abcd-efgh "``, ``"ABCDEFGH"``, ``"abcd efgh"``) as the code
    (``"ABCDEFGH"``), or None when it cannot be one (wrong length or characters)."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def code_hash(code: str) -> str:
    """The SHA-256 (hex) stored for a normalised code."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def new_row(
    code: str,
    issued_on: str,
    now_ms: int,
    *,
    discord_user_id: int | None = None,
    mxid: str | None = None,
) -> LinkCodeRow:
    """The row of a code just issued on ``issued_on`` ("discord" for ``discord_user_id``,
    "matrix" for ``mxid``), expiring ``LIFETIME_MS`` after ``now_ms``. Raises ValueError
    for an unknown side or a missing person."""
    if issued_on not in SIDES:
        raise ValueError(f"a code is issued on discord or matrix, not {issued_on!r}")
    if (discord_user_id if issued_on == "discord" else mxid) is None:
        raise ValueError(f"a code issued on {issued_on} needs the person it is for")
    return LinkCodeRow(
        code_hash=code_hash(code),
        issued_on=issued_on,
        discord_user_id=discord_user_id if issued_on == "discord" else None,
        mxid=mxid if issued_on == "matrix" else None,
        created_at=now_ms,
        expires_at=now_ms + LIFETIME_MS,
    )


class Verdict(Enum):
    """What a typed code is worth, checked in this order."""

    UNKNOWN = "unknown"  # no such code (or deleted long after it expired): a wrong guess
    WRONG_SIDE = "wrong side"  # issued on the side it is typed on
    USED = "used"  # redeemed already
    EXPIRED = "expired"  # past its 15 minutes, or replaced by a newer code
    VALID = "valid"


def judge(row: LinkCodeRow | None, typed_on: str, now_ms: int) -> Verdict:
    """The verdict on the stored row of a code typed on ``typed_on`` at ``now_ms``."""
    if row is None:
        return Verdict.UNKNOWN
    if row.issued_on == typed_on:
        return Verdict.WRONG_SIDE
    if row.used_at is not None:
        return Verdict.USED
    if now_ms >= row.expires_at:
        return Verdict.EXPIRED
    return Verdict.VALID


@dataclass
class GuessLimit:
    """Wrong codes per sender in a sliding window: at ``limit`` wrong codes within
    ``window_ms``, the sender's next codes are not even looked up until the oldest wrong one
    is ``window_ms`` old. Senders are keys like ``"discord:1234"`` or ``"matrix:@a:b.c"``.
    Kept in memory (a restart forgets it; a code still lives only 15 minutes)."""

    limit: int = WRONG_CODES_ALLOWED
    window_ms: int = LIFETIME_MS

    def __post_init__(self) -> None:
        self._wrong: dict[str, deque[int]] = {}

    def wait_ms(self, sender: str, now_ms: int) -> int:
        """How long ``sender`` must wait before trying a code (0: they may try now)."""
        times = self._recent(sender, now_ms)
        if len(times) < self.limit:
            return 0
        return times[-self.limit] + self.window_ms - now_ms

    def wrong(self, sender: str, now_ms: int) -> None:
        """Count a wrong code of ``sender`` at ``now_ms``."""
        if len(self._wrong) >= 1000:  # many senders: forget those with nothing recent
            for key in list(self._wrong):
                self._recent(key, now_ms)
        self._recent(sender, now_ms)
        self._wrong.setdefault(sender, deque()).append(now_ms)

    def _recent(self, sender: str, now_ms: int) -> deque[int]:
        """The sender's wrong codes still in the window (a sender with none is forgotten)."""
        times = self._wrong.get(sender)
        if times is None:
            return deque()
        while times and times[0] + self.window_ms <= now_ms:
            times.popleft()
        if not times:
            del self._wrong[sender]
        return times
