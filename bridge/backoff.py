"""Capped exponential backoff with jitter: the one rule both retry loops use (towards Discord in
``bridge/actions/m2d/retry.py``, towards the homeserver in ``bridge/matrix/homeserver_wait.py``).
"""

from __future__ import annotations


def capped_backoff(attempt: int, first: float, cap: float, spread: float, draw: float) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry).

    ``first`` × 2^attempt, at most ``cap`` (s), times a factor in [1 − ``spread``, 1] chosen by
    ``draw`` (0 ≤ draw < 1, e.g. ``random.random()``), so that many waiting senders do not all
    come back at once.
    """
    ceiling = min(cap, first * 2 ** min(attempt, 30))  # no float overflow
    return ceiling * (1 - spread + spread * draw)
