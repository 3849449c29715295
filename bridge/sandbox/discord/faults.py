"""REST-side fault injection: added latency and error answers, set by tests or the control API."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class FaultRule:
    """Answer ``status`` to requests matching ``pattern`` (a regex searched in
    ``"METHOD /path"``, path without ``/api/v10``; None: every request), ``count`` times
    (None: until removed).

    Two statuses act as a misbehaving server would: 429 answers Discord's rate-limit body
    (``retry_after`` seconds, default 0.1) with ``Retry-After``, and with ``Via`` only if
    ``via`` (Discord's API sends it; a 429 without it is what discord.py takes for a
    Cloudflare ban). 204 lets the request do its work (e.g. a webhook execute posts its
    message) and then answers 204 without a body, as a server that ignored ``wait=true``.
    """

    status: int = 500
    count: int | None = 1
    pattern: str | None = None
    retry_after: float | None = None  # s, for 429
    via: bool = False  # for 429: send ``Via`` as Discord's API does

    def matches(self, method: str, path: str) -> bool:
        return self.pattern is None or re.search(self.pattern, f"{method} {path}") is not None


@dataclass
class FaultSettings:
    """``delay``: seconds added before every REST answer. ``rules``: error answers, first match wins."""

    delay: float = 0.0
    rules: list[FaultRule] = field(default_factory=list)

    def fail_next(
        self,
        count: int | None = 1,
        status: int = 500,
        pattern: str | None = None,
        *,
        retry_after: float | None = None,
        via: bool = False,
    ) -> FaultRule:
        """Make the next ``count`` matching requests fail with ``status`` (see
        :class:`FaultRule` for 429's ``retry_after`` and ``via``, and for 204)."""
        rule = FaultRule(status, count, pattern, retry_after, via)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.delay = 0.0
        self.rules.clear()

    def take(self, method: str, path: str) -> FaultRule | None:
        """The rule that applies to this request, consuming one of its uses."""
        for rule in self.rules:
            if rule.matches(method, path):
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self.rules.remove(rule)
                return rule
        return None
