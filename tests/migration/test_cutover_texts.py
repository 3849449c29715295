"""The cut-over's texts (pure): the announcement within Discord's 2000 characters, the refusal
naming each channel and permission, the replies' counts and how to go on."""

from __future__ import annotations

from bridge.migration.cutover_text import (
    CutoverOutcome,
    Problem,
    UndoOutcome,
    announcement,
    cutover_reply,
    refusal,
    undo_reply,
)

ALIAS = "#discord_42:example.org"


def test_the_announcement_says_where_and_how_and_fits_discord() -> None:
    text = announcement("Fish_and *Chips*", ALIAS, "example.org", read_only=False)
    assert text.startswith("📢 **Fish\\_and \\*Chips\\* is moving to Matrix.**\n\nOur space")
    assert f"<https://matrix.to/#/{ALIAS}>" in text and f"join `{ALIAS}`" in text
    assert "stays bridged" in text and "read-only" not in text
    room_id = announcement("G", "!space:example.org", "example.org", read_only=True)
    assert "<https://matrix.to/#/!space:example.org?via=example.org>" in room_id
    assert "now **read-only** on Discord" in room_id
    long = announcement("G", ALIAS, "example.org", read_only=True, message="x" * 3000)
    assert len(long) == 2000 and long.endswith("…")


def test_the_refusal_names_channels_permissions_and_the_command_again() -> None:
    problems = [
        Problem(1, "news", ("Manage Permissions (Manage Roles)", "Manage Channels")),
        Problem(2, "rules", ("Pin Messages",)),
    ]
    text = refusal("Guild", 42, problems, "cutover 42 --read-only")
    assert text.startswith("Cut-over of **Guild** (42) refused; nothing was changed.")
    assert "in 2 channels:\n\n- **#news** (1): Manage Permissions (Manage Roles), Manage " in text
    assert "- **#rules** (2): Pin Messages\n" in text
    assert text.endswith("then send `cutover 42 --read-only` again.")


def test_replies_count_and_say_how_to_go_on() -> None:
    failed = CutoverOutcome(
        42,
        "Guild",
        ALIAS,
        "example.org",
        True,
        1,
        1,
        1,
        read_only_now=1,
        failures=("**#news**: Discord answered 403 Forbidden",),
    )
    text = cutover_reply(failed, "cutover 42 --read-only", "cutover 42 --undo")
    assert text.startswith(
        "Cut over **Guild** (42) to Matrix: announcement posted in 1 channel, pinned in 1; "
        "1 channel made read-only for @everyone"
    )
    assert "⚠️ Not done in 1 channel:\n\n- **#news**: Discord answered 403 Forbidden" in text
    assert "Send `cutover 42 --read-only` again to finish" in text
    assert text.endswith("`cutover 42 --undo`.")
    plain = cutover_reply(CutoverOutcome(42, "Guild", ALIAS, "example.org", False, 2, 2), "c", "u")
    assert "read-only" not in plain.split("\n")[0] and "remembered" not in plain
    gone = undo_reply(UndoOutcome(42, "Guild", 2, 0, 1, gone=("channel 7",)), "u")
    assert gone.startswith("Undid the cut-over of **Guild** (42): @everyone's permissions ")
    assert "(2 overwrites put back as before, 0 removed" in gone
    assert "Deleted on Discord since, nothing to restore: channel 7." in gone
