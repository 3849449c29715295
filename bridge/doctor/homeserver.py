"""Doctor checks 2, 4 and 5 and the room version: bridge.matrix.checks, one line each.

The checks themselves live in bridge.matrix.checks (the bridge runs them at start-up); here
each HomeserverCheckFailed becomes a ✗ line with its text. Doctor registers the bot only
when the homeserver does not know it yet (conduwuit, continuwuity), as the bridge's first
start would do anyway (FIELD-NOTES, conduwuit).
"""

from __future__ import annotations

from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixRequestError, MUnknownToken

from ..config import Config
from ..matrix.checks import (
    NOT_LOADED,
    HomeserverCheckFailed,
    check_ping,
    check_reachable,
    check_registration,
    choose_room_version,
    register_bot,
)
from .result import CheckResult

REGISTRATION_FIX = (
    "load the registration file (-g wrote it) into the homeserver with the same as_token "
    "and hs_token as the config, then restart the homeserver"
)


async def reachable(intent: IntentAPI, config: Config) -> tuple[CheckResult, bool]:
    """GET /_matrix/client/versions at homeserver.address.

    Returns the line and whether the homeserver answered (a homeserver that rejects the
    as_token answered: the registration line reports that).
    """
    address = config["homeserver.address"]
    try:
        versions = await check_reachable(intent, address)
    except HomeserverCheckFailed as error:
        if str(error) == NOT_LOADED:
            return CheckResult.ok("homeserver", f"{address} answers"), True
        return CheckResult.fail("homeserver", str(error), reachable_fix(error)), False
    newest = versions[-1] if versions else "none"
    return CheckResult.ok("homeserver", f"{address} answers (spec versions up to {newest})"), True


def reachable_fix(error: HomeserverCheckFailed) -> str:
    """The fix for a failed check_reachable, by its cause (bridge.matrix.checks):

    - a Matrix error (errcode): the homeserver refused the bot's user ID, so
      homeserver.domain is not its server name (wrong_domain_text);
    - another HTTP status: what answers at homeserver.address is no Matrix client API;
    - no cause: the TLS probe found plain HTTP behind an https:// address;
    - anything else (connection refused, DNS, timeout): nothing answers there.
    """
    cause = error.__cause__
    if isinstance(cause, MatrixRequestError) and getattr(cause, "errcode", None):
        return (
            'set homeserver.domain to the homeserver\'s server name (the part after ":" in '
            "its user IDs), regenerate the registration with -g and reload it on the homeserver"
        )
    if isinstance(cause, MatrixRequestError):
        return (
            "set homeserver.address to the URL of the homeserver's client API (where "
            "/_matrix/client/versions answers), not another service's"
        )
    if cause is None:
        return "correct the scheme of homeserver.address as the line says"
    return "start the homeserver or correct homeserver.address"


async def registration(intent: IntentAPI) -> CheckResult:
    """whoami as the bot: the homeserver knows appservice.as_token (registration loaded).

    Registers the bot first only when whoami says the homeserver does not know it yet
    (404 M_NOT_FOUND conduwuit, 403 M_FORBIDDEN continuwuity).
    """
    try:
        try:
            await intent.whoami()
        except MUnknownToken:
            raise HomeserverCheckFailed(NOT_LOADED) from None
        except MatrixRequestError as error:
            if error.http_status in (403, 404):
                await register_bot(intent)
        user_id = await check_registration(intent)
    except HomeserverCheckFailed as error:
        return CheckResult.fail("registration", str(error), REGISTRATION_FIX)
    return CheckResult.ok("registration", f"loaded: the as_token is the bot {user_id}")


async def ping(intent: IntentAPI, config: Config, listener_note: str) -> CheckResult:
    """The homeserver pings the bridge at the url of the registration it loaded (written by
    -g from appservice.address, but the ping cannot tell whether it still is)."""
    label = "homeserver → bridge"
    try:
        duration = await check_ping(intent, config["appservice.id"], config["appservice.address"])
    except HomeserverCheckFailed as error:
        return CheckResult.fail(
            label,
            f"{error} ({listener_note})",
            "make the registration's url (appservice.address, written by -g) reach "
            "appservice.hostname:appservice.port from the homeserver's host; regenerate and "
            "reload the registration after changing it",
        )
    if duration is None:
        return CheckResult.skip(label, "the homeserver has no appservice ping (Matrix < 1.7)")
    timing = f" in {duration} ms" if duration >= 0 else ""
    # The homeserver used the url of the registration it loaded, which the ping does not
    # tell: possibly not appservice.address (bridge_address checks that one).
    return CheckResult.ok(
        label,
        f"the homeserver reached the bridge{timing} (through the url of the registration it "
        "loaded; keep appservice.address equal to it: regenerate with -g and reload after "
        f"changing it); {listener_note}",
    )


async def room_version(intent: IntentAPI, config: Config) -> CheckResult:
    """The room version new rooms get: the server's default or bridge.room_version."""
    try:
        configured = str(config["bridge.room_version"] or "")
    except KeyError:
        configured = ""
    try:
        chosen = await choose_room_version(intent, configured)
    except HomeserverCheckFailed as error:
        return CheckResult.fail("room version", str(error), "correct bridge.room_version")
    source = "bridge.room_version" if configured else "the homeserver's default"
    return CheckResult.ok("room version", f"new rooms will be version {chosen} ({source})")
