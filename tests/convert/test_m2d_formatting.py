"""Matrix HTML / plain bodies → Discord markdown: formatting, escaping, pills, pings, emoji.

Each row: the Matrix HTML (or plain body), the Discord text expected, and which pings it makes.
"""

from __future__ import annotations

from typing import Any

import pytest

from bridge.convert.m2d.context import DiscordEmoji, M2DContext
from bridge.convert.m2d.formatting import DiscordText, allowed_mentions, matrix_to_discord

ZOE = "@discord_111:example.org"
CTX = M2DContext(
    ghost_user_ids={ZOE: 111, "@discord_222:example.org": 222},
    display_names={"@alice:example.org": "Alice", "@mallory:example.org": "everyone"},
    room_channels={"#general:example.org": 777, "!rules:example.org": 778},
    emoji_by_name={"blobcat": DiscordEmoji(900, "blobcat")},
    emoji_by_mxc={"mxc://example.org/party": DiscordEmoji(901, "party", animated=True)},
    sender_name="Alice",
)
EVERYONE_CTX = M2DContext(allow_everyone=True, sender_name="Alice")
Z = "\u200b"


def pill(mxid: str, text: str) -> str:
    return f'<a href="https://matrix.to/#/{mxid}">{text}</a>'


def html(formatted_body: str, **extra: Any) -> dict[str, Any]:
    return {
        "msgtype": "m.text",
        "body": "(plain fallback, unused)",
        "format": "org.matrix.custom.html",
        "formatted_body": formatted_body,
        **extra,
    }


def plain(body: str, **extra: Any) -> dict[str, Any]:
    return {"msgtype": "m.text", "body": body, **extra}


def case(content: dict[str, Any], expected: str, *users: int, everyone: bool = False, id: str):
    return pytest.param(content, DiscordText(expected, users, everyone), id=id)


