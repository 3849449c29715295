"""Start-up checks against the homeserver, each failing with what to fix."""

from __future__ import annotations

import logging

from mautrix.api import Method, Path
from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixConnectionError, MatrixRequestError, MUnknownToken

log = logging.getLogger("bridge.matrix.checks")


NOT_LOADED = (
    "The homeserver does not know the bridge's as_token: the registration is not loaded. "
    "Add the registration file to app_service_config_files (Synapse) or register it in the "
    "admin room (conduwuit), then restart the homeserver."
)


class HomeserverCheckFailed(Exception):
    """The homeserver is unreachable or does not know the bridge."""


async def check_homeserver(intent: IntentAPI, address: str, appservice_id: str) -> None:
    """Versions (reachable?), whoami as the bot (registration loaded?), ping (can it reach us?)."""
    try:
        # No retries: an unreachable homeserver is reported now, not after a minute of backoff.
        versions = await intent.api.request(Method.GET, Path.versions, retry_count=0)
    except MUnknownToken as error:  # Synapse checks a token sent even to /versions
        raise HomeserverCheckFailed(NOT_LOADED) from error
    except (MatrixConnectionError, OSError) as error:
        raise HomeserverCheckFailed(
            f"Cannot reach the homeserver at {address} (homeserver.address): {error}"
        ) from error
    except MatrixRequestError as error:
        raise HomeserverCheckFailed(
            f"{address} (homeserver.address) answered /_matrix/client/versions with "
            f"{error.http_status}: is it a Matrix homeserver's client API?"
        ) from error
    log.debug("Homeserver supports %s", ", ".join(versions.get("versions", [])))
    try:
        whoami = await intent.whoami()
    except MUnknownToken as error:
        raise HomeserverCheckFailed(NOT_LOADED) from error
    except MatrixRequestError as error:
        raise HomeserverCheckFailed(f"whoami as the bridge bot failed: {error}") from error
    if whoami.user_id != intent.mxid:
        raise HomeserverCheckFailed(
            f"The as_token belongs to {whoami.user_id}, not {intent.mxid}: "
            "appservice.bot.username and the loaded registration disagree; regenerate it with -g."
        )
    try:
        duration = await intent.appservice_ping(appservice_id)
    except MatrixRequestError as error:
        if error.errcode == "M_UNRECOGNIZED" or error.http_status == 404:
            log.warning("The homeserver cannot ping appservices; skipping that check")
            return
        raise HomeserverCheckFailed(
            "The homeserver cannot reach the bridge at the url of its registration "
            f"(appservice.address): {error.message}"
        ) from error
    log.info("Homeserver reached the bridge in %d ms", duration)
