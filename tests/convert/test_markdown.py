"""Discord markdown → Matrix HTML: formatting, code, quotes, headings, lists, links, escapes.

Each row: a message as typed on Discord, the HTML expected (None: plain text is enough) and the
body when it differs from the text as typed.
"""

from __future__ import annotations

import pytest

from bridge.convert.d2m.markdown import Formatted, discord_to_matrix

from .markdown_context import CTX, ZOE_PILL


def case(text: str, html: str | None, body: str | None = None, *, id: str) -> object:
    return pytest.param(text, html, text if body is None else body, id=id)


PLAIN = [
    case("", None, id="empty"),
    case("hello world", None, id="plain"),
    case("gm ☀️ 日本語 Привет مرحبا", None, id="scripts-and-emoji"),
    case("a < b && c > d \"quoted\" 'single'", None, id="html-characters"),
    case("<script>alert(1)</script>", None, id="script-tag-typed"),
    case("<b>not bold</b>", None, id="html-tag-typed"),
    case("snake_case_name and file_name.py", None, id="underscores-inside-words"),
    case("_not_italic", None, id="underscore-not-at-word-end"),
    case("2 * 3 * 4 = 24", None, id="spaced-asterisks"),
    case("line one\nline two", None, id="line-break-in-body-only"),
    case("price: $5 ~ $6 | maybe", None, id="single-tilde-and-pipe"),
    case("#general is where to go", None, id="hash-without-space"),
    case(">not a quote", None, id="quote-without-space"),
    case("-#nospace", None, id="subtext-without-space"),
    case("#### too deep", None, id="four-hashes"),
    case("I love C# and F#", None, id="hash-mid-line"),
    case("ping me later, hi@example.com @ noon", None, id="at-signs"),
    case("<@abc> <#> <:no_id:> <t:abc> <@&>", None, id="malformed-tokens"),
    case("[not a link](ftp://example.com)", None, id="masked-non-http"),
    case("[x](javascript:alert(1))", None, id="masked-javascript"),
    case("ftp://files.example.com", None, id="non-http-url"),
    case("\\a \\1 \\ ", None, id="backslash-before-letter"),
    case("**unclosed bold", None, id="unclosed-bold"),
    case("`unclosed code", None, id="unclosed-code"),
    case("```unclosed fence", None, id="unclosed-fence"),
    case("> ", None, id="empty-quote"),
    case("- ", None, id="empty-list-item"),
    case("🎉🎉🎉", None, id="unicode-emoji-only"),
    case("Z̸̢̛a̵̡͝l̷̨̛g̸̢̕o̶̢͝", None, id="zalgo"),
]

FORMATTING = [
    case("**bold**", "<strong>bold</strong>", id="bold"),
    case("*italic*", "<em>italic</em>", id="italic-star"),
    case("_italic_", "<em>italic</em>", id="italic-underscore"),
    case("__underline__", "<u>underline</u>", id="underline"),
    case("~~strike~~", "<del>strike</del>", id="strike"),
    case("||spoiler||", "<span data-mx-spoiler>spoiler</span>", id="spoiler"),
    case("***bold italic***", "<em><strong>bold italic</strong></em>", id="bold-italic"),
    case("__*underlined italic*__", "<u><em>underlined italic</em></u>", id="underline-italic"),
    case("___both___", "<em><u>both</u></em>", id="triple-underscore"),
    case("~~**both**~~", "<del><strong>both</strong></del>", id="strike-bold"),
    case(
        "||the killer is **the butler**||",
        "<span data-mx-spoiler>the killer is <strong>the butler</strong></span>",
        id="spoiler-with-bold",
    ),
    case("**a** and **b**", "<strong>a</strong> and <strong>b</strong>", id="two-bolds"),
    case("*multi\nline*", "<em>multi<br>line</em>", id="italic-across-lines"),
    case("the _real_ deal", "the <em>real</em> deal", id="underscore-italic-between-words"),
    case("2*3*4", "2<em>3</em>4", id="asterisks-italicise-mid-word"),
    case("**<b>&amp;</b>**", "<strong>&lt;b&gt;&amp;amp;&lt;/b&gt;</strong>", id="bold-escapes"),
]