FORMATTING = [
    case(html("<b>bold</b> <strong>strong</strong>"), "**bold** **strong**", id="bold"),
    case(html("<i>it</i> <em>em</em>"), "*it* *em*", id="italic"),
    case(html("<u>under</u>"), "__under__", id="underline"),
    case(
        html("<del>gone</del> <s>gone</s> <strike>x</strike>"),
        "~~gone~~ ~~gone~~ ~~x~~",
        id="strike",
    ),
    case(html("<span data-mx-spoiler>secret</span>"), "||secret||", id="spoiler"),
    case(
        html('<span data-mx-spoiler="plot">he dies</span>'), "plot ||he dies||", id="spoiler-reason"
    ),
    case(html("<code>x = 1</code>"), "`x = 1`", id="inline-code"),
    case(html("<code>a`b</code>"), "``a`b``", id="inline-code-with-backtick"),
    case(html("<code>**raw** &lt;@1&gt;</code>"), "`**raw** <@1>`", id="inline-code-not-escaped"),
    case(
        html('<pre><code class="language-python">def f():\n    return 1\n</code></pre>'),
        "```python\ndef f():\n    return 1\n```",
        id="code-block-language",
    ),
    case(
        html("<pre><code>plain\n\n\n\nblock</code></pre>"),
        "```\nplain\n\n\n\nblock\n```",
        id="code-block",
    ),
    case(
        html("<pre><code>a ``` b</code></pre>"), f"```\na `{Z}`{Z}` b\n```", id="code-fence-in-code"
    ),
    case(
        html("<blockquote>quoted<br>twice</blockquote>after"),
        "> quoted\n> twice\nafter",
        id="quote",
    ),
    case(
        html("<blockquote><p>one</p><p>two</p></blockquote>"),
        "> one\n> \n> two",
        id="quote-paragraphs",
    ),
    case(html("<h1>One</h1><h2>Two</h2><h3>Three</h3>"), "# One\n## Two\n### Three", id="h1-h3"),
    case(html("<h4>Four</h4><h6>Six</h6>"), "**Four**\n**Six**", id="h4-h6-bold"),
    case(html("<ul><li>one</li><li>two</li></ul>"), "- one\n- two", id="bullets"),
    case(html('<ol start="3"><li>three</li><li>four</li></ol>'), "3. three\n4. four", id="ordered"),
    case(
        html("<ul><li>a<ul><li>nested<ul><li>deeper</li></ul></li></ul></li><li>b</li></ul>"),
        "- a\n  - nested\n    - deeper\n- b",
        id="nested-bullets",
    ),
    case(
        html("<ol><li>step<ul><li>detail</li></ul></li><li>step</li></ol>"),
        "1. step\n   - detail\n2. step",
        id="bullets-in-ordered",
    ),
    case(html('<a href="https://example.com">site</a>'), "[site](https://example.com)", id="link"),
    case(
        html('<a href="https://example.com/a_b">https://example.com/a_b</a>'),
        "https://example.com/a_b",
        id="link-text-is-url",
    ),
    case(
        html('<a href="https://a.example">https://b.example</a>'),
        "https://b.example (https://a.example)",
        id="link-text-other-url",
    ),
    case(
        html('<a href="https://x.example/a b(c\u3000">t</a>'),
        "[t](https://x.example/a%20b%28c%E3%80%80)",
        id="link-url-made-safe",
    ),
    case(
        html('<a href="ftp://x.example/f">files</a>'),
        "files (ftp://x.example/f)",
        id="link-not-http",
    ),
    case(html("one<br>two<br><br>three"), "one\ntwo\n\nthree", id="br"),
    case(html("<p>one</p>\n<p>two</p>\n"), "one\n\ntwo", id="paragraphs"),
    case(html("above<hr>below"), "above\n──────────\nbelow", id="hr"),
    case(html("<sub>small print</sub>"), "-# small print", id="subtext-line"),
    case(html("H<sub>2</sub>O"), "H2O", id="sub-inside-line"),
    case(html('<font color="#ff0000">red</font>'), "red", id="colour-dropped"),
    case(html("a<b> spaced </b>c"), "a **spaced** c", id="edge-spaces-outside-markers"),
    case(html("<b></b>x<i> </i>y"), "x y", id="empty-formatting"),
]

NESTING = [
    case(
        html("<strong>t<em>e<del>s</del>t</em>!</strong>"),
        "**t*e~~s~~t*!**",
        id="bold-italic-strike",
    ),
    case(html("<u><em>x</em></u>"), "__*x*__", id="underline-italic"),
    case(
        html("<span data-mx-spoiler>the <b>butler</b></span>"),
        "||the **butler**||",
        id="spoiler-bold",
    ),
    case(
        html('<a href="https://example.com"><b>docs</b> here</a>'),
        "[**docs** here](https://example.com)",
        id="formatted-link",
    ),
    case(
        html("<blockquote><ul><li>a</li><li><b>b</b></li></ul></blockquote>"),
        "> - a\n> - **b**",
        id="list-in-quote",
    ),
    case(html("<blockquote><h1>Title</h1></blockquote>"), "> # Title", id="heading-in-quote"),
    case(
        html('<ul><li>code:<pre><code class="language-sh">ls\n</code></pre></li></ul>'),
        "- code:\n  ```sh\n  ls\n  ```",
        id="code-in-list",
    ),
]

