"""doctor against a real Synapse, the Discord emulator and a mock well-known server: the
good setup is all ✓, and each broken one gives its ✗ line (and exit status 1)."""

from __future__ import annotations

import json

import pytest

from bridge.doctor.render import exit_status
from bridge.sandbox.homeserver import free_port
from tests.doctor.conftest import Setup, WebServer, line
from tests.fixtures.discord import SandboxGuild

pytestmark = pytest.mark.slow


async def test_good_setup_passes_every_check(good_setup: Setup) -> None:
    results, report = await good_setup.run()
    assert exit_status(results) == 0, report
    assert line(report, "config").startswith("✓")
    assert line(report, "homeserver").startswith("✓ homeserver: http://127.0.0.1:")
    assert "serves sandbox.local" in line(report, "delegation (client)")
    assert "serves sandbox.local" in line(report, "delegation (server)")
    assert "@discordbot:sandbox.local" in line(report, "registration")
    assert line(report, "room version").startswith("✓ room version: new rooms will be version")
    ping = line(report, "homeserver → bridge")
    assert ping.startswith("✓ homeserver → bridge: the homeserver reached the bridge")
    assert "through the url of the registration it loaded; keep appservice.address" in ping
    assert "doctor answered" in ping
    assert line(report, "public address").startswith("✓")
    assert line(report, "discord token").startswith("✓")
    assert line(report, "discord intents").startswith("✓")
    assert "every permission it needs" in line(report, "discord guild")
    assert "first start creates and migrates it" in line(report, "database")
    assert report.endswith("All checks passed.")


async def test_homeserver_down_skips_what_needs_it(good_setup: Setup) -> None:
    results, report = await good_setup.run(**{"homeserver.address": "http://127.0.0.1:9"})
    assert exit_status(results) == 1
    assert line(report, "homeserver").startswith(
        "✗ homeserver: Cannot reach the homeserver at http://127.0.0.1:9 (homeserver.address)"
    )
    assert line(report, "registration") == "– registration: skipped: needs the homeserver"
    assert line(report, "delegation") == "– delegation: skipped: needs the homeserver"


async def test_well_known_missing(good_setup: Setup) -> None:
    good_setup.well_known.routes.clear()
    results, report = await good_setup.run()
    assert exit_status(results) == 1
    client = line(report, "delegation (client)")
    assert client.startswith("✗")
    assert "/.well-known/matrix/client answered 404" in client
    assert '"m.homeserver": {"base_url"' in client and "Access-Control-Allow-Origin: *" in client
    assert line(report, "delegation (server)").startswith("✗")


async def test_well_known_invalid_json(good_setup: Setup) -> None:
    good_setup.well_known.routes["/.well-known/matrix/client"] = (200, "{base_url: oops", {})
    results, report = await good_setup.run()
    assert exit_status(results) == 1
    assert "/.well-known/matrix/client is not valid JSON" in line(report, "delegation (client)")


async def test_well_known_points_at_another_server(
    good_setup: Setup, web_server: WebServer
) -> None:
    # The well-known host also poses as another homeserver: /versions, and it is other.org.
    web_server.routes["/_matrix/client/versions"] = (200, '{"versions": ["v1.11"]}', {})
    web_server.routes["/_matrix/key/v2/server"] = (200, '{"server_name": "other.org"}', {})
    web_server.routes["/.well-known/matrix/client"] = (
        200,
        json.dumps({"m.homeserver": {"base_url": web_server.url}}),
        {"Access-Control-Allow-Origin": "*"},
    )
    results, report = await good_setup.run()
    assert exit_status(results) == 1
    client = line(report, "delegation (client)")
    assert f"names {web_server.url}, which serves another server (other.org)" in client
    assert "but homeserver.address" in client and "serves sandbox.local" in client


async def test_well_known_without_cors(good_setup: Setup) -> None:
    status, text, _ = good_setup.well_known.routes["/.well-known/matrix/client"]
    good_setup.well_known.routes["/.well-known/matrix/client"] = (status, text, {})
    results, report = await good_setup.run()
    assert exit_status(results) == 1
    assert "lacks the header `Access-Control-Allow-Origin: *`" in line(
        report, "delegation (client)"
    )


async def test_registration_not_loaded(good_setup: Setup) -> None:
    results, report = await good_setup.run(**{"appservice.as_token": "not-the-loaded-token"})
    assert exit_status(results) == 1
    assert line(report, "registration").startswith(
        "✗ registration: The homeserver does not know the bridge's as_token"
    )
    assert line(report, "homeserver → bridge") == (
        "– homeserver → bridge: skipped: needs the registration"
    )


async def test_homeserver_cannot_reach_the_bridge(good_setup: Setup) -> None:
    # The config moved the bridge (address and port agree), the loaded registration did not.
    port = free_port()
    results, report = await good_setup.run(
        **{
            "appservice.port": port,
            "appservice.address": f"http://127.0.0.1:{port}",
            "bridge.public_address": f"http://127.0.0.1:{port}",
        }
    )
    assert exit_status(results) == 1
    ping = line(report, "homeserver → bridge")
    assert ping.startswith("✗ homeserver → bridge: The homeserver cannot reach the bridge")
    assert "appservice.address" in ping
    assert line(report, "public address").startswith("✓")


