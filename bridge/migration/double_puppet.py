"""Double puppeting: a linked member's Discord actions sent from their own Matrix account.

With ``bridge.double_puppet.as_token`` set and its registration loaded by the homeserver (a
second appservice with no ``url`` and a non-exclusive users namespace covering the whole
server, see :func:`bridge.registration.build_double_puppet_registration`), the bridge may act
as any user of ``homeserver.domain`` by sending that token with ``?user_id=`` (spec:
Application Service API, "Identity assertion"), as mautrix bridges do. A Discord member linked
to such an account then sends, edits, deletes and reacts from it, and their ghost leaves the
rooms it was in. Accounts on other servers keep their ghost.

Every event sent this way carries ``"fi.mau.double_puppet_source": <appservice.id>`` (mautrix's
IntentAPI adds it for real users); the appservice drops such events when the homeserver pushes
them back (:meth:`DoublePuppets.is_own_event`), so they never go back to Discord and never
count as sent from Matrix.

The token is checked once per account (whoami as that account). Refused (401
``M_UNKNOWN_TOKEN``): one error naming the key, double puppeting is off until a restart and the
ghosts send. Not allowed for one account (403): that member's ghost sends. Nothing is lost.
"""

from __future__ import annotations

import logging
from typing import Any

from mautrix.appservice import DOUBLE_PUPPET_SOURCE_KEY, AppService, IntentAPI
from mautrix.errors import MatrixError, MatrixRequestError, MForbidden
from mautrix.types import Membership, RoomID, UserID

from ..convert.d2m.puppet import user_ghost_id
from ..convert.model import MemberSnapshot, UserSnapshot
from ..locks import KeyedLocks
from ..matrix.state_store import CachedStateStore
from ..puppet.puppets import Puppets
from .links import LinkChange

log = logging.getLogger("bridge.migration.double_puppet")
TOKEN_KEY = "bridge.double_puppet.as_token"
REFUSED = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"})
LEFT = "Speaks from {} now (double puppeting)"  # the ghost's leave reason


