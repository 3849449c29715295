"""The outcome of one doctor check, as shown on one line."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Status(enum.Enum):
    """ok (✓), fail (✗), skip (– : a prerequisite failed, or nothing to check)."""

    OK = "ok"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    """One line of doctor's report.

    ``label`` names what was checked ("homeserver", "discord guild 123"); ``detail`` says what
    was found, for people; ``fix`` (failures only) what to change, naming the config key.
    """

    status: Status
    label: str
    detail: str
    fix: str = ""

    @classmethod
    def ok(cls, label: str, detail: str) -> CheckResult:
        """A passed check."""
        return cls(Status.OK, label, detail)

    @classmethod
    def fail(cls, label: str, detail: str, fix: str = "") -> CheckResult:
        """A failed check: ``detail`` what is wrong, ``fix`` what to do."""
        return cls(Status.FAIL, label, detail, fix)

    @classmethod
    def skip(cls, label: str, detail: str) -> CheckResult:
        """A check not run (its prerequisite failed) or with nothing to check."""
        return cls(Status.SKIP, label, detail)

    @property
    def failed(self) -> bool:
        """Whether this line makes doctor's exit status non-zero."""
        return self.status is Status.FAIL
