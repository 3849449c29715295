"""Converters under property-based fuzzing: no exception, limits kept, linear work, stable trips.

Hypothesis drives the Discord → Matrix and Matrix → Discord converters, both splitters and the
webhook-name sanitiser with arbitrary and adversarial text. Runs are bounded and derandomized
(the same examples every run, no example database) so the module takes seconds in CI.

Linear work is checked by counting, never by timing: the number of Python and C function calls
a conversion makes (``sys.setprofile``), or the characters a splitter scans, for an input and
for the same input doubled; a linear algorithm does about twice the work, a quadratic one four.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bridge.convert.d2m.context import MessageContext
from bridge.convert.d2m.markdown import discord_to_matrix, parse
from bridge.convert.d2m.message import convert_message
from bridge.convert.d2m.split import MAX_CONTENT_BYTES, content_size, split_source
from bridge.convert.m2d import split as m2d_split
from bridge.convert.m2d.context import M2DContext
from bridge.convert.m2d.formatting import matrix_to_discord
from bridge.convert.m2d.names import MAX_NAME, webhook_username
from bridge.convert.m2d.split import DISCORD_LIMIT, split_for_discord
from bridge.sandbox.discord.rest.webhooks import check_name
from tests.convert.message_samples import context, message

EXAMPLES = 150  # per property; the module stays well under 30 s on a shared 2-core machine
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
D2M = MessageContext(domain="example.org", user_mxids={111: "@discord_111:example.org"})
M2D = M2DContext(ghost_user_ids={"@discord_111:example.org": 111})
HTML = "org.matrix.custom.html"
MATRIX_EVENT_BYTES = 65_536

# Pieces of Discord markdown and of Matrix HTML that hostile or unlucky text is made of.
MARKUP = [
    "*", "**", "_", "__", "~~", "||", "`", "``", "```", "```py\n", "\\", "> ", ">>> ", "# ",
    "-# ", "- ", "1. ", "  ", "\n", "\n\n", "[", "](", ")", "<", ">", "<@111>", "<@&2>", "<#3>",
    "<:e:4>", "<t:0:R>", "@everyone", "@here", "@room", "https://a.test/x_(y)", "h", " ",
]  # fmt: skip
HTML_PIECES = [
    "<b>", "</b>", "<i>", "<em>", "</em>", "<u>", "<s>", "<del>", "<code>", "</code>", "<pre>",
    "</pre>", "<blockquote>", "</blockquote>", "<p>", "</p>", "<br>", "<ul>", "<ol start=3>",
    "<li>", "</li>", "</ul>", "<h1>", "<h4>", "<sub>", "</sub>", "<sup>", "<hr>", "<table>",
    "<tr><td>", '<a href="https://a.test/">', '<a href="file:///etc">', "</a>",
    '<a href="https://matrix.to/#/@discord_111:example.org">', '<span data-mx-spoiler="r">',
    '<img src="mxc://a/b" alt="x">', "<mx-reply>", "</mx-reply>", "&amp;", "&lt;", "*", "_",
    "`", "@room", "@everyone", "\n", " ", "text",
]  # fmt: skip

# Characters that hide or reorder what a name shows (bidi controls, zero widths, fillers).
DISGUISES = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200d\u200e\u3164\ufeff"
_CODE = re.compile(r"<pre>.*?</pre>|<code>.*?</code>", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")

discord_text = st.lists(st.one_of(st.sampled_from(MARKUP), st.text(max_size=6)), max_size=60).map(
    "".join
)
html_text = st.lists(st.one_of(st.sampled_from(HTML_PIECES), st.text(max_size=5)), max_size=50).map(
    "".join
)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One loop for the async Matrix → Discord converter (it awaits nothing but itself)."""
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


def matrix_content(formatted_body: str | None, body: str) -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": "m.text", "body": body}
    if formatted_body is not None:
        content |= {"format": HTML, "formatted_body": formatted_body}
    return content


def d2m_content(text: str) -> dict[str, Any]:
    formatted = discord_to_matrix(text, D2M)
    return matrix_content(formatted.html, formatted.body)


# --- No exception, output within limits ---------------------------------------------------


