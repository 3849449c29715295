"""The instant homeserver of ``bench/stub_homeserver.py``, by responsibility.

``state``: the in-memory store (rooms, users, aliases, media) and its counters; ``pusher``: the
transactions pushed to the appservice; ``client_api``: the request plumbing and the
client-server routes for accounts, profiles, the room directory and media; ``rooms``: the room
routes; ``server``: :class:`StubHomeserver` (life cycle, routing) and the command line.
"""

from .server import StubHomeserver

__all__ = ["StubHomeserver"]
