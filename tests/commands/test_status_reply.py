"""``status`` as an admin reads it, and the relay counters behind it (pure, no I/O)."""

from __future__ import annotations

from bridge.actions.admin.status import GuildStatus, Relayed, StatusReport
from bridge.commands.run_status import status_reply
from bridge.stats import TO_DISCORD, TO_MATRIX, LastError, RelayStats


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_counts_since_start_and_in_the_last_hour() -> None:
    clock = Clock()
    stats = RelayStats(clock)
    for _ in range(3):
        stats.relayed(7, TO_MATRIX)
    clock.now += 3000
    stats.relayed(7, TO_DISCORD)
    stats.relayed(7, TO_MATRIX)
    clock.now += 1000  # the first three are now more than an hour old
    assert stats.since_start(7, TO_MATRIX) == 4
    assert stats.last_hour(7, TO_MATRIX) == 1
    assert stats.last_hour(7, TO_DISCORD) == 1
    assert stats.since_start(8, TO_MATRIX) == 0
    stats.relayed(None, TO_MATRIX)  # a DM: no guild, not counted
    stats.failed(7, "Discord answered 403")
    error = stats.last_error(7)
    assert error is not None and error.text == "Discord answered 403"
    stats.forget(7)
    assert stats.since_start(7, TO_MATRIX) == 0 and stats.last_error(7) is None


def test_the_reply_names_every_figure() -> None:
    report = StatusReport(
        "connected",
        42.4,
        1_700_000_000.0,
        [
            GuildStatus(
                123,
                "Rust fans",
                "!space:example.org",
                5,
                Relayed(2, 10),
                Relayed(1, 4),
                LastError("message 9 to Matrix: boom", 1_700_000_100.0),
                "finished for 3 channels (40 messages)",
            )
        ],
    )
    text = status_reply(report).markdown
    assert "connected, heartbeat 42 ms" in text
    assert "**Rust fans** (`123`)" in text
    assert "Discord → Matrix: 2 in the last hour, 10 since start" in text
    assert "Matrix → Discord: 1 in the last hour, 4 since start" in text
    assert "message 9 to Matrix: boom (2023-11-14 22:15:00 UTC)" in text
    assert "import: finished for 3 channels (40 messages)" in text
    json = report.to_json()
    assert json["guilds"][0]["relayed"]["discord_to_matrix"] == {"last_hour": 2, "since_start": 10}
    assert json["gateway"] == {"state": "connected", "latency_ms": 42.4}


def test_no_guild_says_how_to_bridge_one() -> None:
    text = status_reply(StatusReport("connecting", None, 0.0)).markdown
    assert "connecting." in text and "`bridge GUILD_ID`" in text
