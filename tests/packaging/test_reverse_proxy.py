"""The reverse-proxy snippets pass on exactly the bridge's public routes (under
``bridge.public_address``) and nothing else. The slow test reads the routes off a running
bridge, so a new public route that the snippets do not proxy fails here."""

from __future__ import annotations

import re

import pytest
from ruamel.yaml import YAML

from bridge.app import Bridge
from bridge.web import avatars, files, migration_page, probe
from tests.fixtures.inprocess import MakeConfig
from tests.packaging.files import REPO

CADDYFILE = REPO / "contrib" / "caddy" / "Caddyfile"
NGINX = REPO / "contrib" / "nginx" / "discord-bridge.conf"
# Routes for the homeserver (and mautrix's legacy unprefixed forms of them), the health
# probes and the provisioning API: never proxied by the snippets.
PRIVATE = (
    "/_matrix/app/",
    "/_matrix/mau/",
    "/_matrix/provision/",
    "/transactions/",
    "/rooms/",
    "/users/",
)
PORT = YAML(typ="safe").load((REPO / "bridge" / "example-config.yaml").read_text())["appservice"][
    "port"
]


def _uncommented(text: str) -> str:
    return "\n".join(line.split("#")[0] for line in text.splitlines())


def caddy_public_paths() -> list[str]:
    """The path patterns of the Caddyfile's proxied matcher, in order."""
    text = _uncommented(CADDYFILE.read_text())
    (matcher,) = re.findall(r"^\s*@discord_bridge path (.+)$", text, flags=re.M)
    proxied = re.findall(r"handle (\S+) \{\s*reverse_proxy (\S+)\s*\}", text)
    assert proxied == [("@discord_bridge", f"127.0.0.1:{PORT}")]
    assert re.search(r"handle \{\s*respond 404\s*\}", text), "everything else must answer 404"
    return matcher.split()


def caddy_matches(pattern: str, path: str) -> bool:
    """Caddy's path matcher: a trailing * is a prefix match, otherwise the exact path."""
    return path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern


def nginx_locations() -> dict[str, str]:
    """``{location: what it does}``: ``proxy`` for proxy_pass to the bridge, else the body."""
    text = _uncommented(NGINX.read_text())
    locations = {}
    for where, body in re.findall(r"location ([^{]+?)\s*\{([^}]*)\}", text):
        proxied = f"proxy_pass http://127.0.0.1:{PORT};" in body
        locations[where] = "proxy" if proxied else " ".join(body.split())
    return locations


def nginx_matches(location: str, path: str) -> bool:
    """nginx's ``location = /exact`` and ``location /prefix`` (no regex locations here)."""
    if location.startswith("= "):
        return path == location[2:]
    return path.startswith(location)


def test_the_caddyfile_proxies_the_bridges_public_prefixes() -> None:
    assert caddy_public_paths() == [
        f"{avatars.PREFIX}/*",
        f"{files.PREFIX}/*",
        probe.PATH,
        f"{migration_page.PREFIX}/*",
    ]


def test_the_nginx_snippet_proxies_the_same_paths_and_refuses_the_rest() -> None:
    assert nginx_locations() == {
        f"{avatars.PREFIX}/": "proxy",
        f"{files.PREFIX}/": "proxy",
        f"= {probe.PATH}": "proxy",
        f"{migration_page.PREFIX}/": "proxy",
        "/": "return 404;",
    }


@pytest.mark.slow
async def test_every_route_of_a_running_bridge_is_proxied_or_private(
    make_bridge_config: MakeConfig,
) -> None:
    # Every optional route on: the provisioning API and the large-file links.
    bridge = Bridge(
        make_bridge_config(
            {
                "bridge.provisioning.shared_secret": "s3cret-" * 6,
                "bridge.messages.link_large_files": True,
            }
        )
    )
    try:
        await bridge.start()
        assert bridge.appservice is not None
        routes = {
            route.resource.canonical
            for route in bridge.appservice.app.router.routes()
            if route.resource is not None
        }
    finally:
        await bridge.stop()
    patterns = caddy_public_paths()
    locations = [where for where, action in nginx_locations().items() if action == "proxy"]
    public = {path for path in routes if any(caddy_matches(p, path) for p in patterns)}
    assert public == {path for path in routes if path.startswith("/_discord_bridge/")}
    assert public == {path for path in routes if any(nginx_matches(w, path) for w in locations)}
    unclassified = sorted(path for path in routes - public if not path.startswith(PRIVATE))
    assert unclassified == [], "new routes: proxy them in contrib/ or list them as private"
    # Every proxied pattern serves something (nothing stale in the snippets).
    assert all(any(caddy_matches(p, path) for path in routes) for p in patterns)
    assert {prefix for prefix in PRIVATE if any(path.startswith(prefix) for path in routes)} == set(
        PRIVATE
    )
