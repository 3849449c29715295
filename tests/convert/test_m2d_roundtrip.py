"""Discord → Matrix → Discord: simple formatting comes back as typed (or an equivalent)."""

from __future__ import annotations

import pytest

from bridge.convert.d2m.context import ChannelTarget, MessageContext, UploadedMedia
from bridge.convert.d2m.markdown import discord_to_matrix
from bridge.convert.m2d.context import DiscordEmoji, M2DContext
from bridge.convert.m2d.formatting import matrix_to_discord

D2M = MessageContext(
    domain="example.org",
    user_mxids={111: "@discord_111:example.org"},
    user_names={111: "Zoë"},
    channels={777: ChannelTarget("general", "!gen:example.org")},
    emoji={900: UploadedMedia("mxc://example.org/blobcat", "image/png")},
)
M2D = M2DContext(
    ghost_user_ids={"@discord_111:example.org": 111},
    room_channels={"!gen:example.org": 777},
    emoji_by_mxc={"mxc://example.org/blobcat": DiscordEmoji(900, "blobcat")},
)


def same(text: str) -> object:
    return pytest.param(text, text, id=text[:30])


def equivalent(text: str, back: str) -> object:
    return pytest.param(text, back, id=text[:30])


@pytest.mark.parametrize(
    ("discord", "expected"),
    [
        same("hello world"),
        same("**bold** and *italic*"),
        same("__underline__ ~~strike~~ ||spoiler||"),
        same("***bold italic***"),
        same("||the killer is **the butler**||"),
        same("`code` and ``a`b``"),
        same('```py\nprint("<hi>")\n```'),
        same("> quoted\nreply"),
        same("# Big\n## Medium\n### Small"),
        same("-# small print"),
        same("- one\n- two"),
        same("1. first\n2. second"),
        same("- a\n  - nested\n- b"),
        same("[Discord](https://discord.com)"),
        same("https://example.com/a_b_c_"),
        same("<@111> hi"),
        same("see <#777>"),
        same("<:blobcat:900>"),
        equivalent("_italic_", "*italic*"),
        equivalent("* one\n* two", "- one\n- two"),
        equivalent("<https://example.com/no-embed>", "https://example.com/no-embed"),
        equivalent("snake_case", "snake\\_case"),
        equivalent("\\*not italic\\*", "\\*not italic\\*"),
        equivalent("\\# not heading", "\\# not heading"),
    ],
)
async def test_round_trip(discord: str, expected: str) -> None:
    formatted = discord_to_matrix(discord, D2M)
    content = {"msgtype": "m.text", "body": formatted.body}
    if formatted.html is not None:
        content |= {"format": "org.matrix.custom.html", "formatted_body": formatted.html}
    assert (await matrix_to_discord(content, M2D)).content == expected
