"""Link codes (pure): their shape, what typing one accepts, the verdict on a stored code, the
guess limit, and the texts both sides show."""

from __future__ import annotations

import hashlib

import pytest

from bridge.commands.run_link import not_here_reply
from bridge.commands.run_link import refusal_reply as matrix_refusal
from bridge.discord import link_replies
from bridge.migration import codes
from bridge.migration.codes import GuessLimit, Verdict
from bridge.migration.linking import IssuedCode, LinkRefused, Refusal
from bridge.permissions import Level

NOW = 1_800_000_000_000


def test_codes_are_8_unambiguous_characters_shown_with_a_dash() -> None:
    made = {codes.new_code() for _ in range(200)}
    assert len(made) == 200
    for code in made:
        assert len(code) == 8 and set(code) <= set(codes.ALPHABET)
    assert not set("01OIL") & set(codes.ALPHABET)
    assert codes.shown("ABCDEFGH") == "ABCD-EFGH"


@pytest.mark.parametrize(
    "typed", ["ABCD-EFGH", "abcd-efgh", "  AbCdEfGh  ", "abcd efgh", "ABCD - EFGH\n"]
)
def test_typing_is_forgiving_about_case_dash_and_spaces(typed: str) -> None:
    assert codes.normalise(typed) == "ABCDEFGH"


@pytest.mark.parametrize(
    "typed", ["", "ABCD-EFG", "ABCD-EFGHJ", "ABCD-EFG0", "ABCD_EFGH", "OOOOIIII"]
)
def test_anything_else_is_not_a_code(typed: str) -> None:
    assert codes.normalise(typed) is None


def test_only_the_hash_is_stored_and_the_code_lives_15_minutes() -> None:
    row = codes.new_row("ABCDEFGH", "discord", NOW, discord_user_id=42, mxid="@x:y")
    assert row.code_hash == hashlib.sha256(b"ABCDEFGH").hexdigest()
    assert "ABCDEFGH" not in repr(row)
    assert (row.issued_on, row.discord_user_id, row.mxid) == ("discord", 42, None)
    assert row.expires_at - row.created_at == 15 * 60 * 1000 and row.used_at is None
    matrix = codes.new_row("ABCDEFGH", "matrix", NOW, mxid="@x:y")
    assert (matrix.discord_user_id, matrix.mxid) == (None, "@x:y")
    with pytest.raises(ValueError):
        codes.new_row("ABCDEFGH", "matrix", NOW, discord_user_id=42)
    with pytest.raises(ValueError):
        codes.new_row("ABCDEFGH", "irc", NOW, mxid="@x:y")


def test_the_verdict_on_a_stored_code() -> None:
    row = codes.new_row("ABCDEFGH", "discord", NOW, discord_user_id=42)
    assert codes.judge(None, "matrix", NOW) is Verdict.UNKNOWN
    assert codes.judge(row, "matrix", NOW) is Verdict.VALID
    assert codes.judge(row, "matrix", row.expires_at - 1) is Verdict.VALID
    assert codes.judge(row, "discord", NOW) is Verdict.WRONG_SIDE
    assert codes.judge(row, "matrix", row.expires_at) is Verdict.EXPIRED
    row.used_at = NOW + 1
    assert codes.judge(row, "matrix", NOW + 2) is Verdict.USED
    assert codes.judge(row, "matrix", row.expires_at + 1) is Verdict.USED  # used says more


def test_five_wrong_codes_hold_a_sender_back_until_the_oldest_is_15_minutes_old() -> None:
    limit, window = GuessLimit(), 15 * 60 * 1000
    for minute in range(5):
        assert limit.wait_ms("matrix:@a:b", NOW + minute * 60_000) == 0
        limit.wrong("matrix:@a:b", NOW + minute * 60_000)
    assert limit.wait_ms("matrix:@a:b", NOW + 5 * 60_000) == window - 5 * 60_000
    assert limit.wait_ms("discord:1", NOW + 5 * 60_000) == 0  # per sender
    assert limit.wait_ms("matrix:@a:b", NOW + window) == 0  # the first wrong one aged out
    limit.wrong("matrix:@a:b", NOW + window)
    assert limit.wait_ms("matrix:@a:b", NOW + window) == 60_000
    assert limit.wait_ms("matrix:@a:b", NOW + 3 * window) == 0
    assert "matrix:@a:b" not in limit._wrong  # forgotten once nothing is recent


def test_every_refusal_has_its_own_text_on_both_sides() -> None:
    bot = "@discordbot:example.com"
    texts = set()
    for refusal in Refusal:
        refused = LinkRefused(refusal, other="@m:example.com", wait_ms=61_000)
        on_discord = link_replies.refusal_reply(refused, "abcd-efgh", bot, "!discord")
        refused = LinkRefused(refusal, other=None, wait_ms=61_000)
        on_matrix = matrix_refusal(refused, "abcd-efgh", None, "unlink").markdown
        texts |= {on_discord, on_matrix}
    assert len(texts) == 2 * len(Refusal)
    wrong_side = link_replies.refusal_reply(
        LinkRefused(Refusal.WRONG_SIDE), " abcd efgh", bot, "!discord"
    )
    assert f"`link ABCD-EFGH` to `{bot}`" in wrong_side
    too_many = matrix_refusal(LinkRefused(Refusal.TOO_MANY, wait_ms=61_000), "", None, "unlink")
    assert "try again in 2 minutes" in too_many.markdown


def test_the_discord_code_reply_says_exactly_what_to_send_and_to_whom() -> None:
    text = link_replies.code_reply(
        IssuedCode("ABCD-EFGH", NOW + 900_000), "@discordbot:example.com", "!discord"
    )
    assert "send `link ABCD-EFGH` to `@discordbot:example.com` in a direct chat" in text
    assert "`!discord link ABCD-EFGH`" in text
    assert f"<t:{(NOW + 900_000) // 1000}:R>" in text


def test_a_code_for_discord_is_never_shown_outside_a_direct_chat() -> None:
    relay = not_here_reply(Level.RELAY, "@bot:x", "!discord").markdown
    user = not_here_reply(Level.USER, "@bot:x", "!discord").markdown
    assert "only in a direct chat" in relay and "`!discord link CODE`" in relay
    assert "direct chat with me (@bot:x)" in user and "direct chat with me (" not in relay
