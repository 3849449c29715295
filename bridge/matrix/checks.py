"""Start-up checks against the homeserver, each failing with what to fix.

The order matters (FIELD-NOTES, conduwuit): the bot is registered before whoami, because
conduwuit answers whoami for a bot not yet registered with 404 M_NOT_FOUND and continuwuity
with 403 M_FORBIDDEN, where Synapse answers for any user of the appservice's namespace.
``check_homeserver`` runs the checks in that order; ``doctor`` calls them one by one.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mautrix.api import Method, Path
from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixConnectionError, MatrixRequestError, MUnknownToken, MUserInUse

from .tls_probe import plain_http_behind_https

log = logging.getLogger("bridge.matrix.checks")


NOT_LOADED = (
    "The homeserver does not know the bridge's as_token: the registration is not loaded. "
    "Add the registration file to app_service_config_files (Synapse) or register it in the "
    "admin room (conduwuit), then restart the homeserver."
)

# Seconds to wait before each new whoami while the homeserver does not know the new bot yet:
# 3.5 s in all. Some homeservers make a registered user visible a moment later.
WHOAMI_BACKOFF = (0.5, 1.0, 2.0)
# Seconds to wait before asking the homeserver to ping the bridge again after a 502:
# 1.5 s in all, where mautrix's own retries would take about a minute (issue #15).
PING_BACKOFF = (0.5, 1.0)
# The room version used when the homeserver does not tell its default (no capabilities):
# every maintained homeserver (Synapse, conduwuit, continuwuity, tuwunel, Dendrite) has it.
FALLBACK_ROOM_VERSION = "10"


class HomeserverCheckFailed(Exception):
    """The homeserver is unreachable, does not know the bridge, or cannot host its rooms."""


async def check_reachable(intent: IntentAPI, address: str) -> list[str]:
    """GET /_matrix/client/versions once (no retries): the spec versions the server supports.

    Raises HomeserverCheckFailed when nothing answers at ``address`` (homeserver.address),
    when what answers is not a Matrix client API, or when it rejects the as_token (Synapse
    checks a token sent even to /versions).
    """
    mismatch = await plain_http_behind_https(address)  # else a 30 s hang on Synapse
    if mismatch:
        raise HomeserverCheckFailed(mismatch)
    try:
        # No retries: an unreachable homeserver is reported now, not after a minute of backoff.
        versions = await intent.api.request(Method.GET, Path.versions, retry_count=0)
    except MUnknownToken as error:
        raise HomeserverCheckFailed(NOT_LOADED) from error
    except (MatrixConnectionError, OSError) as error:
        raise HomeserverCheckFailed(
            f"Cannot reach the homeserver at {address} (homeserver.address): {error}"
        ) from error
    except MatrixRequestError as error:
        if error.errcode:  # a Matrix error: a homeserver, refusing the bot (Synapse: 403)
            raise HomeserverCheckFailed(wrong_domain_text(intent.mxid, address, error)) from error
        raise HomeserverCheckFailed(
            f"{address} (homeserver.address) answered /_matrix/client/versions with "
            f"{error.http_status}: is it a Matrix homeserver's client API?"
        ) from error
    supported = [str(version) for version in versions.get("versions", [])]
    log.debug("Homeserver supports %s", ", ".join(supported))
    return supported


def wrong_domain_text(bot_mxid: str, address: str, error: MatrixRequestError) -> str:
    """The line for a homeserver that refuses the bot's user ID with a Matrix error.

    Synapse checks the ``user_id`` an appservice sends with its token on every request,
    /versions included, and refuses a user on another server ("Application service cannot
    masquerade as this user"): ``homeserver.domain`` is not its server name.
    """
    domain = bot_mxid.split(":", 1)[1]
    return (
        f"The homeserver at {address} (homeserver.address) refused the bridge bot {bot_mxid} "
        f"({error.http_status} {error.errcode}: {(error.message or '').rstrip('.')}): "
        "homeserver.domain is "
        f'"{domain}"; it must be the homeserver\'s server name (the part after ":" in its '
        "user IDs), and the registration must be generated (-g) for that domain."
    )


async def register_bot(intent: IntentAPI) -> None:
    """Register the bridge bot (POST /_matrix/client/v3/register, m.login.application_service).

    Sent on every start, whatever the state store remembers: a homeserver reset since the
    last run would otherwise leave the bot unregistered. "Already registered" (M_USER_IN_USE)
    is success. Spec: application service API, "Client-Server API Extensions" → "User
    registration" (type m.login.application_service). Raises HomeserverCheckFailed:
    NOT_LOADED for an unknown as_token, else
    the homeserver's refusal (e.g. M_EXCLUSIVE: the bot is outside the registration's
    namespace).
    """
    content = {
        "username": intent.localpart,
        "type": "m.login.application_service",
        "inhibit_login": True,
    }
    try:
        await intent.api.request(
            Method.POST, Path.v3.register, content, query_params={"kind": "user"}
        )
    except MUserInUse:
        log.debug("The bot %s was already registered", intent.mxid)
    except MUnknownToken as error:
        raise HomeserverCheckFailed(NOT_LOADED) from error
    except MatrixRequestError as error:
        raise HomeserverCheckFailed(
            f"Registering the bridge bot {intent.mxid} failed ({error.http_status} "
            f"{error.errcode}: {error.message}): appservice.bot.username must lie in the "
            "registration's user namespace; regenerate the registration with -g."
        ) from error
    else:
        log.info("Registered the bridge bot %s", intent.mxid)
    await intent.state_store.registered(intent.mxid)


async def check_registration(intent: IntentAPI) -> str:
    """whoami as the bot (GET /_matrix/client/v3/account/whoami): the user ID the token is for.

    A bot the homeserver does not know yet (conduwuit 404 M_NOT_FOUND, continuwuity 403
    M_FORBIDDEN) is asked again after each delay of WHOAMI_BACKOFF. Raises
    HomeserverCheckFailed: NOT_LOADED for an unknown as_token, a message naming the last
    answer when the bot stays unknown, or the mismatch when the token is another user's.
    """
    error: MatrixRequestError | None = None
    for delay in (0.0, *WHOAMI_BACKOFF):
        if delay:
            await asyncio.sleep(delay)
        try:
            whoami = await intent.whoami()
        except MUnknownToken as unknown:
            raise HomeserverCheckFailed(NOT_LOADED) from unknown
        except MatrixRequestError as failed:
            if failed.http_status not in (403, 404):
                raise HomeserverCheckFailed(
                    f"whoami as the bridge bot failed: {failed}"
                ) from failed
            error = failed
            log.debug("whoami as %s: %s; asking again", intent.mxid, failed)
            continue
        if whoami.user_id != intent.mxid:
            raise HomeserverCheckFailed(
                f"The as_token belongs to {whoami.user_id}, not {intent.mxid}: "
                "appservice.bot.username and the loaded registration disagree; "
                "regenerate it with -g."
            )
        return str(whoami.user_id)
    assert error is not None
    raise HomeserverCheckFailed(
        f"whoami as the bridge bot {intent.mxid} still failed after registering it "
        f"({error.http_status} {error.errcode}: {error.message}): the homeserver does not "
        "accept the bot; check that the loaded registration is the one generated with -g."
    ) from error


async def check_ping(
    intent: IntentAPI, appservice_id: str, bridge_address: str | None = None
) -> int | None:
    """Ask the homeserver to reach the bridge (POST /_matrix/client/v1/appservice/{id}/ping).

    A 502 (it cannot reach us) is asked again only after each delay of PING_BACKOFF, so the
    answer comes within seconds, not after a minute of mautrix's retries. ``bridge_address``
    is appservice.address, the ``url`` the registration gave the homeserver, named in the
    error. Returns the round trip in ms (-1 when the server does not say), or None when the
    homeserver has no ping endpoint (404 / M_UNRECOGNIZED). Spec: client-server API v1.7,
    "Pinging the appservice". Raises HomeserverCheckFailed when the homeserver cannot reach
    the bridge.
    """
    try:
        response = await _ping(intent, appservice_id)
    except MatrixRequestError as error:
        if error.errcode == "M_UNRECOGNIZED" or error.http_status == 404:
            log.warning("The homeserver cannot ping appservices; skipping that check")
            return None
        if "AlreadyCalled" in (error.message or ""):
            # Synapse's own fault (a Twisted timer cancelled twice), not a sign that it cannot
            # reach us: seen on a restart while it still had transactions queued for the bridge.
            log.warning("The homeserver's ping failed inside the homeserver (%s); going on", error)
            return None
        where = f"at {bridge_address} " if bridge_address else ""
        raise HomeserverCheckFailed(
            f"The homeserver cannot reach the bridge {where}(appservice.address, the url of "
            f"the loaded registration): {error.http_status} {error.errcode}: "
            f"{(error.message or '').rstrip('.')}. "
            "Set appservice.address to an address the homeserver can reach, regenerate the "
            "registration with -g and reload it."
        ) from error
    duration = int(response.get("duration_ms") or -1)
    log.info("Homeserver reached the bridge in %d ms", duration)
    return duration


async def _ping(intent: IntentAPI, appservice_id: str) -> dict[str, Any]:
    """The ping, asked again after each delay of PING_BACKOFF while the homeserver says 502.

    Synapse may fail a ping once on a connection left from the bridge's previous run
    (502 M_CONNECTION_FAILED "AlreadyCalled"); mautrix's own retries would take a minute.
    """
    for delay in PING_BACKOFF:
        try:
            return dict(
                await intent.api.request(
                    Method.POST, Path.v1.appservice[appservice_id].ping, content={}, retry_count=0
                )
            )
        except MatrixRequestError as error:
            if error.http_status != 502:
                raise
            log.debug("Ping failed (%s); asking again in %s s", error, delay)
        await asyncio.sleep(delay)
    return dict(
        await intent.api.request(
            Method.POST, Path.v1.appservice[appservice_id].ping, content={}, retry_count=0
        )
    )


def room_version_from_capabilities(capabilities: dict[str, Any] | None, configured: str) -> str:
    """The room version for new rooms, from a /capabilities body and ``bridge.room_version``.

    ``capabilities`` is the response's ``capabilities`` object (None when unavailable);
    ``m.room_versions`` is ``{"default": "10", "available": {"10": "stable", ...}}``
    (spec: client-server API, "m.room_versions capability"). ``configured`` "" means the
    server's default. Without the capability: the configured version, else
    FALLBACK_ROOM_VERSION. Raises HomeserverCheckFailed when the server does not offer the
    configured version.
    """
    room_versions = (capabilities or {}).get("m.room_versions")
    if not isinstance(room_versions, dict):
        chosen = configured or FALLBACK_ROOM_VERSION
        log.warning(
            "The homeserver does not list its room versions; creating rooms as version %s",
            chosen,
        )
        return chosen
    available = room_versions.get("available") or {}
    default = str(room_versions.get("default") or "")
    if not configured:
        if default:
            return default
        log.warning("The homeserver names no default room version; using %s", FALLBACK_ROOM_VERSION)
        return FALLBACK_ROOM_VERSION
    if configured not in available:
        offered = ", ".join(f"{version} ({stability})" for version, stability in available.items())
        raise HomeserverCheckFailed(
            f'bridge.room_version is "{configured}", but the homeserver offers room versions '
            f'{offered or "none"}; set one of them, or "" for its default ({default or "none"}).'
        )
    if available[configured] != "stable":
        log.warning("Room version %s is %s on this homeserver", configured, available[configured])
    return configured


async def choose_room_version(intent: IntentAPI, configured: str) -> str:
    """GET /_matrix/client/v3/capabilities and choose the version of the rooms to create.

    See room_version_from_capabilities for the rule and the errors raised. A homeserver
    that cannot answer /capabilities counts as one without the capability.
    """
    try:
        response = await intent.api.request(Method.GET, Path.v3.capabilities)
    except MatrixRequestError as error:
        log.warning("GET /capabilities failed (%s)", error)
        response = {}
    chosen = room_version_from_capabilities(response.get("capabilities"), configured)
    log.info("Creating rooms as room version %s", chosen)
    return chosen


async def check_homeserver(
    intent: IntentAPI, address: str, appservice_id: str, bridge_address: str | None = None
) -> None:
    """Reachable? Bot registered, then whoami (registration loaded?), then ping (reach us?).

    ``bridge_address`` (appservice.address) is named when the ping fails. Raises
    HomeserverCheckFailed from the first check that fails.
    """
    await check_reachable(intent, address)
    await register_bot(intent)
    await check_registration(intent)
    await check_ping(intent, appservice_id, bridge_address)