CODE = [
    case("`code`", "<code>code</code>", id="inline-code"),
    case(
        "`<@111> **x** <:blobcat:900>`",
        "<code>&lt;@111&gt; **x** &lt;:blobcat:900&gt;</code>",
        id="inline-code-keeps-tokens",
    ),
    case("``double `tick` code``", "<code>double `tick` code</code>", id="double-backticks"),
    case("`` `x` ``", "<code>`x`</code>", id="padded-double-backticks"),
    case(
        '```py\nprint("<hi>")\n```',
        '<pre><code class="language-py">print("&lt;hi&gt;")</code></pre>',
        id="fenced-with-language",
    ),
    case("```\nno language\n```", "<pre><code>no language</code></pre>", id="fenced-plain"),
    case("```hello world```", "<pre><code>hello world</code></pre>", id="fenced-one-line"),
    case("```py\n```", "<pre><code>py</code></pre>", id="fence-language-alone-is-code"),
    case(
        "see ```inline``` block",
        "see <pre><code>inline</code></pre> block",
        id="fence-mid-line",
    ),
    case(
        "```js\nlet a = 1;\n\nlet b = 2;\n```\nafter",
        '<pre><code class="language-js">let a = 1;\n\nlet b = 2;</code></pre>after',
        id="fence-then-text",
    ),
    case(
        "```\n<:blobcat:900> @everyone **x** > q\n# h\n```",
        "<pre><code>&lt;:blobcat:900&gt; @everyone **x** &gt; q\n# h</code></pre>",
        id="fence-keeps-everything",
    ),
]

BLOCKS = [
    case("> quoted\nreply", "<blockquote>quoted</blockquote>reply", id="quote-then-text"),
    case("> one\n> two", "<blockquote>one<br>two</blockquote>", id="quote-two-lines"),
    case(
        ">>> everything\nto the end\n> too",
        "<blockquote>everything<br>to the end<br>&gt; too</blockquote>",
        id="quote-to-end",
    ),
    case(
        "> **bold** in quote <@111>",
        f"<blockquote><strong>bold</strong> in quote {ZOE_PILL}</blockquote>",
        "> **bold** in quote @Zoë",
        id="quote-with-formatting-and-mention",
    ),
    case("> a\n> > b", "<blockquote>a<br>&gt; b</blockquote>", id="quotes-do-not-nest"),
    case("text\n> quote", "text<br><blockquote>quote</blockquote>", id="text-then-quote"),
    case("> a\n\nb", "<blockquote>a</blockquote><br>b", id="quote-blank-line-text"),
    case("# Big", "<h1>Big</h1>", id="h1"),
    case("## Medium", "<h2>Medium</h2>", id="h2"),
    case("### Small", "<h3>Small</h3>", id="h3"),
    case(
        "# **Rules** 📜\nbe nice",
        "<h1><strong>Rules</strong> 📜</h1>be nice",
        id="heading-formatting-then-text",
    ),
    case("intro\n## Part 2", "intro<br><h2>Part 2</h2>", id="heading-after-text"),
    case("-# small print", "<sub>small print</sub>", id="subtext"),
    case("> # Quoted heading", "<blockquote><h1>Quoted heading</h1></blockquote>", id="quote-h1"),
    case("- one\n- two", "<ul><li>one</li><li>two</li></ul>", id="bullets-dash"),
    case("* one\n* two", "<ul><li>one</li><li>two</li></ul>", id="bullets-star"),
    case("1. first\n2. second", "<ol><li>first</li><li>second</li></ol>", id="numbered"),
    case("3. third\n4. fourth", '<ol start="3"><li>third</li><li>fourth</li></ol>', id="ol-start"),
    case(
        "- a\n  - nested\n    - deeper\n- b",
        "<ul><li>a<ul><li>nested<ul><li>deeper</li></ul></li></ul></li><li>b</li></ul>",
        id="nested-bullets",
    ),
    case(
        "1. step\n   - detail\n2. step",
        "<ol><li>step<ul><li>detail</li></ul></li><li>step</li></ol>",
        id="bullets-in-numbered",
    ),
    case("- item\n  continued", "<ul><li>item<br>continued</li></ul>", id="item-continuation"),
    case(
        "Shopping:\n- eggs\n- *milk*\ndone",
        "Shopping:<br><ul><li>eggs</li><li><em>milk</em></li></ul>done",
        id="list-between-text",
    ),
    case(
        "- a\n1. b",
        "<ul><li>a</li></ul><ol><li>b</li></ol>",
        id="list-kind-change",
    ),
]

