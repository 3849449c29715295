"""Discord edit times at full precision: two edits within the same millisecond are two edits
(with two transaction ids); the same edit seen again is one."""

from __future__ import annotations

import discord
import pytest

from bridge.actions.d2m.messages import edit_txn_id, is_new_edit
from bridge.convert.message_model import MessageSnapshot
from bridge.convert.model import UserSnapshot
from bridge.discord.message_snapshots import micros

FIRST = "2026-11-30T07:00:12.250100+00:00"
SECOND = "2026-11-30T07:00:12.250900+00:00"
FIRST_US = 1_796_022_012_250_100
SECOND_US = 1_796_022_012_250_900


def test_discord_timestamps_keep_their_microseconds() -> None:
    assert micros(discord.utils.parse_time(FIRST)) == FIRST_US
    assert micros(discord.utils.parse_time(SECOND)) == SECOND_US
    assert micros(discord.utils.parse_time("2026-11-30T07:00:12+00:00")) == 1_796_022_012_000_000


@pytest.mark.parametrize(
    ("last_us", "edited_us", "new"),
    [
        (None, FIRST_US, True),  # the first edit
        (FIRST_US, SECOND_US, True),  # a second edit in the same millisecond
        (SECOND_US, SECOND_US, False),  # the same edit again (replayed, caught up)
        (SECOND_US, FIRST_US, False),  # an older edit replayed late
        (1_796_022_012_250_000, SECOND_US, True),  # a time kept in ms before 0006
    ],
)
def test_is_new_edit(last_us: int | None, edited_us: int, new: bool) -> None:
    assert is_new_edit(last_us, edited_us) is new


def test_each_edit_has_its_own_transaction_ids() -> None:
    assert edit_txn_id(5, FIRST_US, 0) != edit_txn_id(5, SECOND_US, 0)
    assert edit_txn_id(5, SECOND_US, 0) == edit_txn_id(5, SECOND_US, 0)
    assert edit_txn_id(5, SECOND_US, 0) != edit_txn_id(5, SECOND_US, 1)


def snapshot(edited_ms: int | None = None, edited_us: int | None = None) -> MessageSnapshot:
    author = UserSnapshot(id=1, username="alice")
    return MessageSnapshot(
        id=9,
        channel_id=2,
        author=author,
        ghost_id="1",
        timestamp_ms=0,
        edited_ms=edited_ms,
        edited_us=edited_us,
    )


def test_edit_time_in_microseconds() -> None:
    assert snapshot(edited_ms=1_796_022_012_250, edited_us=SECOND_US).edit_time_us == SECOND_US
    # An export's edit time has milliseconds only.
    assert snapshot(edited_ms=1_796_022_012_250).edit_time_us == 1_796_022_012_250_000
    assert snapshot().edit_time_us is None
