"""Signed links to Matrix files too large for Discord (served end to end in
test_relay_m2d_more.py)."""

from __future__ import annotations

from urllib.parse import unquote

from bridge.web.avatars import AvatarProxy, avatar_secret
from bridge.web.files import FileLinks, file_secret

CONFIG = {"appservice.hs_token": "token"}
MXC = "mxc://example.org/AbCdEf123"


def links(public_address: str = "https://bridge.example.org/") -> FileLinks:
    return FileLinks(public_address, file_secret(CONFIG), lambda: None)  # type: ignore[arg-type,return-value]


def test_a_link_names_the_file_and_signs_it_with_its_name() -> None:
    url = links().url_for(MXC, "report 2024/Q1.pdf")
    assert url is not None
    assert url.startswith("https://bridge.example.org/_discord_bridge/file/")
    signature, server, media_id, name = url.split("/_discord_bridge/file/")[1].split("/")
    assert (server, media_id, unquote(name)) == ("example.org", "AbCdEf123", "report 2024/Q1.pdf")
    assert len(signature) == 32
    other_name = links().url_for(MXC, "report.pdf")
    assert other_name is not None and other_name.split("/")[5] != signature


def test_no_link_without_a_public_address_or_an_mxc() -> None:
    assert links("").url_for(MXC, "a.zip") is None
    assert links().url_for("https://example.org/a.zip", "a.zip") is None


def test_file_and_avatar_signatures_are_not_interchangeable() -> None:
    assert file_secret(CONFIG) != avatar_secret(CONFIG)
    avatar = AvatarProxy("https://bridge.example.org", avatar_secret(CONFIG), lambda: None, 1)  # type: ignore[arg-type,return-value]
    avatar_url = avatar.url_for(MXC)
    file_url = links().url_for(MXC, "a.png")
    assert avatar_url is not None and file_url is not None
    assert avatar_url.split("/")[5] != file_url.split("/")[5]
