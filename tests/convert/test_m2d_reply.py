"""Reply quote lines, locations and oversized files as Discord text."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.convert.m2d.reply import location_text, media_fallback, reply_line

JUMP = "https://discord.com/channels/1/2/3"


@pytest.mark.parametrize(
    ("author", "excerpt", "url", "expected"),
    [
        pytest.param("Zoë", "hello", JUMP, f"> **Zoë**: hello [↪](<{JUMP}>)", id="simple"),
        pytest.param("Zoë", "hello", None, "> **Zoë**: hello", id="no-jump-link"),
        pytest.param("Zoë", "", JUMP, f"> **Zoë** [↪](<{JUMP}>)", id="no-excerpt"),
        pytest.param(
            "Zoë",
            "line one\n> line two\n\n# three",
            None,
            "> **Zoë**: line one > line two # three",
            id="single-line",
        ),
        pytest.param(
            "*Star*",
            "**bold** <@1> @everyone [x](y)",
            None,
            "> **\\*Star\\***: \\*\\*bold\\*\\* \\<@1> @\u200beveryone \\[x\\](y)",
            id="escaped",
        ),
        pytest.param("Zoë", "hi", "javascript:alert(1)", "> **Zoë**: hi", id="only-http-jump"),
        pytest.param("", "hi", None, "> **someone**: hi", id="no-author"),
    ],
)
def test_reply_line(author: str, excerpt: str, url: str | None, expected: str) -> None:
    assert reply_line(author, excerpt, url) == expected


def test_reply_excerpt_is_cut_at_100() -> None:
    words = " ".join(["word"] * 60)
    line = reply_line("Zoë", words, None)
    excerpt = line.removeprefix("> **Zoë**: ")
    assert excerpt.endswith("…") and len(excerpt) <= 101 and "\n" not in line
    assert reply_line("Zoë", "x" * 150, None) == "> **Zoë**: " + "x" * 100 + "…"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            {"body": "Big Ben", "geo_uri": "geo:51.5008,0.1247;u=35"},
            "📍 Big Ben: https://www.openstreetmap.org/?mlat=51.5008&mlon=0.1247#map=16/51.5008/0.1247",
            id="with-body",
        ),
        pytest.param(
            {"geo_uri": "geo:-33.85,151.2"},
            "📍 https://www.openstreetmap.org/?mlat=-33.85&mlon=151.2#map=16/-33.85/151.2",
            id="no-body",
        ),
        pytest.param(
            {"body": "a *place*", "geo_uri": "nonsense"}, "📍 a \\*place\\*", id="bad-uri"
        ),
        pytest.param({"body": "x", "geo_uri": "geo:95,0"}, "📍 x", id="out-of-range"),
        pytest.param({}, "📍 (location)", id="empty"),
    ],
)
def test_location_text(content: dict[str, Any], expected: str) -> None:
    assert location_text(content) == expected


@pytest.mark.parametrize(
    ("filename", "url", "expected"),
    [
        pytest.param(
            "video.mp4",
            "https://m.example/v.mp4",
            "📎 [video.mp4](https://m.example/v.mp4)",
            id="link",
        ),
        pytest.param("my_file (1).zip", None, "📎 my\\_file (1).zip", id="no-url"),
        pytest.param("a.bin", "mxc://x/y", "📎 a.bin", id="not-http"),
        pytest.param("", "https://m.example/f", "📎 [file](https://m.example/f)", id="no-name"),
        pytest.param(
            "f", "https://m.example/a b", "📎 [f](https://m.example/a%20b)", id="url-made-safe"
        ),
    ],
)
def test_media_fallback(filename: str, url: str | None, expected: str) -> None:
    assert media_fallback(filename, url) == expected


def test_media_marked_as_spoiler_either_way() -> None:
    from bridge.convert.m2d.reply import media_is_spoiler

    assert media_is_spoiler({"page.codeberg.everypizza.msc4193.spoiler": True})
    assert media_is_spoiler(
        {"town.robin.msc3725.content_warning": {"type": "town.robin.msc3725.spoiler"}}
    )
    assert not media_is_spoiler({"body": "a.png"})
