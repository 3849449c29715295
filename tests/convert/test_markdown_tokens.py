"""Mentions, custom emoji and timestamps in Discord text; what the action looks up; robustness."""

from __future__ import annotations

import random
from html.parser import HTMLParser

import pytest

from bridge.convert.d2m import markdown
from bridge.convert.d2m.context import ChannelTarget, MessageContext, RoleTarget
from bridge.convert.d2m.markdown import (
    Formatted,
    custom_emoji_in,
    discord_to_matrix,
    mentioned_channel_ids,
    mentioned_role_ids,
    mentioned_user_ids,
)

from .markdown_context import BLOBCAT, CTX, ROOM_CTX, ZOE_PILL

NEUTRAL_ROOM = "@\u2060room"


def case(text: str, body: str, html: str | None, *, id: str) -> object:
    return pytest.param(text, body, html, id=id)


MENTIONS = [
    case("hey <@111>", "hey @Zoë", f"hey {ZOE_PILL}", id="user"),
    case("<@!111>", "@Zoë", ZOE_PILL, id="user-nickname-form"),
    case(
        "<@333>",
        "@alice:example.org",
        '<a href="https://matrix.to/#/@alice:example.org">@alice:example.org</a>',
        id="user-without-name",
    ),
    case("<@222>", "@NoGhost", None, id="user-without-mxid"),
    case("<@444> hi", "@unknown-user hi", None, id="user-unknown"),
    case("<@666>", NEUTRAL_ROOM, None, id="user-named-room-is-inert"),
    case("<@&555>", "@Moderators", '<font color="#3498db">@Moderators</font>', id="role"),
    case("<@&556>", "@Members", None, id="role-without-color"),
    case("<@&999>", "@unknown-role", None, id="role-unknown"),
    case(
        "see <#777>",
        "see #general",
        'see <a href="https://matrix.to/#/!gen:example.org?via=example.org">#general</a>',
        id="channel-bridged",
    ),
    case(
        "<#778>",
        "#rules",
        '<a href="https://matrix.to/#/#rules:example.org">#rules</a>',
        id="channel-with-alias",
    ),
    case("<#779>", "#staff", None, id="channel-unbridged"),
    case("<#999>", "#unknown", None, id="channel-unknown"),
    case("use </ban user:1234567890>", "use /ban user", None, id="slash-command"),
    case("<id:customize>", "Channels & Roles", None, id="guild-navigation"),
    case("@everyone wake up", "@everyone wake up", None, id="everyone-not-allowed"),
    case("@here", "@here", None, id="here-not-allowed"),
    case("meet @room", "meet " + NEUTRAL_ROOM, None, id="literal-room-inert"),
    case("@ROOM", "@\u2060ROOM", None, id="literal-room-any-case"),
]

EMOJI = [
    case("<:blobcat:900>", ":blobcat:", BLOBCAT, id="known"),
    case(
        "<a:party:901>",
        ":party:",
        '<img data-mx-emoticon src="mxc://example.org/party" alt=":party:" title=":party:"'
        ' height="32">',
        id="animated",
    ),
    case("<:nope:902>", ":nope:", None, id="unknown"),
    case(
        "nice <:blobcat:900><:blobcat:900> 🎉",
        "nice :blobcat::blobcat: 🎉",
        f"nice {BLOBCAT}{BLOBCAT} 🎉",
        id="repeated-with-unicode",
    ),
    case(
        "**<:blobcat:900>**",
        "**:blobcat:**",
        f"<strong>{BLOBCAT}</strong>",
        id="inside-bold",
    ),
]

T = 1700000000  # Tuesday 2023-11-14 22:13:20 UTC
TIMESTAMPS = [
    case(f"<t:{T}>", "2023-11-14 22:13 UTC", None, id="default"),
    case(f"<t:{T}:t>", "22:13 UTC", None, id="short-time"),
    case(f"<t:{T}:T>", "22:13:20 UTC", None, id="long-time"),
    case(f"<t:{T}:d>", "2023-11-14", None, id="short-date"),
    case(f"<t:{T}:D>", "14 November 2023", None, id="long-date"),
    case(f"<t:{T}:f>", "2023-11-14 22:13 UTC", None, id="short-date-time"),
    case(f"<t:{T}:F>", "Tuesday, 14 November 2023 22:13 UTC", None, id="long-date-time"),
    case(f"<t:{T}:R>", "2023-11-14 22:13 UTC", None, id="relative-as-absolute"),
    case("<t:-86400:d>", "1969-12-31", None, id="before-epoch"),
    case("<t:99999999999999999>", "<t:99999999999999999>", None, id="out-of-range"),
    case(
        f"**Event** at <t:{T}:F>",
        "**Event** at Tuesday, 14 November 2023 22:13 UTC",
        "<strong>Event</strong> at Tuesday, 14 November 2023 22:13 UTC",
        id="in-formatted-text",
    ),
]


@pytest.mark.parametrize(("text", "body", "html"), MENTIONS + EMOJI + TIMESTAMPS)
def test_tokens(text: str, body: str, html: str | None) -> None:
    assert discord_to_matrix(text, CTX) == Formatted(body=body, html=html)


