"""Ctrl-C and SIGTERM on the command line: the first one stops the command, cleanly.

Every command's coroutine runs as one task; the first SIGINT or SIGTERM cancels it, so its
``finally`` blocks run (the bridge stops: database closed, port released; see
``Bridge.stop``), and the command ends with ``128 + signal`` (130 for Ctrl-C, as a shell
reports it). A second signal while that cleanup runs quits at once, without it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Coroutine
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM)


def exit_status(signum: int) -> int:
    """The shell's convention for a process a signal ended: 128 + the signal's number."""
    return 128 + signum


def run_command(work: Coroutine[Any, Any, int], sigterm_status: int | None = None) -> int:
    """``asyncio.run(work)`` with the signals above handled; returns ``work``'s exit status,
    or, when a signal stopped it, :func:`exit_status` (``sigterm_status`` instead for SIGTERM,
    e.g. 0 for the bridge, which a service manager stops that way)."""
    received: list[int] = []

    async def guarded() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def on_signal(signum: int) -> None:
            name = signal.Signals(signum).name
            if received:
                print(f"\n{name} again: quitting without cleaning up.", file=sys.stderr)
                sys.stderr.flush()
                os._exit(exit_status(signum))
            received.append(signum)
            print(
                f"\nInterrupted ({name}): stopping cleanly (press Ctrl-C again to quit at once).",
                file=sys.stderr,
            )
            task.cancel()

        for signum in HANDLED:
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            return await work
        except asyncio.CancelledError:
            if not received:
                raise
            task.uncancel()
        finally:
            for signum in HANDLED:
                loop.remove_signal_handler(signum)
        if received[0] == signal.SIGTERM and sigterm_status is not None:
            return sigterm_status
        return exit_status(received[0])

    return asyncio.run(guarded())
