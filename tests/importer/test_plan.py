"""The dry run's report: counts per channel, a total, a duration that is never "0.0 minutes"."""

from __future__ import annotations

import pytest

from bridge.importer.plan import ChannelPlan, duration_text, plan_report, size_text


@pytest.mark.parametrize(
    ("events", "text"),
    [
        (0, "nothing to send"),
        (1, "under a minute"),
        (40, "under a minute"),
        (1199, "under a minute"),
        (1200, "about 1 minute"),
        (1201, "about 2 minutes"),
        (20 * 60 * 59, "about 59 minutes"),
        (20 * 60 * 125, "about 2 h 5 min"),
    ],
)
def test_durations_are_rounded_up_and_worded(events: int, text: str) -> None:
    assert duration_text(events, per_second=20) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0 bytes"), (999, "999 bytes"), (1500, "1.5 KB"), (3_200_000, "3.2 MB")],
)
def test_sizes(count: int, text: str) -> None:
    assert size_text(count) == text


def test_the_report_has_each_channel_the_total_and_an_estimate() -> None:
    general = ChannelPlan("general", messages=40, threads=1, attachments=2, bytes=2048)
    general.reactions = 3
    media = ChannelPlan("media", messages=4, attachments=3, bytes=100, reactions=1)
    text = plan_report("Dry run:", [general, media])
    assert "#general: 40 messages, 1 threads, 2 attachments (2.0 KB), 3 reactions" in text
    assert "#media: 4 messages, 0 threads, 3 attachments (100 bytes), 1 reactions" in text
    assert "Total: 44 messages, 1 threads, 5 attachments (2.1 KB), 4 reactions" in text
    assert "about 53 Matrix events, under a minute at 20 events/s" in text
    assert "0.0" not in text
    assert "nothing was created, sent or stored" in text
