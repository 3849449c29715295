"""Edit and delete plans: which sent events to replace, redact, and which to send."""

from __future__ import annotations

from bridge.convert.d2m.context import ThreadTarget
from bridge.convert.d2m.message import (
    EditPlan,
    ExistingPart,
    MatrixPart,
    delete_plan,
    edit_plan,
)
from bridge.convert.message_model import StickerFormat, StickerSnapshot

from .message_samples import attachment, context, message, uploaded

CAT = attachment(1, "cat.png", "image/png")
DOG = attachment(2, "dog.png", "image/png")
STICKER = StickerSnapshot(
    3, "wave", StickerFormat.PNG, "https://media.discordapp.net/stickers/3.png"
)
MEDIA = uploaded(1, 2, 3)


def sent(*kinds: str) -> list[ExistingPart]:
    """Existing events of the kinds given, event ids "$<kind>"."""
    return [
        ExistingPart(
            part=index,
            kind=kind,
            event_id=f"${kind}",
            event_type="m.sticker" if kind.startswith("sticker:") else "m.room.message",
        )
        for index, kind in enumerate(kinds)
    ]


def test_changed_text_is_an_m_replace_edit() -> None:
    plan = edit_plan(message(content="new **text**"), sent("text"), context())
    [(event_id, edit)] = plan.replace
    assert event_id == "$text"
    assert (plan.redact, plan.send) == ([], [])
    content = edit.content
    assert content["body"] == "* new **text**"
    assert content["formatted_body"].startswith("* ")
    assert content["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$text"}
    new = content["m.new_content"]
    assert new["body"] == "new **text**"
    assert "<strong>text</strong>" in new["formatted_body"]
    assert "m.relates_to" not in new
    assert content["m.mentions"] == {}  # an edit pings nobody again


def test_thread_relation_stays_out_of_the_edit() -> None:
    ctx = context(thread=ThreadTarget("$root", "$latest"))
    plan = edit_plan(message(content="edited"), sent("text"), ctx)
    [(_, edit)] = plan.replace
    assert edit.content["m.relates_to"]["rel_type"] == "m.replace"
    assert "m.relates_to" not in edit.content["m.new_content"]


def test_removed_attachment_is_redacted_and_kept_files_are_left_alone() -> None:
    new = message(content="two pets", attachments=(CAT,))
    plan = edit_plan(new, sent("text", "attachment:1", "attachment:2"), context(media=MEDIA))
    assert [event_id for event_id, _ in plan.replace] == ["$text"]
    assert plan.redact == ["$attachment:2"]
    assert plan.send == []


def test_added_attachment_is_sent() -> None:
    new = message(content="pets", attachments=(CAT, DOG))
    plan = edit_plan(new, sent("text", "attachment:1"), context(media=MEDIA))
    assert [part.kind for part in plan.send] == ["attachment:2"]
    assert plan.redact == []


def test_text_removed_is_redacted_text_added_is_sent() -> None:
    gone = edit_plan(
        message(attachments=(CAT,)), sent("text", "attachment:1"), context(media=MEDIA)
    )
    assert gone == EditPlan(replace=[], redact=["$text"], send=[])
    added = edit_plan(
        message(content="hi", attachments=(CAT,)), sent("attachment:1"), context(media=MEDIA)
    )
    assert [part.kind for part in added.send] == ["text"]


def test_stickers_never_change() -> None:
    new = message(content="edited", stickers=(STICKER,))
    plan = edit_plan(new, sent("text", "sticker:3"), context(media=MEDIA))
    assert [event_id for event_id, _ in plan.replace] == ["$text"]
    assert plan.redact == [] and plan.send == []


def test_a_caption_is_edited_on_its_media_event() -> None:
    new = message(content="new caption", attachments=(CAT,))
    plan = edit_plan(new, sent("attachment:1"), context(media=MEDIA), captions=True)
    [(event_id, edit)] = plan.replace
    assert event_id == "$attachment:1"
    assert edit.content["body"] == "* new caption"
    assert edit.content["m.new_content"]["body"] == "new caption"
    assert edit.content["m.new_content"]["url"] == "mxc://example.org/media1"
    assert edit.content["m.new_content"]["filename"] == "cat.png"


def test_caption_mode_removing_the_second_file_moves_the_text_into_the_caption() -> None:
    new = message(content="just the cat", attachments=(CAT,))
    plan = edit_plan(
        new, sent("text", "attachment:1", "attachment:2"), context(media=MEDIA), captions=True
    )
    assert [event_id for event_id, _ in plan.replace] == ["$attachment:1"]
    assert sorted(plan.redact) == ["$attachment:2", "$text"]


def test_event_type_change_is_redact_and_send() -> None:
    existing = [ExistingPart(0, "text", "$old", "m.sticker")]
    plan = edit_plan(message(content="x"), existing, context())
    assert plan.redact == ["$old"]
    assert [part.kind for part in plan.send] == ["text"]


def test_unchanged_message_still_replaces_same_kinds() -> None:
    """Whether an identical edit is worth sending is the action's business."""
    plan = edit_plan(message(content="same"), sent("text"), context())
    [(_, edit)] = plan.replace
    assert isinstance(edit, MatrixPart) and edit.content["m.new_content"]["body"] == "same"


def test_delete_plan_redacts_every_part_in_order() -> None:
    existing = list(reversed(sent("text", "attachment:1", "sticker:3")))
    assert delete_plan(existing) == ["$text", "$attachment:1", "$sticker:3"]
    assert delete_plan([]) == []