ESCAPING = [
    case(
        html("**not bold** __nor__ ~~this~~"),
        r"\*\*not bold\*\* \_\_nor\_\_ \~\~this\~\~",
        id="markdown-typed",
    ),
    case(
        html("`tick` ||pipe|| back\\slash"),
        r"\`tick\` \|\|pipe\|\| back\\slash",
        id="code-spoiler-backslash",
    ),
    case(
        html("&lt;@123&gt; &lt;#456&gt; &lt;:e:789&gt;"),
        r"\<@123> \<#456> \<:e:789>",
        id="tokens-typed",
    ),
    case(html("[x](https://evil.example)"), r"\[x\](https://evil.example)", id="masked-link-typed"),
    case(html("# not a heading"), r"\# not a heading", id="heading-typed"),
    case(html("&gt; not a quote"), r"\> not a quote", id="quote-typed"),
    case(html("- not a list<br>1. nor this"), "\\- not a list\n1\\. nor this", id="list-typed"),
    case(html("-# not small"), r"\-# not small", id="subtext-typed"),
    case(html("a # b - c &gt; d 1. e"), "a # b - c > d 1. e", id="mid-line-left-alone"),
    case(html("<b>x</b> - y"), "**x** - y", id="after-markup-not-line-start"),
    case(html("<blockquote># b</blockquote>"), r"> \# b", id="line-start-inside-quote"),
    case(html("<ul><li>- x</li></ul>"), r"- \- x", id="line-start-inside-list"),
    case(
        html("see https://example.com/a_b_c_ now"),
        "see https://example.com/a_b_c_ now",
        id="url-kept",
    ),
    case(html("snake_case"), r"snake\_case", id="underscore"),
    case(plain("**not bold**"), r"\*\*not bold\*\*", id="plain-markdown-typed"),
    case(
        plain("# h\n> q\n - l\n2. o\n<@1>"),
        "\\# h\n\\> q\n \\- l\n2\\. o\n\\<@1>",
        id="plain-lines",
    ),
    case(plain("a\n\n\nb"), "a\n\n\nb", id="plain-keeps-blank-lines"),
    case(
        {"msgtype": "m.text", "body": "x", "format": "other", "formatted_body": "<b>y</b>"},
        "x",
        id="unknown-format-uses-body",
    ),
    case(html(""), "(plain fallback, unused)", id="empty-html-uses-body"),
    case({"msgtype": "m.text"}, "", id="no-body"),
]

PILLS = [
    case(html(pill(ZOE, "Zoë") + ": hi"), "<@111>: hi", 111, id="ghost"),
    case(
        html(f"{pill(ZOE, 'Zoë')} {pill('@discord_222:example.org', 'x')} {pill(ZOE, 'again')}"),
        "<@111> <@222> <@111>",
        111,
        222,
        id="ghosts-unique",
    ),
    case(html(pill("@alice:example.org", "Ali")), "@Alice", id="matrix-user-display-name"),
    case(html(pill("@bob_b:example.org", "Bob")), r"@bob\_b", id="matrix-user-localpart"),
    case(html(pill("@mallory:example.org", "x")), f"@{Z}everyone", id="display-name-everyone"),
    case(html(pill("%40alice%3Aexample.org", "Ali")), "@Alice", id="encoded-pill"),
    case(html(pill("#general:example.org", "#general")), "<#777>", id="alias-bridged"),
    case(html(pill("!rules:example.org?via=example.org", "rules")), "<#778>", id="room-id-bridged"),
    case(html(pill("#other:example.org", "#other")), r"#other", id="alias-not-bridged"),
    case(html(pill("#other:example.org", "")), r"#other:example.org", id="alias-no-text"),
]

PINGS = [
    case(html("@room hello"), f"@{Z}room hello", id="room-neutralised"),
    case(
        html("@everyone @here @Everyone"), f"@{Z}everyone @{Z}here @{Z}Everyone", id="pings-typed"
    ),
    case(plain("@everyone look"), f"@{Z}everyone look", id="plain-pings-typed"),
    case(html("@roomy"), "@roomy", id="room-is-a-word"),
]

