"""Does the loaded registration reserve the users and aliases the config makes? Asked first.

A registration generated for another ``homeserver.domain`` (or before a template changed)
lets the bot in, but every ghost and every room alias outside its namespaces is refused,
so the bridge would create a space, fail on the first aliased room ("This application
service has not reserved this kind of alias") and leave the space behind. Two cheap probes
tell before anything is created:

- users: ``GET /_matrix/client/v3/register/available?username=`` without a token. Synapse,
  and conduwuit-family servers since they check it, answer ``M_EXCLUSIVE`` for a localpart
  in an appservice's exclusive namespace, and ``available`` for one no appservice reserves.
  The bot's own localpart is asked first, as a control: the homeserver must answer
  ``M_EXCLUSIVE`` for it (Synapse counts ``sender_localpart`` as exclusive). A server that
  answers anything else (registration disabled, older conduwuit) is asked instead whether
  the as_token may act as a ghost (``whoami?user_id=``, :func:`user_masquerade_allowed`).
- aliases: ``DELETE /_matrix/client/v3/directory/room/{alias}`` as the bot, for an alias
  that does not exist (no Discord ID is 1). Synapse and conduwuit check the appservice's
  alias namespace first and answer ``M_EXCLUSIVE``; inside it there is nothing to delete.

Spec: application service API, "Registration" (namespaces, ``exclusive``); client-server
API, "GET /register/available" and "DELETE /directory/room/{roomAlias}".
"""

from __future__ import annotations

import logging

from mautrix.api import HTTPAPI, Method, Path
from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixRequestError, MNotFound
from mautrix.types import UserID

from .checks import HomeserverCheckFailed

log = logging.getLogger("bridge.matrix.namespaces")

# The Discord ID used in the probes: a snowflake no Discord object has (IDs start at 2015).
PROBE_ID = "1"
REGENERATE = (
    "bridge.username_template, bridge.alias_template and homeserver.domain must match the "
    "registration the homeserver loaded: regenerate the registration with -g and reload it "
    "on the homeserver"
)


class NamespaceMismatch(HomeserverCheckFailed):
    """The loaded registration does not reserve the ghosts or aliases the config makes."""


async def user_localpart_reserved(intent: IntentAPI, localpart: str) -> bool | None:
    """Whether ``localpart`` lies in an appservice's exclusive user namespace.

    ``GET /_matrix/client/v3/register/available?username=localpart`` without a token: True
    for ``M_EXCLUSIVE``, False for ``{"available": true}``, None for any other answer (taken,
    registration disabled, not supported: the probe tells nothing).
    """
    anyone = HTTPAPI(intent.api.base_url, client_session=intent.api.session)  # no token
    try:
        answer = await anyone.request(
            Method.GET,
            Path.v3.register.available,
            query_params={"username": localpart},
            retry_count=0,
        )
    except MatrixRequestError as error:
        if error.errcode == "M_EXCLUSIVE":
            return True
        log.debug("register/available?username=%s: %s", localpart, error)
        return None
    return False if answer.get("available") is True else None


async def user_masquerade_allowed(intent: IntentAPI, user_id: str) -> bool:
    """Whether the bot's as_token may act as ``user_id`` (in the registration's namespace).

    ``GET /_matrix/client/v3/account/whoami?user_id=`` with the as_token: False for
    ``M_EXCLUSIVE`` (conduwuit family: "not in namespace") or Synapse's "cannot masquerade"
    (403; Synapse's ``validate_appservice_can_control_user_id``); True for any other answer
    about the user (Synapse's "has not registered this user", 404 unknown user, 200).
    """
    as_ghost = HTTPAPI(
        intent.api.base_url,
        intent.api.token,
        client_session=intent.api.session,
        as_user_id=UserID(user_id),
    )
    try:
        await as_ghost.request(Method.GET, Path.v3.account.whoami, retry_count=0)
    except MatrixRequestError as error:
        if error.errcode == "M_EXCLUSIVE" or "cannot masquerade" in (error.message or ""):
            return False
        log.debug("whoami as %s: %s (inside the namespace)", user_id, error)
    return True


async def alias_reserved(intent: IntentAPI, alias: str) -> bool | None:
    """Whether the bridge's own registration reserves the room alias ``alias``.

    ``alias`` must not exist (``GET /directory/room/{alias}`` is asked first: None if it
    does). Then ``DELETE /_matrix/client/v3/directory/room/{alias}`` as the bot: an
    appservice may delete only aliases in its namespace, and the homeserver checks that
    first: False for ``M_EXCLUSIVE`` ("has not reserved this kind of alias"), True for any
    other answer (Synapse: 200, nothing to delete; conduwuit: 404), None for 405 / 404
    ``M_UNRECOGNIZED`` (not supported). (A ``PUT`` is checked against the room first by
    Synapse, and would make an alias.)
    """
    path = Path.v3.directory.room[alias]
    try:
        await intent.api.request(Method.GET, path, retry_count=0)
    except MNotFound:
        pass
    except MatrixRequestError as error:
        log.debug("Alias probe %s: GET said %s", alias, error)
        return None
    else:
        return None  # it exists: not deleted, whatever the namespace
    try:
        await intent.api.request(Method.DELETE, path, retry_count=0)
    except MatrixRequestError as error:
        if error.errcode == "M_EXCLUSIVE":
            return False
        if error.http_status == 405 or error.errcode == "M_UNRECOGNIZED":
            return None
        log.debug("Alias probe %s: %s (inside the namespace)", alias, error)
    return True


async def check_namespaces(
    intent: IntentAPI, username_template: str, alias_template: str, domain: str
) -> None:
    """Stop before creating anything when the registration does not reserve our namespaces.

    ``username_template`` / ``alias_template`` are ``bridge.username_template`` /
    ``bridge.alias_template`` (``{id}`` is the Discord ID); ``domain`` is
    ``homeserver.domain``. Raises NamespaceMismatch naming the keys and the fix. A probe the
    homeserver does not support only logs a warning.
    """
    ghost = username_template.format(id=PROBE_ID)
    if await user_localpart_reserved(intent, intent.localpart):  # the probe works here
        users_reserved = await user_localpart_reserved(intent, ghost) is not False
    else:  # e.g. registration disabled: ask whether the bot may act as the ghost
        users_reserved = await user_masquerade_allowed(intent, f"@{ghost}:{domain}")
    if not users_reserved:
        raise NamespaceMismatch(
            f"The homeserver's registration for this bridge does not reserve the Discord "
            f"users' Matrix IDs (like @{ghost}:{domain}): {REGENERATE}."
        )
    alias = f"#{alias_template.format(id=PROBE_ID)}:{domain}"
    reserved = await alias_reserved(intent, alias)
    if reserved is None:
        log.warning(
            "The homeserver does not tell which room aliases the bridge may create; not "
            "checking bridge.alias_template against the registration"
        )
    elif not reserved:
        raise NamespaceMismatch(
            f"The homeserver's registration for this bridge has not reserved room aliases "
            f"like {alias}: {REGENERATE}."
        )