class DoublePuppets:
    """The intents that act as linked members' own accounts, made and checked once each."""

    def __init__(
        self, appservice: AppService, puppets: Puppets, *, as_token: str, source: str
    ) -> None:
        """``as_token``: the double-puppet registration's token ("" is off); ``source``: the
        appservice id, written as ``fi.mau.double_puppet_source`` into what is sent."""
        self.appservice = appservice
        self.puppets = puppets
        self.as_token = as_token
        self.source = source
        self.refused = False  # the homeserver refused the token: off until a restart
        # Account → its intent, or None when the homeserver does not let the token act as it.
        self._checked: dict[str, IntentAPI | None] = {}
        self._locks = KeyedLocks()

    @property
    def enabled(self) -> bool:
        return bool(self.as_token) and not self.refused

    def is_own_event(self, raw_event: dict[str, Any]) -> bool:
        """Whether a pushed event (JSON) is one this bridge sent through a member's account."""
        content = raw_event.get("content")
        return isinstance(content, dict) and content.get(DOUBLE_PUPPET_SOURCE_KEY) == self.source

    def is_local(self, mxid: str) -> bool:
        """An account of the bridge's homeserver that is neither a ghost nor the bridge bot."""
        return (
            mxid.endswith(f":{self.puppets.domain}")
            and not self.puppets.is_ghost(mxid)
            and mxid != self.appservice.bot_mxid
        )

    def may_act_as(self, discord_user_id: int) -> bool:
        """Whether the Discord user's linked account may be double puppeted: on, linked, and
        on the bridge's homeserver (whether the homeserver accepts it is known at first use)."""
        mxid = self.puppets.links.mxid_for(discord_user_id)
        return self.enabled and mxid is not None and self.is_local(mxid)

    async def intent_for(self, discord_user_id: int) -> IntentAPI | None:
        """The intent of the account the Discord user linked, when the bridge may act as it;
        None: their ghost acts (off, not linked, another server, or refused)."""
        if not self.may_act_as(discord_user_id):
            return None
        mxid = self.puppets.links.mxid_for(discord_user_id)
        assert mxid is not None  # may_act_as checked it
        if mxid in self._checked:  # the usual case: read without a lock
            return self._checked[mxid]
        async with self._locks(mxid):
            if mxid not in self._checked:
                intent = await self._build(UserID(mxid))
                usable = await self._check(intent)
                if usable is None:
                    return None  # not known now (the homeserver failed): asked again later
                self._checked[mxid] = intent if usable else None
        return self._checked[mxid] if self.enabled else None

    async def previous_sender(
        self, sender_mxid: str, discord_user_id: int | None = None
    ) -> IntentAPI | None:
        """The intent of the account that sent an earlier event (``message_part.sender_mxid``),
        to edit or redact it, while that account is linked (to ``discord_user_id`` if given)."""
        linked = self.puppets.links.discord_for(sender_mxid)
        if linked is None or discord_user_id not in (None, linked):
            return None
        return await self.intent_for(linked)

    async def _build(self, mxid: UserID) -> IntentAPI:
        bot = self.appservice.intent
        intent = bot.user(mxid, self.as_token, as_token=True)
        intent.api.bridge_name = self.source  # the fi.mau.double_puppet_source of its events
        # Patient like the ghosts' requests: a homeserver outage is waited out.
        intent.api.homeserver_wait = getattr(bot.api, "homeserver_wait", None)  # type: ignore[attr-defined]
        await intent.state_store.registered(mxid)  # a real account: never /register it
        return intent

    async def _check(self, intent: IntentAPI) -> bool | None:
        """whoami as the account: True if usable, False if refused (logged), None if unknown."""
        try:
            whoami = await intent.whoami()
        except MatrixRequestError as error:
            if error.errcode in REFUSED or error.http_status == 401:
                self.refused = True
                log.error(
                    "The homeserver refused %s (%s: %s): is the double-puppet registration "
                    "loaded (app_service_config_files) with this as_token? Double puppeting is "
                    "off until a restart; Discord members' ghosts send instead.",
                    TOKEN_KEY,
                    error.errcode,
                    error.message,
                )
                return False
            if error.http_status == 403:
                log.error(
                    "The homeserver does not let %s act as %s (%s: %s): the account must "
                    "exist and the double-puppet registration's users namespace cover @.*:%s. "
                    "Their ghost acts instead.",
                    TOKEN_KEY,
                    intent.mxid,
                    error.errcode,
                    error.message,
                    self.puppets.domain,
                )
                return False
            log.warning("Could not check double puppeting for %s: %s", intent.mxid, error)
            return None
        return whoami.user_id == intent.mxid

    async def enter(self, intent: IntentAPI, room_id: str) -> bool:
        """Make the account a member of the room (the bridge bot invites it when needed);
        False (logged) when it cannot: banned there, or the homeserver refused."""
        room, store = RoomID(room_id), intent.state_store
        if await store.is_joined(room, intent.mxid):
            return True
        if await store.get_membership(room, intent.mxid) == Membership.BAN:
            return False  # never unbanned by the bridge
        try:
            try:
                await intent.join_room_by_id(room)
            except MForbidden:  # not invited yet (another part invites linked accounts too)
                await self.appservice.intent.invite_user(room, intent.mxid)
                await intent.join_room_by_id(room)
        except MatrixError as error:
            log.warning(
                "%s could not join %s: %s; their ghost acts there", intent.mxid, room, error
            )
            return False
        await store.joined(room, intent.mxid)
        return True

    async def on_link_change(self, change: LinkChange) -> None:
        """A listener of :class:`~bridge.migration.links.AccountLinks`. Linked: the account
        joins every room the member's ghost is in, then the ghost leaves those it could.
        Unlinked: nothing moves; the ghost joins again when the member next speaks."""
        if not change.linked:
            self._checked.pop(change.mxid, None)
            return
        intent = await self.intent_for(change.discord_user_id)
        if intent is None:
            return
        ghost_id = user_ghost_id(change.discord_user_id)
        store = self.appservice.state_store
        assert isinstance(store, CachedStateStore)
        rooms = await store.joined_rooms(self.puppets.mxid(ghost_id))
        moved = [room_id for room_id in rooms if await self.enter(intent, room_id)]
        await self.puppets.leave(ghost_id, moved, reason=LEFT.format(change.mxid))


async def acting_intent(
    puppets: Puppets,
    double: DoublePuppets | None,
    user: UserSnapshot,
    room_id: str,
    *,
    ghost_id: str | None = None,
    member: MemberSnapshot | None = None,
) -> IntentAPI:
    """The intent that acts for ``user`` in ``room_id``, already a member there: their own
    account when double puppeting may act as it, else their ghost (``ghost_id``: a webhook
    author's ghost, never double puppeted).

    A ghost still in the room (linked before double puppeting was turned on) leaves it."""
    if double is not None and ghost_id in (None, user_ghost_id(user.id)):
        intent = await double.intent_for(user.id)
        if intent is not None and await double.enter(intent, room_id):
            await puppets.leave(user_ghost_id(user.id), [room_id], reason=LEFT.format(intent.mxid))
            return intent
    ghost = await puppets.ensure(user, ghost_id=ghost_id)
    await puppets.join(ghost, room_id, user=user, member=member)
    return ghost
