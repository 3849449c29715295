"""Matrix links → Discord masked links: link text is shown as written, never backslash-escaped.

Discord applies no backslash escapes inside `[text](url)` (the backslashes show: FIELD-NOTES,
discord-api-docs#6185). Text that would form markup, a mention or a URL there, or break the
link's syntax, stays outside the link, escaped as usual: `text (<url>)`.
"""

from __future__ import annotations

from typing import Any

import pytest

from bridge.convert.m2d.context import M2DContext
from bridge.convert.m2d.formatting import DiscordText, matrix_to_discord
from bridge.convert.m2d.links import is_plain_link_text, plain_link
from bridge.convert.m2d.reply import media_fallback

URL = "https://example.com/docs"
ZOE = "@discord_111:example.org"
CTX = M2DContext(ghost_user_ids={ZOE: 111})
EVERYONE_CTX = M2DContext(allow_everyone=True)
Z = "\u200b"


def link(text_html: str, url: str = URL) -> dict[str, Any]:
    return {
        "msgtype": "m.text",
        "body": "(plain fallback, unused)",
        "format": "org.matrix.custom.html",
        "formatted_body": f'<a href="{url}">{text_html}</a>',
    }


KEPT_AS_WRITTEN = [
    ("my_config_file", f"[my_config_file]({URL})"),  # the report's first input
    ("a_b_c d_e", f"[a_b_c d_e]({URL})"),
    ("a~b", f"[a~b]({URL})"),
    ("a|b", f"[a|b]({URL})"),
    ("#general", f"[#general]({URL})"),
    ("# heading", f"[# heading]({URL})"),
    ("- item", f"[- item]({URL})"),
    ("&gt; not a quote", f"[> not a quote]({URL})"),
    ("1. first", f"[1. first]({URL})"),
    ("-# small", f"[-# small]({URL})"),
    ("a &lt; b", f"[a < b]({URL})"),
    ("(see) this", f"[(see) this]({URL})"),
    ("two<br>lines", f"[two lines]({URL})"),
    ("Zoë's ünïcode_name", f"[Zoë's ünïcode_name]({URL})"),
    ("<b>my_config</b> file", f"[**my_config** file]({URL})"),
    ("<em>in</em> <u>and</u> <del>out</del>", f"[*in* __and__ ~~out~~]({URL})"),
    ('<font color="red">red_text</font>', f"[red_text]({URL})"),
]

OUTSIDE_THE_LINK = [
    ("Ann [she/her]", rf"Ann \[she/her\] (<{URL}>)"),  # the report's second input
    ("[x](https://evil.example)", rf"\[x\](https://evil.example) (<{URL}>)"),
    ("x](y", rf"x\](y (<{URL}>)"),
    ("_it_", rf"\_it\_ (<{URL}>)"),
    ("_lead", rf"\_lead (<{URL}>)"),
    ("trail_", rf"trail\_ (<{URL}>)"),
    ("a__b__c", rf"a\_\_b\_\_c (<{URL}>)"),
    ("a*b", rf"a\*b (<{URL}>)"),
    ("**bold**", rf"\*\*bold\*\* (<{URL}>)"),
    ("a~~b~~", rf"a\~\~b\~\~ (<{URL}>)"),
    ("||spoiler||", rf"\|\|spoiler\|\| (<{URL}>)"),
    ("`code`", rf"\`code\` (<{URL}>)"),
    ("C:\\dir", rf"C:\\dir (<{URL}>)"),
    ("&lt;@123&gt;", rf"\<@123> (<{URL}>)"),
    ("&lt;#456&gt;", rf"\<#456> (<{URL}>)"),
    ("&lt;t:1700000000&gt;", rf"\<t:1700000000> (<{URL}>)"),
    ("@everyone", f"@{Z}everyone (<{URL}>)"),
    ("hi @here", f"hi @{Z}here (<{URL}>)"),
    ("see https://other.example too", f"see https://other.example too (<{URL}>)"),
    ("<code>ls -l</code>", f"`ls -l` (<{URL}>)"),
    ("<span data-mx-spoiler>secret</span>", f"||secret|| (<{URL}>)"),
    ("<i>a_</i>b", rf"*a\_*b (<{URL}>)"),
    ("<b>*</b>", rf"**\*** (<{URL}>)"),
]


