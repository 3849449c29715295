"""A fix for discord.py's gateway latency when HEARTBEAT_ACK comes back very fast.

discord.py 2.7's ``KeepAliveHandler`` (discord/gateway.py) sends each op 1 HEARTBEAT from its
own thread and records the send time (``_last_send``) in that thread once the send is done;
the op 11 HEARTBEAT_ACK is handled on the event loop (``ack()``), which computes the latency
from ``_last_send``. When the gateway answers within microseconds (the sandbox Discord
emulator on loopback, a local gateway proxy) the loop can handle the ACK before the thread
has run again, so the latency is measured from the previous heartbeat: one whole
``heartbeat_interval`` (41.25 s by default), logged as "Can't keep up, shard ID None
websocket is 41.0s behind" although nothing is late. The emulator is right: Discord's gateway
docs ("Sending Heartbeats") ask the server to answer every heartbeat with op 11 at once.

The fix (as in discord.py pull request #10448, merged after 2.7.1) records the send time
before the heartbeat is handed to the loop. :func:`install_heartbeat_fix` installs it for
the whole process. It is harmless on a discord.py that has the fix; drop this module once
the pinned discord.py includes that pull request.
"""

from __future__ import annotations

import time
from typing import Any

import discord.gateway
from discord.gateway import KeepAliveHandler


class PromptAckKeepAliveHandler(KeepAliveHandler):
    """discord.py's keep-alive thread, timing each heartbeat from before it is sent.

    ``get_payload`` builds every op 1 payload (the periodic one in the thread, the one sent
    on HELLO, and the one answering a gateway's op 1 through ``beat``), so setting the send
    time there means an ACK, however fast, is measured against its own heartbeat.
    """

    def get_payload(self) -> dict[str, Any]:
        self._last_send = time.perf_counter()
        return super().get_payload()


def install_heartbeat_fix() -> None:
    """Make discord.py's gateway use :class:`PromptAckKeepAliveHandler` for every
    connection made from now on (process-wide; calling it again changes nothing)."""
    discord.gateway.KeepAliveHandler = PromptAckKeepAliveHandler  # type: ignore[misc]
