"""History imports started from a command, ``/matrix`` or the API, run inside the bridge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ImportJob:
    """One import started by an admin: what it covers and how far it got."""

    job_id: int
    guild_id: int
    channel_ids: tuple[int, ...]
    state: str = "running"  # "running", "finished", "cancelled", "failed"
    done: int = 0
    total: int | None = None


class ImportJobs:
    """The imports started while the bridge runs (placeholder until built)."""

    def __init__(self, bridge: Any) -> None:
        self.bridge = bridge
        self.jobs: dict[int, ImportJob] = {}

    def all(self) -> list[ImportJob]:
        return list(self.jobs.values())
