"""An instant homeserver for benchmarks: answers at once, from memory (not a real server).

Usage as a process: .venv/bin/python bench/stub_homeserver.py --registration REG.yaml
       [--port 0] [--server-name sandbox.local] [--max-seconds 600] [--no-push]
prints one JSON line (``url``, ``stats_url``) once it listens and serves until SIGINT/SIGTERM
or ``--max-seconds``; when it stops it prints a second JSON line, the final stats (as ``GET
/_stub/stats`` answers them), and exits 0. ``--no-push`` keeps events to itself (no
transactions to the appservice). The registration is the bridge's (``python -m bridge -c
config.yaml -g -r registration.yaml`` writes one). From Python: ``async with StubHomeserver(registration) as hs:`` then
``hs.url`` and ``hs.stats()``.

The entry point only: the homeserver lives in the ``stub`` package beside this script
(``bench/stub/``; what it speaks is described in ``stub/server.py``). Bench scripts import
each other by name (the script's folder is ``sys.path[0]``), so ``from stub_homeserver import
StubHomeserver`` keeps working.
"""

from __future__ import annotations

from stub.server import StubHomeserver, main, serve

__all__ = ["StubHomeserver", "main", "serve"]

if __name__ == "__main__":
    main()
