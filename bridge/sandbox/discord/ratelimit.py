"""Discord-like rate limits for the REST API: a global limit per bot and per-route buckets.

Answers carry ``X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket``; a request over a limit
gets 429 with ``{"message", "retry_after", "global"}``, ``Retry-After``, ``X-RateLimit-Scope``
and, for the global limit, ``X-RateLimit-Global: true``. Windows are fixed: a bucket's window
starts with its first request.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field

#: Route parameters that make separate buckets of one route, as Discord's "major parameters".
MAJOR_PARAMS = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id")


@dataclass
class RateLimitConfig:
    """Limits as (requests, window seconds). ``routes`` keys are ``"METHOD /route/{template}"``
    (templates as the OpenAPI paths); other routes use ``default_route``."""

    enabled: bool = True
    global_limit: int = 50
    global_window: float = 1.0
    default_route: tuple[int, float] = (50, 1.0)
    routes: dict[str, tuple[int, float]] = field(
        default_factory=lambda: {
            "POST /channels/{channel_id}/messages": (5, 5.0),
            "POST /webhooks/{webhook_id}/{webhook_token}": (5, 2.0),
            "PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me": (
                1,
                0.25,
            ),
        }
    )


@dataclass
class _Window:
    limit: int
    window: float
    reset_at: float
    count: int = 0


@dataclass
class Decision:
    """The outcome for one request: headers to add, and ``retry_after`` if it is refused."""

    headers: dict[str, str]
    retry_after: float | None = None
    is_global: bool = False


class RateLimiter:
    def __init__(self, config: RateLimitConfig | None = None) -> None:
        self.config = config or RateLimitConfig()
        self._windows: dict[tuple[str, ...], _Window] = {}

    def reset(self) -> None:
        """Forget all counters (e.g. after changing the config)."""
        self._windows.clear()

    def _take(
        self, key: tuple[str, ...], limit: int, window: float, now: float
    ) -> tuple[_Window, bool]:
        win = self._windows.get(key)
        if win is None or now >= win.reset_at or win.limit != limit:
            win = _Window(limit, window, now + window)
            self._windows[key] = win
        if win.count >= win.limit:
            return win, False
        win.count += 1
        return win, True

    def check(
        self,
        who: str,
        method: str,
        template: str,
        params: dict[str, str],
        *,
        use_global: bool = True,
    ) -> Decision:
        """Count a request by ``who`` (a token) to ``template``; refuse it if over a limit."""
        if not self.config.enabled:
            return Decision({})
        now = time.time()
        route = f"{method} {template}"
        limit, window = self.config.routes.get(route, self.config.default_route)
        if use_global:
            gwin, ok = self._take(
                ("global", who), self.config.global_limit, self.config.global_window, now
            )
            if not ok:
                retry = max(gwin.reset_at - now, 0.001)
                headers = {
                    "X-RateLimit-Global": "true",
                    "X-RateLimit-Scope": "global",
                    "Retry-After": str(math.ceil(retry)),
                }
                return Decision(headers, retry, is_global=True)
        major = tuple(params.get(p, "") for p in MAJOR_PARAMS)
        win, ok = self._take(("route", who, route, *major), limit, window, now)
        bucket = hashlib.sha1(route.encode()).hexdigest()[:16]
        reset_after = max(win.reset_at - now, 0.0)
        headers = {
            "X-RateLimit-Limit": str(win.limit),
            "X-RateLimit-Remaining": str(max(win.limit - win.count, 0)),
            "X-RateLimit-Reset": f"{win.reset_at:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }
        if ok:
            return Decision(headers)
        headers.update({"X-RateLimit-Scope": "user", "Retry-After": str(math.ceil(reset_after))})
        return Decision(headers, max(reset_after, 0.001))
