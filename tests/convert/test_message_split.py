"""Messages too long for one Matrix event: split on the source's own line breaks."""

from __future__ import annotations

import pytest

from bridge.convert.d2m.message import convert_message
from bridge.convert.d2m.split import MAX_CONTENT_BYTES, content_size, split_source
from bridge.convert.message_model import EmbedSnapshot, MentionSnapshot

from .message_samples import BOB, BOB_MXID, context, message


def _fences_balanced(text: str) -> bool:
    return sum(line.count("```") for line in text.split("\n")) % 2 == 0


def test_short_text_is_one_piece() -> None:
    assert split_source("one\n\ntwo", 100) == ["one\n\ntwo"]


def test_pieces_end_on_paragraph_breaks_when_they_can() -> None:
    text = "\n\n".join(f"paragraph {i} " + "word " * 10 for i in range(6))
    pieces = split_source(text, 150)
    assert len(pieces) > 1
    assert all(piece.startswith("paragraph") for piece in pieces)
    assert "\n\n".join(pieces) == text


def test_a_code_block_cut_in_two_is_closed_and_reopened() -> None:
    code = "\n".join(f"    line_{i} = {i}" for i in range(60))
    text = f"before\n```python\n{code}\n```\nafter"
    pieces = split_source(text, 300)
    assert len(pieces) > 2
    for piece in pieces:
        assert _fences_balanced(piece), piece
    for piece in pieces[1:-1]:
        assert piece.startswith("```python\n") and piece.endswith("\n```")
    # Every line of the source is kept, in order.
    kept = [line for piece in pieces for line in piece.split("\n") if line.startswith("    ")]
    assert kept == code.split("\n")


@pytest.mark.parametrize("limit", [20, 100])
def test_a_line_longer_than_the_limit_is_cut_at_spaces(limit: int) -> None:
    text = " ".join(["word"] * 100)
    pieces = split_source(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    assert "".join(pieces) == text


def test_a_huge_message_becomes_several_text_events_that_each_fit() -> None:
    paragraphs = [f"Paragraph {i}: " + "lorem ipsum **dolor** sit amet " * 40 for i in range(120)]
    code = "```js\n" + "\n".join(f"console.log({i});" for i in range(3000)) + "\n```"
    content = (
        "\n\n".join(paragraphs[:60])
        + f"\n\n<@{BOB.id}> look:\n{code}\n\n"
        + "\n\n".join(paragraphs[60:])
    )
    embed = EmbedSnapshot(title="Attached report", description="summary")
    msg = message(content=content, embeds=(embed,), mentions=(MentionSnapshot(BOB.id, "Bob"),))
    parts = convert_message(msg, context())
    assert len(parts) >= 3
    assert [part.kind for part in parts] == ["text"] + [
        f"text:{i}" for i in range(2, len(parts) + 1)
    ]
    for part in parts:
        assert content_size(part.content) <= MAX_CONTENT_BYTES
        assert _fences_balanced(part.content["body"])
    bodies = "\n".join(part.content["body"] for part in parts)
    assert all(f"Paragraph {i}:" in bodies for i in range(120))
    assert all(f"console.log({i});" in bodies for i in range(3000))
    assert "Attached report" in parts[-1].content["body"]  # the embed follows the content
    # The mention pings from the part that shows it, once.
    pinging = [part for part in parts if part.content["m.mentions"].get("user_ids")]
    assert len(pinging) == 1 and pinging[0].content["m.mentions"]["user_ids"] == [BOB_MXID]
    assert f"<@{BOB.id}>" not in pinging[0].content["body"]