LINKS = [
    case(
        "[Discord](https://discord.com)",
        '<a href="https://discord.com">Discord</a>',
        id="masked",
    ),
    case(
        "[**docs** here](https://example.com/a_(b))",
        '<a href="https://example.com/a_(b)"><strong>docs</strong> here</a>',
        id="masked-formatted-with-parens",
    ),
    case(
        "[Zoë: <@111>](https://x.example)",
        '<a href="https://x.example">Zoë: @Zoë</a>',
        "[Zoë: @Zoë](https://x.example)",
        id="masked-no-pill-inside",
    ),
    case(
        "https://example.com/path?a=1&b=2",
        '<a href="https://example.com/path?a=1&amp;b=2">https://example.com/path?a=1&amp;b=2</a>',
        id="autolink",
    ),
    case(
        "check https://example.com.",
        'check <a href="https://example.com">https://example.com</a>.',
        id="autolink-trailing-dot",
    ),
    case(
        "(https://en.wikipedia.org/wiki/Foo_(bar))",
        '(<a href="https://en.wikipedia.org/wiki/Foo_(bar)">'
        "https://en.wikipedia.org/wiki/Foo_(bar)</a>)",
        id="autolink-balanced-parens",
    ),
    case(
        "https://example.com/a_b_c_ *x*",
        '<a href="https://example.com/a_b_c_">https://example.com/a_b_c_</a> <em>x</em>',
        id="autolink-underscores",
    ),
    case(
        "<https://example.com/no-embed>",
        '<a href="https://example.com/no-embed">https://example.com/no-embed</a>',
        "https://example.com/no-embed",
        id="embed-suppressed",
    ),
    case(
        "http://insecure.example",
        '<a href="http://insecure.example">http://insecure.example</a>',
        id="http",
    ),
    case(
        'https://x.example/"onmouseover="alert(1)',
        '<a href="https://x.example/&quot;onmouseover=&quot;alert(1)">'
        'https://x.example/"onmouseover="alert(1)</a>',
        id="autolink-attribute-injection",
    ),
]

ESCAPES = [
    case("\\*not italic\\*", "*not italic*", id="escaped-asterisks"),
    case("\\_\\_not underline\\_\\_", "__not underline__", id="escaped-underscores"),
    case("\\\\", "\\", id="escaped-backslash"),
    case("\\<@111>", "&lt;@111&gt;", id="escaped-mention"),
    case("\\`not code\\`", "`not code`", id="escaped-backticks"),
    case("\\# not heading", "# not heading", id="escaped-heading"),
    case("\\@everyone", "@everyone", id="escaped-everyone"),
    case("\\:smile:", ":smile:", id="escaped-colon"),
]


@pytest.mark.parametrize(
    ("text", "html", "body"), PLAIN + FORMATTING + CODE + BLOCKS + LINKS + ESCAPES
)
def test_markdown(text: str, html: str | None, body: str) -> None:
    assert discord_to_matrix(text, CTX) == Formatted(body=body, html=html)


def test_long_message_keeps_every_character() -> None:
    text = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit — ✨ " * 70)[:4000]
    assert discord_to_matrix(text, CTX) == Formatted(body=text, html=None)
