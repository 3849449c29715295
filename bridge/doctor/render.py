"""Doctor's report as text: one line per check, ✓ / ✗ / – then the label and what was found."""

from __future__ import annotations

from collections.abc import Iterable

from .result import CheckResult, Status

MARKS = {Status.OK: "✓", Status.FAIL: "✗", Status.SKIP: "–"}


def render_line(result: CheckResult) -> str:
    """``✓ label: detail``, ``✗ label: detail — fix: fix`` or ``– label: detail``."""
    line = f"{MARKS[result.status]} {result.label}: {result.detail}"
    if result.status is Status.FAIL and result.fix:
        line += f" — fix: {result.fix}"
    return line


def render(results: Iterable[CheckResult]) -> str:
    """The whole report, a line per result, and a closing summary line."""
    results = list(results)
    failures = sum(result.failed for result in results)
    lines = [render_line(result) for result in results]
    lines.append(
        f"{failures} problem{'s' if failures != 1 else ''} found."
        if failures
        else "All checks passed."
    )
    return "\n".join(lines)


def exit_status(results: Iterable[CheckResult]) -> int:
    """1 when any check failed, else 0."""
    return 1 if any(result.failed for result in results) else 0
