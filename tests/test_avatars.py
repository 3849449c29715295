"""Matrix avatars served to Discord: signed URLs, and the route on the appservice's server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from bridge.app import Bridge
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.matrix_client import MatrixTestClient
from bridge.web.avatars import AvatarProxy, avatar_secret, sign, split_mxc
from tests.fixtures.inprocess import MakeConfig

SECRET = b"s" * 32
MXC = "mxc://sandbox.local/AbCdEf123_-"


# ---- URLs and signatures (no servers) -------------------------------------------------------


def proxy(public_address: str = "https://bridge.example.org/") -> AvatarProxy:
    return AvatarProxy(public_address, SECRET, lambda: None, 1024)  # type: ignore[arg-type,return-value]


def test_url_for_signs_the_mxc() -> None:
    url = proxy().url_for(MXC)
    signature = sign(SECRET, MXC)
    assert len(signature) == 32 and all(c in "0123456789abcdef" for c in signature)
    assert url == (
        f"https://bridge.example.org/_discord_bridge/avatar/{signature}/sandbox.local/AbCdEf123_-"
    )


def test_signatures_differ_per_mxc_and_secret() -> None:
    other = "mxc://sandbox.local/Other"
    assert sign(SECRET, MXC) != sign(SECRET, other)
    assert sign(SECRET, MXC) != sign(b"t" * 32, MXC)


@pytest.mark.parametrize(
    "mxc",
    [None, "", "https://example.org/a.png", "mxc://server", "mxc://server/a/b", "mxc://s/a?x=1"],
)
def test_no_url_without_a_well_formed_mxc(mxc: str | None) -> None:
    assert proxy().url_for(mxc) is None


def test_no_url_without_a_public_address() -> None:
    assert proxy("").url_for(MXC) is None


def test_split_mxc() -> None:
    assert split_mxc("mxc://example.org:8448/abc") == ("example.org:8448", "abc")
    assert split_mxc("mxc://example.org/../x") is None


def test_the_secret_is_stable_and_depends_on_the_hs_token() -> None:
    a = avatar_secret({"appservice.hs_token": "one"})
    assert a == avatar_secret({"appservice.hs_token": "one"})
    assert a != avatar_secret({"appservice.hs_token": "two"})
    assert b"one" not in a


# ---- Served by the running bridge -----------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def public_bridge(
    make_bridge_config: MakeConfig, appservice_port: int
) -> AsyncIterator[Bridge]:
    """The bridge, with its public address being its own appservice server."""
    config = make_bridge_config({"bridge.public_address": f"http://127.0.0.1:{appservice_port}"})
    bridge = Bridge(config)
    try:
        await bridge.start()
        yield bridge
    finally:
        await bridge.stop()


@pytest.mark.slow
async def test_an_avatar_is_served_with_its_bytes_and_type(
    public_bridge: Bridge, matrix_user: MatrixTestClient
) -> None:
    avatars = public_bridge.avatars
    assert avatars is not None
    picture = solid_png(10, 200, 30, size=16)
    mxc = str(await matrix_user.api.upload_media(picture, mime_type="image/png"))
    url = avatars.url_for(mxc)
    assert url is not None
    async with aiohttp.ClientSession() as http:
        for _ in range(2):  # the second answer comes from the cache
            async with http.get(url) as response:
                assert response.status == 200
                assert response.content_type == "image/png"
                assert "max-age" in response.headers["Cache-Control"]
                assert await response.read() == picture

        signature, rest = url.rsplit("/_discord_bridge/avatar/", 1)[1].split("/", 1)
        base = url.split("/_discord_bridge/avatar/")[0] + "/_discord_bridge/avatar"
        wrong = ("0" if signature[0] != "0" else "1") + signature[1:]
        async with http.get(f"{base}/{wrong}/{rest}") as response:
            assert response.status == 404
        # Another file of the server with this file's (valid-looking) signature.
        server = rest.split("/")[0]
        async with http.get(f"{base}/{signature}/{server}/SomeOtherMedia") as response:
            assert response.status == 404


@pytest.mark.slow
async def test_files_that_are_not_images_or_too_big_are_refused(
    public_bridge: Bridge, matrix_user: MatrixTestClient
) -> None:
    avatars = public_bridge.avatars
    assert avatars is not None
    html = str(await matrix_user.api.upload_media(b"<script>1</script>", mime_type="text/html"))
    big = str(await matrix_user.api.upload_media(b"\x89PNG" + b"0" * 4096, mime_type="image/png"))
    avatars.max_size = 1024
    async with aiohttp.ClientSession() as http:
        for mxc in (html, big):
            url = avatars.url_for(mxc)
            assert url is not None
            async with http.get(url) as response:
                assert response.status == 502, mxc
        missing = avatars.url_for("mxc://sandbox.local/NoSuchMedia")
        assert missing is not None
        async with http.get(missing) as response:
            assert response.status == 404


@pytest.mark.slow
async def test_without_public_address_there_are_no_urls(running_bridge: Bridge) -> None:
    assert running_bridge.avatars is not None
    assert running_bridge.avatars.url_for("mxc://sandbox.local/abc") is None