EVERYONE = [
    case(html("@room hello"), "@everyone hello", everyone=True, id="room-allowed"),
    case(plain("@room hello"), "@everyone hello", everyone=True, id="plain-room-allowed"),
    case(html("@here"), "@here", everyone=True, id="here-allowed"),
    case(
        html("@room hi", **{"m.mentions": {"room": True}}),
        "@everyone hi",
        everyone=True,
        id="intended",
    ),
    case(html("@room hi", **{"m.mentions": {}}), f"@{Z}room hi", id="not-intended"),
    case(html("hello"), "hello", id="no-ping-no-flag"),
]

EMOJI = [
    case(
        html('<img data-mx-emoticon src="mxc://x/y" alt=":blobcat:">'),
        "<:blobcat:900>",
        id="by-name",
    ),
    case(
        html('<img data-mx-emoticon src="mxc://example.org/party" alt=":renamed:">'),
        "<a:party:901>",
        id="by-mxc-animated",
    ),
    case(html('<img data-mx-emoticon src="mxc://x/z" alt=":nope_x:">'), r":nope\_x:", id="unknown"),
    case(html('<img src="mxc://x/pic" alt="a cat">'), "a cat", id="image-alt"),
    case(
        html('<img src="https://x.example/p.png" alt="pic">'),
        "[pic](https://x.example/p.png)",
        id="image-http",
    ),
]

EMOTE_AND_REPLY = [
    case(
        {
            "msgtype": "m.emote",
            "body": "waves",
            "format": "org.matrix.custom.html",
            "formatted_body": "<b>waves</b>",
        },
        "*Alice* **waves**",
        id="emote-html",
    ),
    case(
        {"msgtype": "m.emote", "body": "waves *hard*"}, r"*Alice* waves \*hard\*", id="emote-plain"
    ),
    case(
        html("<mx-reply><blockquote><a>In reply to</a> old</blockquote></mx-reply>new"),
        "new",
        id="mx-reply-dropped",
    ),
    case(
        plain(
            "> <@bob:example.org> old\n> more\n\nnew\n> kept",
            **{"m.relates_to": {"m.in_reply_to": {"event_id": "$e"}}},
        ),
        "new\n\\> kept",
        id="plain-fallback-dropped",
    ),
    case(
        plain("> quoted\n\nnot a reply"),
        "\\> quoted\n\nnot a reply",
        id="plain-quote-without-reply",
    ),
]


@pytest.mark.parametrize(
    ("content", "expected"),
    FORMATTING + NESTING + ESCAPING + PILLS + PINGS + EMOJI + EMOTE_AND_REPLY,
)
async def test_matrix_to_discord(content: dict[str, Any], expected: DiscordText) -> None:
    assert await matrix_to_discord(content, CTX) == expected


@pytest.mark.parametrize(("content", "expected"), EVERYONE)
async def test_room_mention_allowed(content: dict[str, Any], expected: DiscordText) -> None:
    assert await matrix_to_discord(content, EVERYONE_CTX) == expected


async def test_broken_html_falls_back_to_body() -> None:
    content = html("<b><i>unclosed <a href='https://x.example'>", body="unclosed *x*")
    text = await matrix_to_discord(content, CTX)
    assert text.content  # something readable, never an exception


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            DiscordText("x"),
            {"parse": [], "users": [], "roles": [], "replied_user": False},
        ),
        (
            DiscordText("<@1> <@2>", (1, 2, 1)),
            {"parse": [], "users": ["1", "2"], "roles": [], "replied_user": False},
        ),
        (
            DiscordText("@everyone", (), True),
            {"parse": ["everyone"], "users": [], "roles": [], "replied_user": False},
        ),
    ],
)
def test_allowed_mentions(text: DiscordText, expected: dict[str, Any]) -> None:
    assert allowed_mentions(text) == expected


async def test_allowed_mentions_of_a_conversion() -> None:
    text = await matrix_to_discord(html(pill(ZOE, "Zoë") + " @everyone &lt;@&amp;5&gt;"), CTX)
    assert allowed_mentions(text) == {
        "parse": [],
        "users": ["111"],
        "roles": [],
        "replied_user": False,
    }
