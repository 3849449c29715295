"""Waiting out Discord's 429s and 5xx answers instead of dropping a Matrix message.

discord.py retries a webhook request itself a few times (a 429 with ``Via`` after its
``retry_after``, a 5xx after 1, 3, 5… s), then raises; a 429 *without* ``Via`` it raises at
once, taking it for a Cloudflare ban. Around that, :func:`retrying` keeps trying while Discord
answers 429 or 5xx: it honours ``retry_after`` (the ``X-RateLimit-Reset-After`` or
``Retry-After`` header) and otherwise backs off exponentially, capped, with jitter. Only other
answers (400, 403, 404…) are failures. The caller is the room's queue: later events of the
room wait, so order is kept.

Stopping: when ``stopped`` (an :class:`asyncio.Event`, set by the bridge's stop before the
Discord client closes) is set, a waiting retry gives up at once, and so does a request that
fails once the bridge is stopping: :class:`DiscordStopped` (the event stays in the inbox and is
relayed at the next start). Mirrors :class:`~bridge.matrix.homeserver_wait.HomeserverStopped`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import discord

from ...backoff import capped_backoff

log = logging.getLogger("bridge.m2d.retry")
T = TypeVar("T")
#: ``on_wait(cause, seconds)``: cause is "rate_limited" (429) or "server_error" (5xx).
WaitObserver = Callable[[str, float], None]


class DiscordStopped(Exception):
    """The bridge stopped while a request waited for Discord (or failed as it stopped): it
    may not have been delivered, and is not reported as a failure."""


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff between attempts, in seconds: ``base`` × 2ⁿ up to ``cap``, times a random
    factor in [1 − ``jitter``, 1]; a 429's own ``retry_after`` (capped too) is waited at
    least, plus up to ``jitter`` × 10 % more."""

    base: float = 0.5
    cap: float = 30.0
    jitter: float = 0.5


def transient(error: BaseException) -> bool:
    """Whether Discord's answer says "later" (429, 5xx) rather than "no"."""
    return isinstance(error, discord.HTTPException) and (error.status == 429 or error.status >= 500)


def retry_after(error: discord.HTTPException) -> float | None:
    """The seconds a 429 asks to wait (its headers), if it says."""
    headers = getattr(error.response, "headers", None) or {}
    for name in ("X-RateLimit-Reset-After", "Retry-After"):
        try:
            value = headers.get(name)
            if value is not None:
                return max(float(value), 0.0)
        except (TypeError, ValueError):
            continue
    return None


def backoff(policy: RetryPolicy, attempt: int, asked: float | None) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 0)."""
    if asked is not None:
        return min(policy.cap, asked) * (1 + random.uniform(0, policy.jitter / 10))
    return capped_backoff(attempt, policy.base, policy.cap, policy.jitter, random.random())


async def retrying(
    request: Callable[[], Awaitable[T]],
    what: str,
    policy: RetryPolicy,
    on_wait: WaitObserver | None = None,
    stopped: asyncio.Event | None = None,
) -> T:
    """``await request()`` until Discord answers something other than 429 or 5xx.

    ``request`` makes a new request each time (a coroutine can be awaited once); ``what``
    names it in the log. Never gives up on 429/5xx; any other error is raised. Once
    ``stopped`` is set, raises :class:`DiscordStopped` instead of waiting or of any error.
    """
    attempt = 0
    while True:
        if stopped is not None and stopped.is_set():
            raise DiscordStopped(f"the bridge is stopping: {what} not sent")
        try:
            return await request()
        except Exception as error:
            if stopped is not None and stopped.is_set():
                raise DiscordStopped(f"the bridge stopped during {what}") from error
            if not isinstance(error, discord.HTTPException) or not transient(error):
                raise
            asked = retry_after(error) if error.status == 429 else None
            delay = backoff(policy, attempt, asked)
            cause = "rate_limited" if error.status == 429 else "server_error"
            log.warning(
                "Discord answered %s to %s; trying again in %.2f s (attempt %d)",
                error.status,
                what,
                delay,
                attempt + 2,
            )
            if on_wait is not None:
                on_wait(cause, delay)
            attempt += 1
            if stopped is None:
                await asyncio.sleep(delay)
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopped.wait(), timeout=delay)
                raise DiscordStopped(f"the bridge stopped while {what} waited") from error