async def test_appservice_address_on_another_port_fails_whatever_the_ping(
    good_setup: Setup, appservice_port: int
) -> None:
    # The loaded registration still has the right url, so the ping alone would pass.
    other = free_port()
    results, report = await good_setup.run(**{"appservice.address": f"http://127.0.0.1:{other}"})
    assert exit_status(results) == 1
    assert line(report, "homeserver → bridge") == (
        f"✗ homeserver → bridge: appservice.address http://127.0.0.1:{other} points at port "
        f"{other} but the bridge listens on appservice.port {appservice_port} (and nothing at "
        f"http://127.0.0.1:{other} passes the appservice ping on to it): a registration with "
        "this url (the next -g writes it) cannot reach the bridge — fix: set "
        f"appservice.address to the bridge's port {appservice_port} (or make appservice.port "
        "the port appservice.address names), then regenerate the registration with -g and "
        "reload it on the homeserver"
    )


async def test_wrong_domain_gets_the_domain_fix(good_setup: Setup) -> None:
    results, report = await good_setup.run(**{"homeserver.domain": "wrong.example"})
    assert exit_status(results) == 1
    refused = line(report, "homeserver")
    assert refused.startswith("✗ homeserver: ") and "@discordbot:wrong.example" in refused
    assert refused.endswith(
        '— fix: set homeserver.domain to the homeserver\'s server name (the part after ":" '
        "in its user IDs), regenerate the registration with -g and reload it on the homeserver"
    )


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [(404, "Not found", "answered 404, not the bridge"), (200, '{"hello": 1}', "not this bridge")],
)
async def test_public_address_not_proxied(
    good_setup: Setup, web_server: WebServer, status: int, body: str, expected: str
) -> None:
    web_server.routes["/_discord_bridge/ping"] = (status, body, {})
    results, report = await good_setup.run(**{"bridge.public_address": web_server.url})
    assert exit_status(results) == 1
    public = line(report, "public address")
    assert public.startswith("✗") and expected in public
    assert "pass " + web_server.url + "/_discord_bridge/" in public


async def test_public_address_not_set(good_setup: Setup) -> None:
    results, report = await good_setup.run(**{"bridge.public_address": '""'})
    assert exit_status(results) == 0, report
    assert line(report, "public address") == (
        "– public address: not set: avatars on Discord and large-file links are off"
    )


async def test_bad_discord_token(good_setup: Setup) -> None:
    results, report = await good_setup.run(**{"discord.bot_token": "wrong.token.here"})
    assert exit_status(results) == 1
    token = line(report, "discord token")
    assert token.startswith("✗ discord token: GET ") and "answered 401" in token
    assert "Reset Token" in token
    assert line(report, "discord intents") == "– discord intents: skipped: needs the bot token"


async def test_intents_off(good_setup: Setup, sandbox_guild: SandboxGuild) -> None:
    from bridge.sandbox.discord.events import Intents

    store = sandbox_guild.emulator.store
    bot, _application, token = store.create_bot("No Intents", privileged_intents=Intents(0))
    store.add_member(sandbox_guild.guild.id, bot.id)
    results, report = await good_setup.run(**{"discord.bot_token": token})
    assert exit_status(results) == 1
    assert line(report, "discord intents").startswith(
        "✗ discord intents: privileged intents off: SERVER MEMBERS INTENT, MESSAGE CONTENT INTENT"
    )


async def test_guild_missing_names_the_bots_guilds(
    good_setup: Setup, sandbox_guild: SandboxGuild
) -> None:
    results, report = await good_setup.run(**{"bridge.guilds": "[123456789012345678]"})
    assert exit_status(results) == 1
    missing = line(report, "discord guild 123456789012345678")
    assert "the bot is not in this guild; it is in: " in missing
    assert f"Sandbox Guild ({sandbox_guild.guild.id})" in missing


async def test_missing_permission_is_named(good_setup: Setup, sandbox_guild: SandboxGuild) -> None:
    import discord

    store = sandbox_guild.emulator.store
    bot, _application, token = store.create_bot("Limited Bot")
    everything = discord.Permissions(2252109588720704)
    everything.manage_webhooks = False
    store.add_member(sandbox_guild.guild.id, bot.id, bot_permissions=everything.value)
    results, report = await good_setup.run(**{"discord.bot_token": token})
    assert exit_status(results) == 1
    guild = line(report, f"discord guild {sandbox_guild.guild.id}")
    assert guild.startswith("✗") and "lacks the permissions manage_webhooks —" in guild


async def test_database_unreachable(good_setup: Setup) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://bridge:secret@127.0.0.1:{port}/bridge"
    results, report = await good_setup.run(**{"appservice.database.url": url})
    assert exit_status(results) == 1
    database = line(report, "database")
    assert database.startswith("✗ database: cannot connect to the database")
    assert "appservice.database.url" in database


async def test_database_migrated_and_not_migrated(good_setup: Setup, tmp_path) -> None:
    from bridge.db.migrate import code_head, upgrade_database
    from bridge.db.url import resolve_database_url

    url = resolve_database_url(f"sqlite:{tmp_path / 'old.db'}", tmp_path)
    # An empty SQLite file: reachable, not migrated (the bridge migrates it when it starts).
    (tmp_path / "old.db").touch()
    results, report = await good_setup.run(
        **{"appservice.database.url": f"sqlite:{tmp_path / 'old.db'}"}
    )
    assert line(report, "database").startswith("✓ database: reachable, not migrated yet (empty →")
    await upgrade_database(url)
    results, report = await good_setup.run(
        **{"appservice.database.url": f"sqlite:{tmp_path / 'old.db'}"}
    )
    assert line(report, "database") == (
        f"✓ database: reachable and migrated (schema {code_head(url)})"
    )
