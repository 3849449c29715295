"""An instant homeserver for benchmarks: answers at once, from memory (not a real server).

Usage as a process: .venv/bin/python bench/stub_homeserver.py --registration REG.yaml
       [--port 0] [--server-name sandbox.local] [--max-seconds 600]
prints one JSON line (``url``, ``stats_url``) and serves until SIGINT/SIGTERM or
``--max-seconds``. From Python: ``async with StubHomeserver(registration) as hs:`` then
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