@pytest.mark.parametrize(("text_html", "expected"), KEPT_AS_WRITTEN)
async def test_link_text_is_kept_as_written(text_html: str, expected: str) -> None:
    assert await matrix_to_discord(link(text_html), CTX) == DiscordText(expected)


@pytest.mark.parametrize(("text_html", "expected"), OUTSIDE_THE_LINK)
async def test_unsafe_link_text_stays_outside_the_link(text_html: str, expected: str) -> None:
    assert await matrix_to_discord(link(text_html), CTX) == DiscordText(expected)


async def test_no_backslash_ever_reaches_a_masked_links_text() -> None:
    for text_html, _ in KEPT_AS_WRITTEN + OUTSIDE_THE_LINK:
        content = (await matrix_to_discord(link(text_html), CTX)).content
        if content.startswith("["):
            assert "\\" not in content, text_html


async def test_a_pill_inside_a_link_still_pings_only_its_user() -> None:
    pill = f'<a href="https://matrix.to/#/{ZOE}">Zoë</a>'
    text = await matrix_to_discord(link(f"ask {pill}"), CTX)
    assert text == DiscordText(f"ask <@111> (<{URL}>)", (111,))


async def test_room_ping_in_link_text_only_where_allowed() -> None:
    assert await matrix_to_discord(link("@room"), EVERYONE_CTX) == DiscordText(
        f"@everyone (<{URL}>)", (), True
    )
    assert await matrix_to_discord(link("@room"), CTX) == DiscordText(f"@{Z}room (<{URL}>)")


@pytest.mark.parametrize(
    ("text_html", "url", "expected"),
    [
        (URL, URL, URL),  # autolink: the text is the URL
        ("https://example.com/a_b", "https://example.com/a_b", "https://example.com/a_b"),
        ("https://b.example", "https://a.example", "https://b.example (https://a.example)"),
        ("my_file", "https://x.example/a b", "[my_file](https://x.example/a%20b)"),
        ("a [b]", "https://x.example/a b", r"a \[b\] (<https://x.example/a%20b>)"),
    ],
)
async def test_link_text_and_url_together(text_html: str, url: str, expected: str) -> None:
    assert await matrix_to_discord(link(text_html, url), CTX) == DiscordText(expected)


async def test_an_image_alt_text_is_link_text_too() -> None:
    image = {
        "msgtype": "m.text",
        "body": "x",
        "format": "org.matrix.custom.html",
        "formatted_body": '<img src="https://x.example/p.png" alt="my_pic"> '
        '<img src="https://x.example/q.png" alt="[q]">',
    }
    text = await matrix_to_discord(image, CTX)
    assert text.content == r"[my_pic](https://x.example/p.png) \[q\] (<https://x.example/q.png>)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my_config_file.tar.gz", "[my_config_file.tar.gz](https://x.example/f)"),
        ("Ann [she/her].txt", r"Ann \[she/her\].txt (<https://x.example/f>)"),
        ("https://x.example/f", "https://x.example/f"),
        ("  spaced\n name ", "[spaced name](https://x.example/f)"),
    ],
)
def test_plain_link(text: str, expected: str) -> None:
    assert plain_link(text, "https://x.example/f") == expected


def test_a_file_too_large_is_named_as_written() -> None:
    assert media_fallback("my_config_file.log", "https://x.example/f") == (
        "📎 [my_config_file.log](https://x.example/f)"
    )
    assert media_fallback("my_config_file.log", None) == r"📎 my\_config\_file.log"


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("snake_case", True),
        ("_x", False),
        ("x_", False),
        ("a]b", False),
        ("a\nb", False),
        ("https://", True),  # no URL after it (discord-api-docs#7721)
        ("https://x", False),
    ],
)
def test_is_plain_link_text(text: str, plain: bool) -> None:
    assert is_plain_link_text(text) is plain
