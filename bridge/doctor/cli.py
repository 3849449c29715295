"""``python -m bridge -c config.yaml doctor [--well-known-url BASE]``: print, exit status."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from .render import exit_status, render
from .runner import run_doctor


def run(config_path: Path, well_known_url: str | None) -> int:
    """Run every check, print the report; 1 when anything is ✗, 0 otherwise.

    Library logging is kept to errors so that the report stays one line per check.
    """
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    try:
        results = asyncio.run(run_doctor(config_path, well_known_url))
    except KeyboardInterrupt:
        return 130
    print(render(results))
    return exit_status(results)
