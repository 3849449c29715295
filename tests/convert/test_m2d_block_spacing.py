"""Matrix HTML → Discord: the paragraph break after a quote, list, code block or table stays.

Discord's quote is only its ``>`` lines (a line without ``>`` ends it, no lazy continuation as
in CommonMark): ``> quoted\\nand after`` shows "and after" right under the quote, without the
blank line the author wrote. Element's HTML for ``> quoted\\n\\nand after`` is a blockquote
and a paragraph; the Discord text must keep the blank line between them.
"""

from __future__ import annotations

import pytest

from bridge.convert.m2d.context import M2DContext
from bridge.convert.m2d.formatting import matrix_to_discord

CODE = "```\nx = 1\n```"


def html(formatted_body: str) -> dict[str, str]:
    return {
        "msgtype": "m.text",
        "body": "(plain fallback, unused)",
        "format": "org.matrix.custom.html",
        "formatted_body": formatted_body,
    }


async def discord_text(formatted_body: str) -> str:
    return (await matrix_to_discord(html(formatted_body), M2DContext())).content


@pytest.mark.parametrize(
    ("formatted_body", "expected"),
    [
        # The input, as Element sends it and in shorter forms other clients send.
        pytest.param(
            "<blockquote>\n<p>quoted</p>\n</blockquote>\n<p>and after</p>\n",
            "> quoted\n\nand after",
            id="element",
        ),
        pytest.param(
            "<blockquote>quoted</blockquote><p>and after</p>", "> quoted\n\nand after", id="bare"
        ),
        pytest.param(
            "<blockquote><p>quoted</p></blockquote><p>and after</p>",
            "> quoted\n\nand after",
            id="paragraph-in-quote",
        ),
        pytest.param(
            "<blockquote><p>one</p><p>two</p></blockquote><p>and after</p>",
            "> one\n> \n> two\n\nand after",
            id="two-quoted-paragraphs",
        ),
        # A quote followed by the other blocks.
        pytest.param(
            "<blockquote>quoted</blockquote><ul><li>a</li><li>b</li></ul>",
            "> quoted\n\n- a\n- b",
            id="quote-then-list",
        ),
        pytest.param(
            "<blockquote>quoted</blockquote><ol><li>a</li></ol>",
            "> quoted\n\n1. a",
            id="quote-then-ordered-list",
        ),
        pytest.param(
            "<blockquote>quoted</blockquote><pre><code>x = 1\n</code></pre>",
            f"> quoted\n\n{CODE}",
            id="quote-then-code",
        ),
        pytest.param(
            "<blockquote>one</blockquote><blockquote>two</blockquote>",
            "> one\n\n> two",
            id="quote-then-quote",
        ),
        pytest.param(
            "<blockquote>quoted</blockquote><h2>Title</h2>", "> quoted\n\n## Title", id="heading"
        ),
        pytest.param(
            "<blockquote><blockquote>inner</blockquote><p>outer</p></blockquote><p>after</p>",
            "> > inner\n> \n> outer\n\nafter",
            id="nested-quote",
        ),
        # The other blocks followed by a paragraph or a quote.
        pytest.param(
            "<ul><li>a</li></ul><p>and after</p>", "- a\n\nand after", id="list-then-paragraph"
        ),
        pytest.param(
            "<pre><code>x = 1\n</code></pre><p>and after</p>",
            f"{CODE}\n\nand after",
            id="code-then-paragraph",
        ),
        pytest.param(
            "<ul><li>a</li></ul><blockquote>quoted</blockquote>",
            "- a\n\n> quoted",
            id="list-then-quote",
        ),
        pytest.param(
            "<p>before</p><blockquote>quoted</blockquote><p>after</p>",
            "before\n\n> quoted\n\nafter",
            id="paragraphs-around-quote",
        ),
    ],
)
async def test_blank_line_after_a_block_stays(formatted_body: str, expected: str) -> None:
    assert await discord_text(formatted_body) == expected


@pytest.mark.parametrize(
    ("formatted_body", "expected"),
    [
        # How Discord's own "> quoted\nreply" and "> quoted\n\nreply" read in HTML (d2m).
        ("<blockquote>quoted</blockquote>reply", "> quoted\nreply"),
        ("<blockquote>quoted</blockquote><br>reply", "> quoted\n\nreply"),
        ("<blockquote>one</blockquote><br><blockquote>two</blockquote>", "> one\n\n> two"),
        # Inside a list item nothing trails: no stray blank lines.
        ("<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>", "- a\n  - b\n- c"),
        ("<blockquote>quoted</blockquote>", "> quoted"),
        ("<h1>Title</h1><p>text</p>", "# Title\ntext"),
    ],
)
async def test_no_blank_line_where_none_was_written(formatted_body: str, expected: str) -> None:
    assert await discord_text(formatted_body) == expected