@FUZZ
@given(discord_text)
@example("**@room**")  # the cases issue 17 found, always tried first
@example("-# small\nnext line")
@example("a\n> a")
@example("```\nx\n" * 300)
def test_discord_to_matrix_never_raises(text: str) -> None:
    """Every Discord text converts (also without the converter's own catch-all: the parser)."""
    parse(text)
    formatted = discord_to_matrix(text, D2M)
    assert isinstance(formatted.body, str)
    assert "@room" not in formatted.body.lower()  # no ping from an author who may not
    html_text = _CODE.sub("", formatted.html or "")
    assert not any("@room" in part.lower() for part in _TAG.split(html_text))  # nor shown as one


@settings(FUZZ, max_examples=12)
@given(discord_text.filter(str.strip), st.sampled_from([1, 10_000, 90_000]))
def test_discord_message_events_fit(snippet: str, size: int) -> None:
    """A whole message, however long (an import reads any size), becomes events that each
    fit in a Matrix event."""
    text = (snippet * (size // len(snippet) + 1))[:size]
    for part in convert_message(message(content=text), context()):
        assert content_size(part.content) <= MAX_CONTENT_BYTES < MATRIX_EVENT_BYTES


@FUZZ
@given(html_text, st.text(max_size=40))
def test_matrix_to_discord_never_raises(
    loop: asyncio.AbstractEventLoop, html: str, body: str
) -> None:
    for content in (matrix_content(html, body), matrix_content(None, html + body)):
        text = loop.run_until_complete(matrix_to_discord(content, M2D)).content
        for piece in split_for_discord(text):
            assert 0 < len(piece) <= DISCORD_LIMIT


@FUZZ
@given(discord_text, st.integers(min_value=64, max_value=2500))
def test_split_for_discord_within_limit(snippet: str, limit: int) -> None:
    text = snippet * (1 + 3 * limit // max(len(snippet), 1))
    pieces = split_for_discord(text, limit)
    assert all(0 < len(piece) <= limit for piece in pieces)
    assert (not text.strip()) == (not pieces)


@FUZZ
@given(discord_text, st.integers(min_value=16, max_value=600))
@example("`" * 120, 51)
def test_split_source_within_limit(snippet: str, limit: int) -> None:
    text = snippet * (1 + 3 * limit // max(len(snippet), 1))
    assert all(len(piece) <= limit for piece in split_source(text, limit))


@FUZZ
@given(
    st.lists(st.one_of(st.sampled_from(DISGUISES), st.text(max_size=4)), max_size=40).map("".join),
    st.text(max_size=20),
)
@example("Alice\u202eecilA", "alice")
@example("\u2066dis\u200bcord\u2069", "alice")
def test_webhook_username_is_always_accepted(name: str, fallback: str) -> None:
    result = webhook_username(name, fallback)
    assert 1 <= len(result) <= MAX_NAME
    assert check_name(result) == result  # the emulator's copy of Discord's rules
    assert not set(result) & set(DISGUISES) - {"\u200d"}  # a ZWJ stays only between emoji
    assert result == result.strip()


# --- Linear work -----------------------------------------------------------------------------


def calls(function: Callable[[], object]) -> int:
    """Python and C function calls made by `function()`: work counted, not timed."""
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        function()
    finally:
        sys.setprofile(None)
    return count


def growth(work: Callable[[str], int], unit: str, size: int) -> float:
    """Work for 2× the input over work for 1×: ~2 when linear, ~4 when quadratic."""
    small = (unit * (size // len(unit) + 1))[:size]
    large = (unit * (2 * size // len(unit) + 1))[: 2 * size]
    return work(large) / work(small)


ADVERSARIAL = [
    "```\nx\n", "```", "`a", "**a ", "*a ", "__a ", "_a ", "~~a ", "||a ", "> a\n", ">>> ",
    "- a\n  ", "1. a\n", "[a](", "[", "<@", "<@111>", "https://a.test/(", "\\", "# a\n",
    "-# *a\n", "> - **a ", "@room ", "a\n\n",
]  # fmt: skip


@pytest.mark.parametrize("unit", ADVERSARIAL)
def test_discord_to_matrix_work_is_linear(unit: str) -> None:
    def work(text: str) -> int:
        parse.cache_clear()
        return calls(lambda: discord_to_matrix(text, D2M))

    assert growth(work, unit, 4000) < 2.6


@pytest.mark.parametrize("unit", ADVERSARIAL)
def test_matrix_to_discord_work_is_linear(loop: asyncio.AbstractEventLoop, unit: str) -> None:
    def work(text: str) -> int:
        content = d2m_content(text)
        return calls(lambda: loop.run_until_complete(matrix_to_discord(content, M2D)))

    assert growth(work, unit, 4000) < 2.6


@pytest.mark.parametrize(
    "unit", ["```\nx\n", "```py\nline\n", "```", "a ```b``` ", "`` ` ", "\n", "word ", "y"]
)
def test_split_for_discord_work_is_linear(monkeypatch: pytest.MonkeyPatch, unit: str) -> None:
    """200k characters of fences: each cut scans a window, never the whole rest (it did: 2.7 s)."""
    scanned = 0
    blocks = m2d_split._blocks

    def counting_blocks(text: str) -> list[Any]:
        nonlocal scanned
        scanned += len(text)
        return blocks(text)

    monkeypatch.setattr(m2d_split, "_blocks", counting_blocks)

    def work(text: str) -> int:
        nonlocal scanned
        scanned = 0
        pieces = split_for_discord(text)
        assert all(len(piece) <= DISCORD_LIMIT for piece in pieces)
        return scanned + calls(lambda: split_for_discord(text[:20_000]))

    assert growth(work, unit, 100_000) < 2.6


@pytest.mark.parametrize("unit", ["```\nx\n", "`" * 120 + "\n", "word ", "y", "\n\n"])
def test_split_source_work_is_linear(unit: str) -> None:
    assert growth(lambda text: calls(lambda: split_source(text, 2000)), unit, 40_000) < 2.6


def test_webhook_username_work_is_linear() -> None:
    unit = "\u202e\u200d🏳️\u200da\u3164"
    assert growth(lambda name: calls(lambda: webhook_username(name, "x")), unit, 20_000) < 2.6


# --- Round trips on plain formatting ---------------------------------------------------------

word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
inline = st.one_of(
    word,
    word.map(lambda w: f"**{w}**"),
    word.map(lambda w: f"*{w}*"),
    word.map(lambda w: f"__{w}__"),
    word.map(lambda w: f"~~{w}~~"),
    word.map(lambda w: f"||{w}||"),
    word.map(lambda w: f"`{w}`"),
    word.map(lambda w: f"[{w}](https://example.com/{w})"),
    st.tuples(word, word).map(lambda ws: f"**{ws[0]} *{ws[1]}***"),
)
line_content = st.lists(inline, min_size=1, max_size=5).map(" ".join)
line = st.one_of(
    line_content,
    line_content.map(lambda text: f"> {text}"),
    line_content.map(lambda text: f"- {text}"),
    line_content.map(lambda text: f"1. {text}"),
    line_content.map(lambda text: f"# {text}"),
    line_content.map(lambda text: f"-# {text}"),
    word.map(lambda w: f"```\n{w}\n```"),
    st.just(""),
)
plain_formatting = st.lists(line, min_size=1, max_size=6).map("\n".join).filter(str.strip)


@FUZZ
@given(plain_formatting)
def test_round_trip_is_stable_after_one_normalisation(
    loop: asyncio.AbstractEventLoop, text: str
) -> None:
    """Discord → Matrix → Discord once may normalise (`_a_` → `*a*`); after that, each trip
    gives back exactly what went in: no blank line, marker or escape gained per trip."""

    def trip(discord: str) -> str:
        return loop.run_until_complete(matrix_to_discord(d2m_content(discord), M2D)).content

    once = trip(text)
    assert trip(once) == once
    words = [w for w in "".join(c if c.isalpha() else " " for c in text).split()]
    assert all(w in once for w in words if w not in ("https", "example", "com"))


@pytest.mark.parametrize(
    "text",
    [
        "**bold** *italic* `code` [link](https://example.com/x)",
        "a\n> a",
        "> quoted\nreply",
        "- one\n- two\n\nafter",
        "1. first\n2. second",
        "-# small\nnext line",
        "# title\ntext",
        "```\ncode\n```\ntext",
    ],
)
def test_canonical_formatting_comes_back_as_typed(
    loop: asyncio.AbstractEventLoop, text: str
) -> None:
    content = d2m_content(text)
    assert loop.run_until_complete(matrix_to_discord(content, M2D)).content == text
