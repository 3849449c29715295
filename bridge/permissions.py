"""Who may do what: the config's ``bridge.permissions`` map, read for one Matrix user."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum


class Level(IntEnum):
    """Permission levels, each including the ones below it."""

    NONE = 0
    RELAY = 1  # their messages are relayed through the webhook
    USER = 2  # and they may use the bridge's commands for themselves
    ADMIN = 3  # and everything else: bridging guilds, importing history


def permission_level(mxid: str, permissions: Mapping[str, str]) -> Level:
    """The level of ``mxid``: its own entry, else its server's, else ``*``, else NONE."""
    server = mxid.split(":", 1)[1] if ":" in mxid else ""
    for key in (mxid, server, "*"):
        if key and key in permissions:
            return Level[str(permissions[key]).upper()]
    return Level.NONE
