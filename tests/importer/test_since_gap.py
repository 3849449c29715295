"""An unfinished import resumed with a later ``--since`` is refused (it would leave a gap)."""

from __future__ import annotations

from datetime import UTC, datetime

import discord
import pytest

from bridge.db.rows import ImportCheckpointRow
from bridge.importer.engine import ImportRefused, refuse_gap

STOPPED = discord.utils.time_snowflake(datetime(2024, 3, 1, 12, 0, tzinfo=UTC))


def since(year: int, month: int = 1) -> int:
    return discord.utils.time_snowflake(datetime(year, month, 1, tzinfo=UTC))


def test_a_later_since_than_where_the_import_stopped_is_refused() -> None:
    checkpoint = ImportCheckpointRow(7, last_message_id=STOPPED, imported_count=522)
    with pytest.raises(ImportRefused, match="stopped at a message of 2024-03-01 12:00 UTC"):
        refuse_gap(7, checkpoint, since(2099))


def test_an_earlier_since_no_since_or_a_fresh_checkpoint_go_on() -> None:
    checkpoint = ImportCheckpointRow(7, last_message_id=STOPPED, imported_count=522)
    refuse_gap(7, checkpoint, since(2024, 2))  # what it skips was sent already
    refuse_gap(7, checkpoint, None)
    refuse_gap(7, ImportCheckpointRow(7), since(2099))  # nothing sent yet: no gap
