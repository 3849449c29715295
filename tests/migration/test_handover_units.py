"""The room owners in the rooms the bridge creates and syncs, and the handover reply (pure)."""

from __future__ import annotations

from dataclasses import replace

from bridge.commands.run_handover import outcome_text
from bridge.convert.d2m.room_state import creation_request, desired_state, power_levels, space_tree
from bridge.matrix.rooms import creation_power_levels, room_creators, without_implied_creator
from bridge.migration.handover import HandedRoom, HandoverOutcome
from tests.convert.sample_guild import CTX, GENERAL, SAMPLE_GUILD

BOT = "@bot:x"
OWNER = "@alice:x"
GHOST = "@discord_1:x"


def test_new_rooms_list_owners_at_100_before_version_12_and_never_from_12() -> None:
    assert creation_power_levels(BOT, {GHOST: 50}, "11", [OWNER]) == {
        GHOST: 50,
        BOT: 100,
        OWNER: 100,
    }
    assert creation_power_levels(BOT, {GHOST: 50, OWNER: 100}, "12", [OWNER]) == {GHOST: 50}


def test_existing_rooms_drop_their_creators_and_give_other_owners_100() -> None:
    desired = {"users": {GHOST: 50}, "ban": 50}
    # A version-12 room the owner created with the bot: neither is listed.
    fitted = without_implied_creator(
        {**desired, "users": {GHOST: 50, OWNER: 100}},
        BOT,
        "12",
        additional_creators=[OWNER],
        owners=[OWNER],
    )
    assert fitted == desired
    # A version-12 room made before the owner was configured: 100 until handover.
    assert without_implied_creator(desired, BOT, "12", owners=[OWNER])["users"] == {
        GHOST: 50,
        OWNER: 100,
    }
    assert without_implied_creator(desired, BOT, "10", owners=[OWNER])["users"] == {
        GHOST: 50,
        OWNER: 100,
    }
    assert without_implied_creator(desired, BOT, "10") == desired


def test_room_creators_are_the_sender_and_the_additional_creators_from_12() -> None:
    create = {"room_version": "12", "additional_creators": [OWNER]}
    assert room_creators(create, BOT) == {BOT, OWNER}
    assert room_creators({"room_version": "11"}, BOT) == set()


def test_creation_request_makes_owners_creators_from_12_and_invites_them() -> None:
    node = next(n for n in space_tree(SAMPLE_GUILD, CTX) if n.discord_id == GENERAL)
    for version, creators in (("12", [OWNER]), ("11", None)):
        ctx = replace(CTX, room_version=version, room_owners=(OWNER,))
        levels = power_levels(SAMPLE_GUILD, node, ctx)
        state = desired_state(
            SAMPLE_GUILD,
            node,
            ctx,
            parent_room_id=None,
            children={},
            guild_space_room_id=None,
            avatar_mxc=None,
            levels=levels,
        )
        body = creation_request(node, state, ctx)
        assert body["invite"] == [OWNER]
        assert body.get("creation_content", {}).get("additional_creators") == creators
        listed = body["power_level_content_override"]["users"]
        assert (OWNER in listed) is (creators is None)


def test_the_reply_says_what_was_done_per_room_and_what_owners_can_do() -> None:
    outcome = HandoverOutcome(
        1,
        "Guild",
        (OWNER,),
        (
            HandedRoom("Guild", "!a", "12", "upgrade", "!b"),
            HandedRoom("lounge", "!c", "10", "power"),
            HandedRoom("news", "!d", "12", "done", earlier="upgrade"),
        ),
    )
    text = outcome_text(outcome, "x")
    assert "**Guild**: upgraded to a new room (version 12)" in text
    assert "https://matrix.to/#/!b?via=x" in text
    assert "**lounge**: the owners got power level 100 (room version 10)" in text
    assert "**news**: handed over before (upgraded), nothing to do" in text
    assert "they have every power" in text and "power levels up to 100" in text
