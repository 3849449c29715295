"""Who is invited to a bridged guild's space: the bridge's admins and whoever bridged it.

One rule for every way a guild gets bridged (``bridge.guilds`` at start, the ``bridge`` chat
command, the provisioning API, Discord's ``/matrix bridge``, an import): after the sync, the
Matrix users with the ``admin`` level in ``bridge.permissions`` are invited to the space if they
were never in it, and the Matrix user who asked is invited unless already invited or joined.
So an admin is invited once: not again at each restart, nor after leaving or refusing the
invite (issue #15). A failed invite is logged and changes nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixRequestError
from mautrix.types import RoomID, UserID

from .state_cache import RoomStateCache

log = logging.getLogger("bridge.portal.space")
MATRIX_ACTOR = "matrix:"  # how ``guild.bridged_by`` tags a Matrix user (actor_tag)


def configured_admins(permissions: Mapping[str, Any]) -> list[str]:
    """The Matrix user IDs given the ``admin`` level in ``bridge.permissions`` (keys starting
    with ``@``; ``*`` and server names are not people to invite)."""
    return [
        key
        for key, level in permissions.items()
        if key.startswith("@") and str(level).lower() == "admin"
    ]


def asker_of(bridged_by: str | None) -> str | None:
    """The Matrix user behind a ``bridged_by`` tag (``"matrix:@a:b"`` → ``"@a:b"``); None for
    the config, Discord users and the provisioning API."""
    if bridged_by and bridged_by.startswith(MATRIX_ACTOR):
        return bridged_by.removeprefix(MATRIX_ACTOR)
    return None


async def invite_to_space(
    bot: IntentAPI,
    state: RoomStateCache,
    space_room_id: str,
    admins: Iterable[str],
    asked_by: str | None = None,
) -> tuple[str, ...]:
    """Invite ``admins`` who have no membership in the space yet (never invited, never
    joined), and ``asked_by`` unless invited or joined; the users invited now, in that order.

    Memberships come from the space's cached state (read once, kept up to date by the
    homeserver's pushes), so a restart with everyone in place sends no request. An invite that
    fails (e.g. a user of a server that refuses) is logged as a warning.
    """
    room_state = await state.get(space_room_id)
    invited: list[str] = []
    for user in dict.fromkeys([*([asked_by] if asked_by else []), *admins]):
        membership = room_state.get(("m.room.member", user), {}).get("membership")
        if membership in ("invite", "join") or (membership and user != asked_by):
            continue  # there already, or left / refused / banned: never invited again
        try:
            await bot.invite_user(RoomID(space_room_id), UserID(user))
        except MatrixRequestError as error:
            log.warning("Could not invite %s to the space %s: %s", user, space_room_id, error)
            continue
        state.record(space_room_id, "m.room.member", user, {"membership": "invite"})
        invited.append(user)
    if invited:
        log.info("Invited to the space %s: %s", space_room_id, ", ".join(invited))
    return tuple(invited)