@pytest.mark.parametrize("allowed", [True, False])
@pytest.mark.parametrize("author_may", [True, False])
def test_room_mention_needs_config_and_permission(allowed: bool, author_may: bool) -> None:
    ctx = ROOM_CTX if allowed else CTX
    result = discord_to_matrix(
        "@everyone @here `@everyone`", ctx, author_can_mention_everyone=author_may
    )
    if allowed and author_may:
        assert result == Formatted("@room @room `@everyone`", "@room @room <code>@everyone</code>")
    else:
        assert result.body == "@everyone @here `@everyone`"
        assert "@room" not in result.body


def test_deliberate_room_mention_keeps_typed_room_inert() -> None:
    result = discord_to_matrix("@everyone not @room", ROOM_CTX, author_can_mention_everyone=True)
    assert result == Formatted(body="@room not " + NEUTRAL_ROOM, html=None)


def test_mentions_in_quotes_and_lists_replace_the_right_characters() -> None:
    text = "> hi <@111>\n>    and <#777>\n- <@&555> <:blobcat:900>\n  more <@222>"
    assert discord_to_matrix(text, CTX).body == (
        "> hi @Zoë\n>    and #general\n- @Moderators :blobcat:\n  more @NoGhost"
    )


def test_lookups_skip_code_and_escapes_and_repeat_nothing() -> None:
    text = (
        "<@1> <@!2> <@1> `<@3>` \\<@4> <@&5> <@&5> <#6> ```\n<#7>\n``` "
        "<:a:8> <a:b:9> <:a:8> `<:c:10>` > <#11>"
    )
    assert mentioned_user_ids(text) == [1, 2]
    assert mentioned_role_ids(text) == [5]
    assert mentioned_channel_ids(text) == [6, 11]
    assert custom_emoji_in(text) == [(8, "a", False), (9, "b", True)]


def test_lookups_find_tokens_in_quotes_links_and_lists() -> None:
    text = "> <@1>\n- <:x:2>\n[<@3>](https://example.com)\n>>> ||<#4>||"
    assert mentioned_user_ids(text) == [1, 3]
    assert custom_emoji_in(text) == [(2, "x", False)]
    assert mentioned_channel_ids(text) == [4]


ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "font", "h1", "h2", "h3",
    "img", "li", "ol", "pre", "span", "strong", "sub", "u", "ul",
}  # fmt: skip


class _TagCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)


FUZZ_PIECES = [
    "*", "**", "_", "__", "~~", "||", "`", "```", "```py\n", "\\", "\n", " ", "  ", "> ", ">>> ",
    "# ", "-# ", "- ", "1. ", "[", "](", ")", "<", ">", "https://x.example/", "<https://y.example>",
    "<@111>", "<@!2>", "<@&555>", "<#777>", "<:blobcat:900>", "<a:p:901>", "<t:1700000000:R>",
    "</cmd:1>", "@everyone", "@here", "@room", "&", '"', "a", "word", "é", "🎉", "\u0301", "<t:",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
def test_random_text_never_raises_and_stays_safe(seed: int) -> None:
    """Internal conversion (no safety net) on random markdown soup."""
    rng = random.Random(seed)
    for _ in range(500):
        text = "".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(0, 40)))
        result = markdown._convert(text, CTX, allow_room=False)
        assert NEUTRAL_ROOM in result.body or "@room" not in result.body.lower()
        if result.html is not None:
            checker = _TagCheck()
            checker.feed(result.html)
            assert checker.tags <= ALLOWED_TAGS, text
        custom_emoji_in(text)
        mentioned_user_ids(text)


def test_names_are_escaped() -> None:
    ctx = MessageContext(
        domain="example.org",
        user_mxids={1: '@x:example.org"><script>'},
        user_names={1: "<img src=x onerror=alert(1)>"},
        roles={2: RoleTarget("<b>&", 0xFF)},
        channels={3: ChannelTarget('"><i>', "!r:example.org")},
    )
    result = discord_to_matrix("<@1> <@&2> <#3>", ctx)
    assert result.html == (
        '<a href="https://matrix.to/#/@x:example.org%22%3E%3Cscript%3E">'
        "&lt;img src=x onerror=alert(1)&gt;</a> "
        '<font color="#0000ff">@&lt;b&gt;&amp;</font> '
        '<a href="https://matrix.to/#/!r:example.org?via=example.org">#"&gt;&lt;i&gt;</a>'
    )
    assert result.body == '@<img src=x onerror=alert(1)> @<b>& #"><i>'


def test_a_failure_inside_shows_the_text_as_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> Formatted:
        raise RuntimeError("bug")

    monkeypatch.setattr(markdown, "_convert", broken)
    assert discord_to_matrix("**hi** @room", CTX) == Formatted("**hi** " + NEUTRAL_ROOM, None)


def test_hostile_nesting_is_shown_not_crashed() -> None:
    for text in ("||" * 3000, "**" * 3000, "[" * 2000 + "](https://x)" * 10, "> - " * 1000):
        result = markdown._convert(text, CTX, allow_room=False)
        assert result.body == text
