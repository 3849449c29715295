"""The converter faults of issue 17, each as the case that showed it.

Subtext losing its line break, `@room` left literal in the HTML, a blank line gained on
every Discord → Matrix → Discord trip, splitters over their limit, non-web links in
failed-attachment links, and disguising characters in webhook usernames.
"""

from __future__ import annotations

import pytest

from bridge.convert.d2m.attachments import attachment_link, safe_url
from bridge.convert.d2m.context import MessageContext
from bridge.convert.d2m.markdown import discord_to_matrix
from bridge.convert.d2m.split import split_source
from bridge.convert.m2d.context import M2DContext
from bridge.convert.m2d.formatting import HTML_FORMAT, matrix_to_discord
from bridge.convert.m2d.names import webhook_username
from bridge.convert.m2d.reply import reply_line
from bridge.convert.message_model import AttachmentSnapshot
from bridge.sandbox.discord.rest.webhooks import check_name

D2M = MessageContext(domain="example.org")
M2D = M2DContext()
NEUTRAL_ROOM = "@\u2060room"


async def round_trip(discord: str) -> str:
    formatted = discord_to_matrix(discord, D2M)
    content = {"msgtype": "m.text", "body": formatted.body}
    if formatted.html is not None:
        content |= {"format": "org.matrix.custom.html", "formatted_body": formatted.html}
    return (await matrix_to_discord(content, M2D)).content


def test_subtext_keeps_its_line_break() -> None:
    formatted = discord_to_matrix("-# small\nnext line", D2M)
    assert formatted.html == "<sub>small</sub><br>next line"


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("-# a\n-# b", "<sub>a</sub><br><sub>b</sub>"),
        ("-# a\n\nb", "<sub>a</sub><br><br>b"),
        ("-# a\n> q", "<sub>a</sub><blockquote>q</blockquote>"),  # a block needs no <br>
        ("-# a", "<sub>a</sub>"),
    ],
)
def test_subtext_line_breaks(text: str, html: str) -> None:
    assert discord_to_matrix(text, D2M).html == html


@pytest.mark.parametrize(
    "text",
    ["a\n> a", "-# small\nnext line", "-# a\n\nb", "> a\nb", "a\n> a\n\nb", "x\n-# s\n> q"],
)
async def test_round_trips_are_stable(text: str) -> None:
    assert await round_trip(text) == text
    assert await round_trip(await round_trip(text)) == text  # no blank line gained per trip


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("**@room**", f"<strong>{NEUTRAL_ROOM}</strong>"),
        ("@**room**", "@<strong>\u2060room</strong>"),
        ("*hi @Room*", "<em>hi @\u2060Room</em>"),
    ],
)
def test_room_mention_is_inert_in_html_as_in_body(text: str, html: str) -> None:
    formatted = discord_to_matrix(text, D2M)
    assert formatted.html == html
    assert "@room" not in formatted.body.lower()


def test_a_plain_room_word_needs_no_html() -> None:
    assert discord_to_matrix("hi @room", D2M).html is None


def test_split_source_never_overshoots() -> None:
    pieces = split_source("`" * 120, 51)
    assert all(len(piece) <= 51 for piece in pieces), [len(piece) for piece in pieces]


@pytest.mark.parametrize("limit", [16, 40, 51, 100])
def test_split_source_code_blocks_within_limit(limit: int) -> None:
    code = "\n".join(f"line {n} " + "x" * (n % 30) for n in range(80))
    text = f"```{'averylonglanguagename' * 3}\n{code}\n```\nafter\n```py\n{code}\n```"
    pieces = split_source(text, limit)
    assert all(len(piece) <= limit for piece in pieces)


def test_split_source_reopens_with_the_language_only() -> None:
    text = "```py\n" + "\n".join(f"print({n})" for n in range(40)) + "\n```"
    pieces = split_source(text, 80)
    assert all(piece.startswith("```py\nprint(") for piece in pieces)


def _file(url: str, spoiler: bool = False) -> AttachmentSnapshot:
    return AttachmentSnapshot(1, "report.pdf", url, 30_000_000, spoiler=spoiler)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "javascript:alert(1)", "data:text/html,x", "ftp://h/f", ""]
)
def test_failed_attachment_links_only_web_urls(url: str) -> None:
    link = attachment_link(_file(url))
    assert link.html is not None and "href" not in link.html
    assert url not in link.body or not url
    assert link.body.startswith("📎 report.pdf (")


@pytest.mark.parametrize("url", ["https://cdn.discordapp.com/a/b.pdf", "HTTP://example.com/f"])
def test_failed_attachment_links_keep_web_urls(url: str) -> None:
    link = attachment_link(_file(url, spoiler=True))
    assert link.html is not None and f'<a href="{url}">' in link.html
    assert "data-mx-spoiler" in link.html and link.body.endswith(url)


def test_failed_attachment_name_cannot_ping_the_room() -> None:
    link = attachment_link(AttachmentSnapshot(1, "@room.png", "https://x.test/f", 1))
    assert "@room" not in link.body


def test_safe_url() -> None:
    assert safe_url("https://a") == "https://a"
    assert safe_url("file:///x") is None and safe_url(None) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Alice\u202eecilA", "AliceecilA"),  # right-to-left override
        ("\u202aA\u202bB\u202cC\u202dD", "ABCD"),  # embeddings and LRO
        ("\u2066Admin\u2069 \u2067x\u2068", "Admin x"),  # isolates
        ("a\u200eb\u200fc\u061cd", "abcd"),  # directional marks
        ("Ad\u200bmin\ufeff\u00ad\u2060", "Admin"),  # zero-width space, BOM, soft hyphen, WJ
        ("Ad\u200dmin", "Admin"),  # a ZWJ between letters only hides
        ("\u3164\u3164", "alice"),  # Hangul fillers look empty
        ("dis\u202ecord", "disc\u043erd"),  # reserved words checked after stripping
        ("here\u200b", "her\u0435"),
        ("🏳️\u200d🌈 Zoë", "🏳️\u200d🌈 Zoë"),  # emoji sequences kept
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),
        ("🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", None),  # England flag
        ("a\U000e0061b", "ab"),  # tag characters outside a flag
        ("می\u200cخواهم", "می\u200cخواهم"),  # Persian keeps its ZWNJ
    ],
)
def test_webhook_username_strips_disguising_characters(name: str, expected: str | None) -> None:
    result = webhook_username(name, "alice")
    assert result == (name if expected is None else expected)
    assert check_name(result) == result


async def test_names_inside_messages_lose_disguising_characters() -> None:
    ctx = M2DContext(sender_name="\u202eeve\u2066", display_names={"@m:x.org": "Mal\u202elory"})
    emote = await matrix_to_discord({"msgtype": "m.emote", "body": "waves"}, ctx)
    assert emote.content == "*eve* waves"
    pill = '<a href="https://matrix.to/#/@m:x.org">Mallory</a> hi'
    content = {"msgtype": "m.text", "body": "x", "format": HTML_FORMAT, "formatted_body": pill}
    assert (await matrix_to_discord(content, ctx)).content == "@Mallory hi"
    assert reply_line("Bo\u202eb", "hello", None) == "> **Bob**: hello"
