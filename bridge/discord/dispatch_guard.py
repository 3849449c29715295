"""One odd gateway payload must never end the gateway connection (nor the process).

discord.py 2.7 parses each dispatch (op 0) in ``DiscordWebSocket.received_message``, which
calls ``ConnectionState.parsers[t](d)`` (``parse_message_create`` and so on) with no guard:
an exception there (a message without ``author``, ``attachments`` as a string, role objects
where ids belong) leaves ``received_message``, ends ``Client.connect`` and with it the bridge.

:class:`DispatchGuard` wraps every parser of one client, once, in place (the websocket reads
the same dict). A parser that raises is tried again with repaired copies of the data
(:mod:`.payload_repairs`: a message with malformed attachments still relays its text), unless
it had already dispatched an event (a second try would double it). What still fails is
skipped, and so is what discord.py would read without an error although the bridge cannot use
it (:func:`.payload_repairs.unusable`: a message without an author), before it is parsed. Each failure is logged with its event type and error: at WARNING the first time for
that type, at DEBUG after that, so a server that sends the same odd payload all day does not
fill the log; and counted through :attr:`DispatchGuard.listeners` (the metric
``discord_bridge_gateway_dispatch_errors_total{event}``). The bridge's own event handlers
report through :meth:`DispatchGuard.handler_failed` the same way (discord.py runs them as
tasks, so they never reach the gateway, but their errors are logged and counted alike).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .payload_repairs import GuildOf, repairs_for, unusable

log = logging.getLogger("bridge.discord.gateway")

Parser = Callable[[Any], None]
#: Called with the event's name (a dispatch type such as ``MESSAGE_CREATE``, or a handler
#: such as ``on_message``) each time one fails.
ErrorListener = Callable[[str], None]
#: Dispatches discord.py parses before anything else can run: a failure there is not skipped
#: (the session would be unusable) but still raised, as before.
UNGUARDED = frozenset({"READY", "RESUMED"})


class MalformedPayload(ValueError):
    """A dispatch that discord.py would read although the bridge cannot use it."""


def _no_guild(channel_id: int) -> int | None:
    return None


class DispatchGuard:
    """Guards the parsers of one discord.py client; counts and logs what it skips.

    ``guild_of`` finds a channel's guild (for a message whose ``guild_id`` is unreadable);
    ``dispatched`` counts the events discord.py has dispatched so far (the client increments
    it), so a parser that failed after dispatching is not run again.
    """

    def __init__(self, guild_of: GuildOf = _no_guild) -> None:
        self.guild_of = guild_of
        self.listeners: list[ErrorListener] = []
        self.errors: dict[str, int] = {}  # failures so far, by event name
        self.repaired: dict[str, int] = {}  # dispatches parsed after a repair, by type
        self.dispatched = 0

    def install(self, parsers: dict[str, Parser]) -> None:
        """Wrap every parser in ``parsers`` (``ConnectionState.parsers``) in place; calling
        it again on the same dict wraps nothing twice."""
        for event, parser in list(parsers.items()):
            if event not in UNGUARDED and not getattr(parser, "__dispatch_guarded__", False):
                parsers[event] = self.guarded(event, parser)

    def guarded(self, event: str, parser: Parser) -> Parser:
        """``parser`` for dispatches of type ``event``, never raising."""

        def parse(data: Any) -> None:
            reason = unusable(event, data)
            if reason is not None:
                self._failed(event, MalformedPayload(reason), "skipped")
                return
            before = self.dispatched
            try:
                parser(data)
                return
            except Exception as error:  # noqa: BLE001 - any payload may be malformed
                first_error: Exception = error
            if self.dispatched != before:  # the handlers have it; a second try would double it
                self._failed(event, first_error, "handled in part")
            elif self._parse_repaired(event, parser, data):
                self._failed(event, first_error, "read without its malformed fields")
            else:
                self._failed(event, first_error, "skipped")

        parse.__dispatch_guarded__ = True  # type: ignore[attr-defined]
        parse.__wrapped__ = parser  # type: ignore[attr-defined]
        return parse

    def _parse_repaired(self, event: str, parser: Parser, data: Any) -> bool:
        """Try the repaired copies of ``data``; True once one parsed."""
        try:
            for fixed in repairs_for(event, data, self.guild_of):
                before = self.dispatched
                try:
                    parser(fixed)
                except Exception:  # noqa: BLE001
                    if self.dispatched != before:
                        return True  # it got through to the handlers: nothing more to try
                    continue
                self.repaired[event] = self.repaired.get(event, 0) + 1
                return True
        except Exception:  # noqa: BLE001 - a repair that cannot read the data: skip it
            log.debug("No repair for a malformed %s", event, exc_info=True)
        return False

    def _failed(self, event: str, error: BaseException, outcome: str) -> None:
        count = self.errors[event] = self.errors.get(event, 0) + 1
        level = logging.WARNING if count == 1 else logging.DEBUG
        log.log(
            level,
            "Malformed %s from the Discord gateway (%s: %s): %s%s",
            event,
            type(error).__name__,
            error,
            outcome,
            "; later ones are logged at DEBUG" if count == 1 else "",
            exc_info=error if count == 1 and log.isEnabledFor(logging.DEBUG) else None,
        )
        self._count(event)

    def handler_failed(self, handler: str, error: BaseException | None) -> None:
        """A bridge event handler (``on_message``…) raised: logged with its traceback the
        first time for that handler, at DEBUG after that, and counted."""
        count = self.errors[handler] = self.errors.get(handler, 0) + 1
        if count == 1:
            log.error(
                "The bridge's handler %s failed (later failures are logged at DEBUG)",
                handler,
                exc_info=error,
            )
        else:
            log.debug("The bridge's handler %s failed", handler, exc_info=error)
        self._count(handler)

    def _count(self, event: str) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - counting must not fail the gateway
                log.debug("A dispatch-error listener failed", exc_info=True)
