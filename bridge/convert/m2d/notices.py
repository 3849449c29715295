"""Why a Matrix user's messages in a bridged room do not reach Discord (pure text).

Each user is told once per room (the ``permission_notice`` table remembers it).
"""

from __future__ import annotations

from collections.abc import Iterable


def no_level_notice(admins: Iterable[str] = ()) -> str:
    """For a sender whom ``bridge.permissions`` gives no level; ``admins``: MXIDs to ask."""
    ask = ", ".join(admins)
    return (
        "Your messages here are not relayed to Discord: the bridge's `bridge.permissions` "
        "gives you no level. Ask its admin" + (f" ({ask})." if ask else ".")
    )


def relay_off_notice() -> str:
    """For a sender in a room where an admin turned relaying off (``unset-relay``)."""
    return (
        "Your messages here are not relayed to Discord: an admin of the bridge turned relaying "
        "off in this room. Discord's messages still arrive here; an admin can turn relaying "
        "back on with the bridge's `set-relay` command."
    )


def admins_of(permissions: dict[str, str]) -> list[str]:
    """The MXIDs ``bridge.permissions`` makes admins (``{"@a:b": "admin", …}``)."""
    return [
        key
        for key, level in permissions.items()
        if key.startswith("@") and str(level).lower() == "admin"
    ]
