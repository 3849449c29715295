"""doctor's checks that need no homeserver: the --well-known-url option, a config problem
from an environment variable, an undelegated private domain, appservice.address on this host
but another port, and the fix each kind of unreachable homeserver gets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from mautrix.errors import MatrixConnectionError, MatrixUnknownRequestError, MForbidden

from bridge.doctor.bridge_address import address_mismatch
from bridge.doctor.config_check import check_config
from bridge.doctor.delegation import check_delegation
from bridge.doctor.homeserver import reachable_fix
from bridge.doctor.render import render
from bridge.matrix.checks import HomeserverCheckFailed
from bridge.sandbox.homeserver import free_port


def test_well_known_url_without_scheme_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "-c", str(tmp_path / "c.yaml"), "doctor"]
        + ["--well-known-url", "127.0.0.1:18080"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--well-known-url: '127.0.0.1:18080' is not an http:// or https:// URL" in done.stderr
    assert done.stdout == "" and "None" not in done.stderr
    assert not (tmp_path / "c.yaml").exists()


VALID = {
    "DISCORD_BRIDGE__HOMESERVER__ADDRESS": "http://127.0.0.1:8008",
    "DISCORD_BRIDGE__HOMESERVER__DOMAIN": "example.com",
    "DISCORD_BRIDGE__APPSERVICE__AS_TOKEN": "as-token-0123456789abcdef",
    "DISCORD_BRIDGE__APPSERVICE__HS_TOKEN": "hs-token-0123456789abcdef",
    "DISCORD_BRIDGE__DISCORD__BOT_TOKEN": "MTIz.abc.def",
}


def _example(tmp_path: Path) -> Path:
    from bridge.config import write_example

    path = tmp_path / "config.yaml"
    write_example(path)
    return path


def test_bad_environment_variable_is_named_in_the_fix(tmp_path: Path) -> None:
    path = _example(tmp_path)
    assert check_config(path, VALID)[1] is not None  # the baseline is valid
    result, config = check_config(path, {**VALID, "DISCORD_BRIDGE__APPSERVICE__PORT": "abc"})
    assert config is None
    assert "DISCORD_BRIDGE__APPSERVICE__PORT=abc" in result.detail
    assert result.fix.startswith(
        "correct or unset the environment variable DISCORD_BRIDGE__APPSERVICE__PORT "
    )
    assert "correct those keys" not in result.fix


def test_file_and_environment_problems_name_both(tmp_path: Path) -> None:
    path = _example(tmp_path)
    path.write_text(path.read_text().replace("port: 29334", "port: 70000"))
    environ = {**VALID, "DISCORD_BRIDGE__APPSERVICE__HOSTNAME": "[1, 2]"}
    result, _ = check_config(path, environ)
    assert "DISCORD_BRIDGE__APPSERVICE__HOSTNAME" in result.fix
    assert f"correct those keys in {path}" in result.fix


async def test_undelegated_private_domain_is_skipped_not_failed() -> None:
    config = {
        "homeserver.domain": "doctor-test.invalid",  # RFC 6761: never resolves
        "homeserver.address": "http://127.0.0.1:9",
        "appservice.as_token": "as-token",
    }
    async with aiohttp.ClientSession() as session:
        results = await check_delegation(session, config, "https://doctor-test.invalid")  # type: ignore[arg-type]
    assert [result.label for result in results] == ["delegation (client)", "delegation (server)"]
    assert not any(result.failed for result in results)
    assert render(results).splitlines()[0] == (
        "– delegation (client): doctor-test.invalid does not resolve: skipped (fine for a "
        "homeserver without federation or public clients; otherwise publish the domain), or "
        "check a file elsewhere with --well-known-url"
    )


async def test_resolving_domain_that_serves_nothing_stays_failed() -> None:
    config = {
        "homeserver.domain": "localhost",
        "homeserver.address": "http://127.0.0.1:9",
        "appservice.as_token": "as-token",
    }
    port = free_port()  # nothing listens there
    async with aiohttp.ClientSession() as session:
        results = await check_delegation(session, config, f"http://localhost:{port}")  # type: ignore[arg-type]
    assert all(result.failed for result in results), render(results)
    assert "does not resolve" not in render(results)


@pytest.mark.parametrize(
    ("address", "hostname", "mismatch"),
    [
        ("http://127.0.0.1:{other}", "127.0.0.1", True),
        ("http://localhost:{other}", "0.0.0.0", True),
        ("http://[::1]:{other}", "::", True),
        ("http://bridge.lan:{other}", "bridge.lan", True),
        ("http://127.0.0.1", "127.0.0.1", True),  # port 80
        ("http://127.0.0.1:{port}", "127.0.0.1", False),
        ("http://bridge-host:{other}", "0.0.0.0", False),  # another host: maybe a proxy
    ],
)
async def test_appservice_address_on_another_local_port(
    address: str, hostname: str, mismatch: bool
) -> None:
    port, other = free_port(), free_port()
    config = {
        "appservice.address": address.format(port=port, other=other),
        "appservice.hostname": hostname,
        "appservice.port": port,
        "appservice.hs_token": "hs-token",
    }
    async with aiohttp.ClientSession() as session:
        problem = await address_mismatch(session, config)  # type: ignore[arg-type]
    if not mismatch:
        assert problem is None
        return
    assert problem is not None
    shown = config["appservice.address"]
    assert problem.startswith(f"appservice.address {shown} points at port ")
    assert f"but the bridge listens on appservice.port {port}" in problem


def _failed(cause: BaseException | None) -> HomeserverCheckFailed:
    error = HomeserverCheckFailed("text")
    error.__cause__ = cause
    return error


def test_each_unreachable_homeserver_kind_gets_its_fix() -> None:
    refused = MForbidden(403, "Application service cannot masquerade as this user")
    wrong_domain = reachable_fix(_failed(refused))
    assert wrong_domain.startswith("set homeserver.domain to the homeserver's server name")
    assert "regenerate the registration with -g" in wrong_domain
    assert "homeserver.address" not in wrong_domain
    not_matrix = reachable_fix(_failed(MatrixUnknownRequestError(404, "Not found")))
    assert not_matrix.startswith("set homeserver.address to the URL of the homeserver's client")
    down = reachable_fix(_failed(MatrixConnectionError("refused")))
    assert down == "start the homeserver or correct homeserver.address"
    assert "scheme of homeserver.address" in reachable_fix(_failed(None))
