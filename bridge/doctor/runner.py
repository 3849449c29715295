"""Running doctor's checks in order, each prerequisite failure skipping what depends on it.

Order: config; homeserver reachable; registration; delegation; namespaces; room version;
homeserver → bridge (ping); public address; Discord; database; database rooms. Delegation
comes after the registration because it may ask whoami with the as_token, which homeservers
that only know a registered bot (conduwuit) answer 404 until the registration check has
registered it. Any unexpected exception in a check becomes a ✗ line naming it: doctor never
prints a traceback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from pathlib import Path
from typing import TypeVar

import aiohttp
from mautrix.appservice import IntentAPI

from ..config import Config
from . import homeserver
from .bridge_address import address_fix, address_mismatch
from .config_check import check_config
from .database import check_database
from .delegation import check_delegation
from .discord_checks import check_discord
from .double_puppet import LABEL as DOUBLE
from .double_puppet import double_puppeting
from .listener import bridge_listener
from .matrix_client import bot_intent
from .public import check_public_address
from .result import CheckResult, Status
from .start_checks import DATABASE_ROOMS, NAMESPACES, database_rooms, namespaces

T = TypeVar("T", CheckResult, list[CheckResult])


def _crashed(label: str, error: BaseException) -> CheckResult:
    return CheckResult.fail(
        label,
        f"the check failed unexpectedly: {type(error).__name__}: {error}",
        "report this as a bug in the bridge, with this line",
    )


async def guarded(label: str, check: Awaitable[T]) -> T | CheckResult:
    """Await ``check``; an exception becomes a ✗ line for ``label``."""
    try:
        return await check
    except Exception as error:
        return _crashed(label, error)


def _as_list(result: CheckResult | list[CheckResult]) -> list[CheckResult]:
    return result if isinstance(result, list) else [result]


async def run_doctor(
    config_path: Path,
    well_known_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[CheckResult]:
    """Every check's line, in order. ``well_known_url``: where the .well-known files are
    looked up (default ``https://<homeserver.domain>``); ``environ`` as for load_config."""
    try:
        config_result, config = check_config(config_path, environ)
    except Exception as error:
        return [_crashed("config", error)]
    if config is None:
        return [config_result, CheckResult.skip("other checks", "skipped: need a usable config")]
    results = [config_result]
    base = well_known_url or f"https://{config['homeserver.domain']}"
    async with aiohttp.ClientSession() as session:
        try:
            results += await _matrix_checks(session, config, base)
        except Exception as error:
            results.append(_crashed("homeserver", error))
        results += _as_list(await guarded("discord", check_discord(session, config)))
    results.append(_flatten(await guarded("database", check_database(config))))
    results.append(await _database_rooms(config, results))
    return results


async def _database_rooms(config: Config, earlier: list[CheckResult]) -> CheckResult:
    """The "database rooms" line: needs the registration and the database lines passed."""
    passed = {result.label for result in earlier if result.status is Status.OK}
    for needed in ("registration", "database"):
        if needed not in passed:
            return CheckResult.skip(DATABASE_ROOMS, f"skipped: needs the {needed}")
    try:
        async with bot_intent(config) as intent:
            return _flatten(await guarded(DATABASE_ROOMS, database_rooms(intent, config)))
    except Exception as error:
        return _crashed(DATABASE_ROOMS, error)


def _flatten(result: CheckResult | list[CheckResult]) -> CheckResult:
    return result if isinstance(result, CheckResult) else result[0]


async def _matrix_checks(
    session: aiohttp.ClientSession, config: Config, well_known_base: str
) -> list[CheckResult]:
    needs_homeserver = "skipped: needs the homeserver"
    needs_registration = "skipped: needs the registration"
    async with bot_intent(config) as intent:
        try:
            reached, answered = await homeserver.reachable(intent, config)
        except Exception as error:
            reached, answered = _crashed("homeserver", error), False
        results = [reached]
        if not answered:
            results += [
                CheckResult.skip("registration", needs_homeserver),
                CheckResult.skip("delegation", needs_homeserver),
                CheckResult.skip(NAMESPACES, needs_homeserver),
                CheckResult.skip("room version", needs_homeserver),
            ]
        else:
            # Registration first: it registers the bot where the homeserver needs that for
            # whoami, which delegation may ask with the as_token.
            registered = _flatten(await guarded("registration", homeserver.registration(intent)))
            results.append(registered)
            results.append(_flatten(await guarded(DOUBLE, double_puppeting(intent, config))))
            results += _as_list(
                await guarded("delegation", check_delegation(session, config, well_known_base))
            )
            if registered.failed:
                results += [
                    CheckResult.skip(NAMESPACES, needs_registration),
                    CheckResult.skip("room version", needs_registration),
                ]
            else:
                results.append(_flatten(await guarded(NAMESPACES, namespaces(intent, config))))
                results.append(
                    _flatten(await guarded("room version", homeserver.room_version(intent, config)))
                )
        return results + await _listening_checks(session, config, intent, answered, results)


async def _listening_checks(
    session: aiohttp.ClientSession,
    config: Config,
    intent: IntentAPI,
    answered: bool,
    earlier: list[CheckResult],
) -> list[CheckResult]:
    """The "homeserver → bridge" line (appservice.address on this host but another port:
    ✗ whatever the ping says; else the ping, when registered) and the public address, with
    the bridge (or doctor's stand-in) listening on appservice.hostname:appservice.port."""
    registered = answered and not any(
        result.label == "registration" and result.failed for result in earlier
    )
    label = "homeserver → bridge"
    skip = None if registered else _needs(answered)
    results: list[CheckResult] = []
    try:
        async with bridge_listener(config) as note:
            results.append(
                _flatten(
                    await guarded(label, _homeserver_to_bridge(session, config, intent, skip, note))
                )
            )
            results.append(
                _flatten(await guarded("public address", check_public_address(session, config)))
            )
    except OSError as error:
        host, port = config["appservice.hostname"], config["appservice.port"]
        fix = "correct appservice.hostname (an address of this machine) and appservice.port"
        results.append(
            CheckResult.fail(label, f"cannot listen on {host}:{port}: {error}", fix)
            if skip is None
            else CheckResult.skip(label, skip)
        )
        results.append(CheckResult.skip("public address", "skipped: needs the bridge's listener"))
    return results


def _needs(answered: bool) -> str:
    """Why the ping was not asked: the homeserver did not answer, or the registration failed."""
    return "skipped: needs the " + ("registration" if answered else "homeserver")


async def _homeserver_to_bridge(
    session: aiohttp.ClientSession,
    config: Config,
    intent: IntentAPI,
    skip: str | None,
    listener_note: str,
) -> CheckResult:
    """✗ for an appservice.address that cannot lead to the listener, whatever the ping says
    (bridge_address); else the ping, or the ``skip`` line (why the ping cannot be asked)."""
    label = "homeserver → bridge"
    mismatch = await address_mismatch(session, config)
    if mismatch is not None:
        return CheckResult.fail(label, mismatch, address_fix(config))
    if skip is not None:
        return CheckResult.skip(label, skip)
    return await homeserver.ping(intent, config, listener_note)
