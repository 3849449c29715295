"""Splitting long Discord text: boundaries, code blocks kept whole on each side, limits."""

from __future__ import annotations

import re

import pytest

from bridge.convert.m2d.split import split_for_discord


def non_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


def fences_balanced(piece: str) -> bool:
    return piece.count("```") % 2 == 0


def test_short_text_is_one_piece() -> None:
    assert split_for_discord("hello\n\nworld") == ["hello\n\nworld"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_nothing_to_send(text: str) -> None:
    assert split_for_discord(text) == []


def test_exactly_the_limit_is_one_piece() -> None:
    assert split_for_discord("x" * 2000) == ["x" * 2000]


def test_paragraphs_preferred() -> None:
    first, second = "a" * 1500, "b " * 400
    assert split_for_discord(f"{first}\n\n{second}") == [first, second]


def test_lines_when_no_paragraph() -> None:
    lines = [f"line {n} " + "x" * 90 for n in range(40)]
    pieces = split_for_discord("\n".join(lines))
    assert all(len(piece) <= 2000 for piece in pieces)
    assert "\n".join(pieces) == "\n".join(lines)  # every cut was at a line break


def test_words_when_no_line() -> None:
    words = " ".join(f"word{n}" for n in range(1000))
    pieces = split_for_discord(words)
    assert len(pieces) > 1 and all(len(piece) <= 2000 for piece in pieces)
    assert " ".join(pieces) == words


def test_one_huge_word() -> None:
    word = "y" * 5000
    assert split_for_discord(word) == ["y" * 2000, "y" * 2000, "y" * 1000]


def test_hard_cut_keeps_escapes_whole() -> None:
    text = "a" * 1999 + "\\*" + "b" * 100
    first, second = split_for_discord(text)
    assert first == "a" * 1999 and second.startswith("\\*")


def test_code_block_across_the_limit() -> None:
    code = "\n".join(f"print({n})  # {'z' * 40}" for n in range(100))
    text = f"intro\n```py\n{code}\n```\noutro"
    pieces = split_for_discord(text)
    assert len(pieces) > 1
    for piece in pieces:
        assert len(piece) <= 2000
        assert fences_balanced(piece), piece
    assert pieces[0].startswith("intro\n```py\n") and pieces[0].endswith("\n```")
    assert all(piece.startswith("```py\n") for piece in pieces[1:])
    assert pieces[-1].endswith("```\noutro")
    # No code line is lost or cut: each piece's code lines, in order, give back the code.
    lines = [line for piece in pieces for line in piece.split("\n") if line.startswith("print(")]
    assert "\n".join(lines) == code


def test_code_indentation_kept_at_a_cut() -> None:
    code = "\n".join(f"    indented_{n} = {'q' * 50}" for n in range(60))
    pieces = split_for_discord(f"```\n{code}\n```")
    assert all(piece.startswith("```\n    indented_") for piece in pieces)


def test_long_line_in_code_block() -> None:
    pieces = split_for_discord("```\n" + "c" * 5000 + "\n```")
    assert all(len(piece) <= 2000 and fences_balanced(piece) for piece in pieces)
    assert (
        non_space("".join(p.removeprefix("```").removesuffix("```") for p in pieces)) == "c" * 5000
    )


def test_unclosed_code_block() -> None:
    pieces = split_for_discord("```js\n" + "let a = 1;\n" * 400)
    assert all(len(piece) <= 2000 for piece in pieces)
    assert all(piece.startswith("```js\n") for piece in pieces)


def test_cut_right_before_closing_fence_leaves_no_empty_block() -> None:
    text = "```\n" + "d" * 1990 + "\n```\n" + "after " * 10
    pieces = split_for_discord(text)
    assert all(len(piece) <= 2000 and fences_balanced(piece) for piece in pieces)
    assert "```\n```" not in "".join(pieces)
    assert pieces[-1].strip().endswith("after")


def test_never_cuts_inside_a_fence() -> None:
    text = "w" * 1998 + "```python\ncode\n```"
    first, second = split_for_discord(text)
    assert first == "w" * 1998 and second == "```python\ncode\n```"


@pytest.mark.parametrize("limit", [64, 100, 333, 2000])
def test_nothing_lost_and_limit_kept(limit: int) -> None:
    text = (
        "Para **one** with words.\n\n" * 20
        + "```sql\nSELECT *\nFROM t\nWHERE x = 1;\n```\n" * 10
        + "- item\n  - nested\n" * 30
    )
    pieces = split_for_discord(text, limit)
    assert all(0 < len(piece) <= limit for piece in pieces)
    assert all(fences_balanced(piece) for piece in pieces)
    fences = re.compile(r"```(sql)?")
    assert fences.sub("", non_space("".join(pieces))) == fences.sub("", non_space(text))


def test_limit_too_small() -> None:
    with pytest.raises(ValueError):
        split_for_discord("x" * 100, 10)
