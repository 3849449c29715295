"""Ghosts: the Matrix users that stand for Discord users and webhook authors.

Ghosts are made lazily, when a user is first bridged, and their profile is only written when
it changed (the ``puppet`` table remembers what Matrix shows). Guild nicks and guild avatars
are per-room member state of the guild's rooms.

Synapse copies a changed global profile into every room the ghost is in, stomping per-room
names ("Note that this stomps over any custom display name or avatar URL in member events",
synapse/handlers/profile.py). So the per-room profiles set here are remembered, and a ghost
member event pushed back that undoes one is answered by setting it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from mautrix.appservice import AppService, IntentAPI
from mautrix.errors import MatrixError, MForbidden
from mautrix.types import (
    ContentURI,
    Event,
    EventType,
    Membership,
    MemberStateEventContent,
    RoomID,
    StateEvent,
    UserID,
)

from ..convert.d2m.puppet import (
    avatar_source_key,
    ghost_displayname,
    room_displayname,
    user_ghost_id,
)
from ..convert.model import MemberSnapshot, UserSnapshot
from ..db.rows import PuppetRow
from ..db.tables import BridgeTables
from ..locks import KeyedLocks
from ..matrix.media import MediaError, MediaRepo
from ..matrix.state_store import CachedStateStore
from ..migration.identity import linked_displayname
from ..migration.links import AccountLinks
from .ghost_ids import GhostIds

log = logging.getLogger("bridge.puppet")

Profile = tuple[str | None, str | None]  # (displayname, avatar mxc)


class Puppets(GhostIds):
    """Creates ghosts, keeps their profiles in step, and moves them in and out of rooms."""

    def __init__(
        self,
        appservice: AppService,
        tables: BridgeTables,
        media: MediaRepo,
        *,
        username_template: str,
        displayname_template: str,
        bot_suffix: str,
        domain: str,
        links: AccountLinks | None = None,
    ) -> None:
        self.appservice = appservice
        self.tables = tables
        # Discord members' linked Matrix accounts (bridge/migration), loaded at start.
        self.links = links if links is not None else AccountLinks(tables)
        self.media = media
        GhostIds.__init__(self, username_template, domain)
        self.displayname_template = displayname_template
        self.bot_suffix = bot_suffix
        self._locks = KeyedLocks()
        self._intents: dict[str, IntentAPI] = {}
        # Global profile per ghost mxid, as last written or read (saves a database read).
        self._profiles: dict[str, Profile] = {}
        # Per-room profiles set by join(): (mxid, room id) → profile, to restore after a stomp.
        self._room_profiles: dict[tuple[str, str], Profile] = {}
        # (ghost, room) → what the last finished join() was given: the same again needs
        # nothing (the hot path of a busy channel, or of an import).
        self._settled: dict[tuple[str, str], tuple[UserSnapshot, MemberSnapshot | None]] = {}
        # Ghost id → the user as the last finished ensure() saw them: the same again needs
        # no lock and no database read (every message of an import asks).
        self._ensured: dict[str, UserSnapshot] = {}
        # A room's join rule when known (the portal state cache sets this): a ghost is
        # invited before it tries to join a room that is not public.
        self.join_rule_of: Callable[[str], str | None] = lambda room_id: None
        # Whether a Discord user's linked account is double puppeted (their ghost then keeps
        # its plain name); set by double puppeting.
        self.double_puppeted: Callable[[int], bool] = lambda user_id: False
        # Avatar hashes whose download failed in this process: not retried on every message.
        self._failed_avatars: set[str] = set()
        appservice.matrix_event_handler(self._on_matrix_event)

    # ---- identities ----------------------------------------------------------------------

    def intent(self, ghost_id: str) -> IntentAPI:
        """The ghost's intent, made once (mautrix builds a new object on every call)."""
        if ghost_id not in self._intents:
            self._intents[ghost_id] = self.appservice.intent.user(self.mxid(ghost_id))
        return self._intents[ghost_id]

    # ---- global profile ------------------------------------------------------------------

    async def ensure(self, user: UserSnapshot, *, ghost_id: str | None = None) -> IntentAPI:
        """The ghost's intent, registering it and updating its profile when needed.

        Nothing is sent to the homeserver when the stored profile already matches.
        """
        ghost_id = ghost_id or user_ghost_id(user.id)
        intent = self.intent(ghost_id)
        if self._ensured.get(ghost_id) == user:
            return intent
        async with self._locks(intent.mxid):  # the same lock as join() and the restorer
            stored = await self.tables.puppets.get(ghost_id)
            if stored is not None:
                # A row is saved only after registering: no request for it after a restart
                # (mautrix's state store remembers registrations in memory only).
                await intent.state_store.registered(intent.mxid)
            await intent.ensure_registered()  # the state store knows: no request after once
            row = stored or PuppetRow(ghost_id)
            changed = stored is None
            profile_changed = False

            name = ghost_displayname(user, self.displayname_template, self.bot_suffix)
            name = self._with_link(user.id, name)
            if not row.name_set or row.displayname != name:
                await intent.set_displayname(name, check_current=False)
                row.displayname, row.name_set = name, True
                changed = profile_changed = True

            if row.avatar_hash != user.avatar_hash or not row.avatar_set:
                mxc = await self._avatar_mxc(user.avatar_url, user.avatar_hash, intent)
                if mxc != row.avatar_mxc or (mxc and not row.avatar_set):
                    await intent.set_avatar_url(ContentURI(mxc or ""), check_current=False)
                    profile_changed = True
                # A failed download stays unset, to be tried again after a restart.
                avatar_set = mxc is not None or user.avatar_hash is None
                new_avatar = (user.avatar_hash, mxc, avatar_set)
                if new_avatar != (row.avatar_hash, row.avatar_mxc, row.avatar_set):
                    row.avatar_hash, row.avatar_mxc, row.avatar_set = new_avatar
                    changed = True

            if row.is_bot != user.is_bot:
                row.is_bot, changed = user.is_bot, True
            if changed:
                await self.tables.puppets.upsert(row)
            self._profiles[intent.mxid] = (row.displayname, row.avatar_mxc)
            if profile_changed and stored is not None:
                await self._note_propagation(intent.mxid, row)
            self._ensured[ghost_id] = user
        return intent

    def _with_link(self, user_id: int, name: str) -> str:
        """A ghost's name showing its member's linked Matrix account (issue #18), unless
        double puppeting shows them as themselves."""
        linked = None if self.double_puppeted(user_id) else self.links.mxid_for(user_id)
        return linked_displayname(name, linked)

    def forget(self, ghost_id: str) -> None:
        """The next :meth:`ensure` and :meth:`join` of the ghost check its profile again
        (what it should show changed without a Discord change: a link)."""
        self._ensured.pop(ghost_id, None)
        mxid = self.mxid(ghost_id)
        for key in [key for key in self._settled if key[0] == mxid]:
            del self._settled[key]

    async def _avatar_mxc(
        self, url: str | None, avatar_hash: str | None, intent: IntentAPI
    ) -> str | None:
        """Upload an avatar once per hash; None (logged) when it cannot be had."""
        if not url or not avatar_hash or avatar_hash in self._failed_avatars:
            return None
        try:
            media = await self.media.upload_from_url(
                url, intent, source_key=avatar_source_key(avatar_hash, url)
            )
        except (MediaError, MatrixError) as error:
            log.warning("No avatar for %s: %s", intent.mxid, error)
            self._failed_avatars.add(avatar_hash)
            return None
        return media.mxc

    async def _note_propagation(self, mxid: UserID, row: PuppetRow) -> None:
        """Record in the state store what Synapse is about to write into every joined room,
        so that join() compares against it rather than against the old profile.

        Rooms with a per-room profile are left as they are: _on_matrix_event puts that
        profile back when the homeserver's rewrite arrives.
        """
        store = self.appservice.state_store
        if not isinstance(store, CachedStateStore):
            return
        kept = [room for (ghost, room) in self._room_profiles if ghost == mxid]
        await store.note_profile_everywhere(mxid, row.displayname, row.avatar_mxc or "", kept)

    async def _global_profile(self, mxid: UserID) -> Profile:
        if mxid not in self._profiles:
            ghost_id = self.ghost_id_of(mxid)
            row = await self.tables.puppets.get(ghost_id) if ghost_id else None
            self._profiles[mxid] = (row.displayname, row.avatar_mxc) if row else (None, None)
        return self._profiles[mxid]

    # ---- rooms ---------------------------------------------------------------------------

    async def join(
        self,
        intent: IntentAPI,
        room_id: str,
        *,
        user: UserSnapshot,
        member: MemberSnapshot | None,
    ) -> None:
        """Make the ghost a member of the room, showing its guild nick and avatar there.

        The bridge bot invites the ghost when the room needs it. A ghost with a per-room
        profile (a guild nick or avatar) is invited and joins with it, so the room never shows
        its global name first; later, a member event is sent only when the room shows
        something else than wanted. ``member`` None means the member is not known here (an
        imported reaction, a user who left the guild): the room keeps the name it shows, so a
        ghost's per-room name never flips back and forth (issue #15).
        """
        room = RoomID(room_id)
        mxid = intent.mxid
        if self._settled.get((mxid, room)) == (user, member):
            return
        async with self._locks(mxid):
            global_profile = await self._global_profile(mxid)
            if member is None:
                await self._enter(intent, room, None)
                self._settled[(mxid, room)] = (user, member)
                return
            wanted = await self._room_profile(intent, user, member, global_profile)
            await self._enter(intent, room, wanted if wanted != global_profile else None)
            current = await intent.state_store.get_member(room, mxid)
            shown = (current.displayname, current.avatar_url or None) if current else None
            if wanted != global_profile:
                self._room_profiles[(mxid, room)] = wanted
                if shown != wanted:
                    await self._set_room_profile(intent, room, wanted)
            else:
                # Back to the global profile, if the room still shows an old override.
                self._room_profiles.pop((mxid, room), None)
                if current and current.displayname is not None and shown != wanted:
                    await self._set_room_profile(intent, room, wanted)
            self._settled[(mxid, room)] = (user, member)

    async def _enter(self, intent: IntentAPI, room: RoomID, profile: Profile | None) -> None:
        """Join the room, invited first by the bot unless the room is public (or unknown).

        With a per-room ``profile``, the invite and the join carry it (``PUT
        /state/m.room.member``: Synapse then adds no global profile, room_member.py), so the
        room shows the ghost's guild name from its first member event.

        mautrix's ensure_joined asks first and invites on refusal; a refused join costs the
        homeserver about a third of a message, once per ghost and room.
        """
        store, bot = intent.state_store, self.appservice.intent
        if await store.is_joined(room, intent.mxid):
            return
        content = _member_content(profile) if profile else None
        rule = self.join_rule_of(room)
        needs_invite = rule is not None and rule != "public"
        if needs_invite and await store.get_membership(room, intent.mxid) != Membership.INVITE:
            try:
                await bot.invite_user(room, intent.mxid, extra_content=content)
            except MatrixError as error:  # already in, or banned: ensure_joined sorts it out
                log.debug("Inviting %s to %s first failed: %s", intent.mxid, room, error)
        if content is None:
            await intent.ensure_joined(room, bot=bot)
            return
        await intent.ensure_registered()
        try:
            await intent.join_room_by_id(room, extra_content=content)
        except MForbidden:  # not invited after all (the join rule was not known)
            await bot.invite_user(room, intent.mxid, extra_content=content)
            await intent.join_room_by_id(room, extra_content=content)

    async def _room_profile(
        self,
        intent: IntentAPI,
        user: UserSnapshot,
        member: MemberSnapshot | None,
        global_profile: Profile,
    ) -> Profile:
        name = room_displayname(user, member, self.displayname_template, self.bot_suffix)
        name = self._with_link(user.id, name) if name else None
        avatar = None
        if member and member.guild_avatar_url and member.guild_avatar_hash:
            avatar = await self._avatar_mxc(
                member.guild_avatar_url, member.guild_avatar_hash, intent
            )
        return (name or global_profile[0], avatar or global_profile[1])

    async def _set_room_profile(self, intent: IntentAPI, room: RoomID, profile: Profile) -> None:
        content = MemberStateEventContent(
            membership=Membership.JOIN,
            displayname=profile[0],  # type: ignore[arg-type]
            avatar_url=ContentURI(profile[1] or ""),
        )
        await intent.send_state_event(room, EventType.ROOM_MEMBER, content, state_key=intent.mxid)

    async def _on_matrix_event(self, event: Event) -> None:
        """Set a per-room profile again when the homeserver's profile propagation undid it."""
        if not (
            isinstance(event, StateEvent)
            and event.type == EventType.ROOM_MEMBER
            and isinstance(event.content, MemberStateEventContent)
        ):
            return
        key = (str(event.state_key), str(event.room_id))
        if event.content.membership != Membership.JOIN:
            self._settled.pop(key, None)
        wanted = self._room_profiles.get(key)
        if wanted is None:
            return
        if event.content.membership != Membership.JOIN:
            self._room_profiles.pop(key, None)
            return
        shown = (event.content.displayname, event.content.avatar_url or None)
        if event.sender != event.state_key or shown == wanted:
            return
        intent = self.appservice.intent.user(UserID(key[0]))
        async with self._locks(key[0]):
            if self._room_profiles.get(key) != wanted:
                return  # join() changed it meanwhile
            log.debug("Restoring the room profile of %s in %s", key[0], key[1])
            try:
                await self._set_room_profile(intent, event.room_id, wanted)
            except MatrixError as error:
                log.warning("Could not restore %s's profile in %s: %s", key[0], key[1], error)

    async def refresh(
        self, user: UserSnapshot, member: MemberSnapshot | None, room_ids: Iterable[str]
    ) -> None:
        """A Discord user's profile or guild nick changed: update the ghost, if it exists, and
        its per-room profile in the given rooms it is in. A user without a ghost costs nothing.
        """
        ghost_id = user_ghost_id(user.id)
        if await self.tables.puppets.get(ghost_id) is None:
            return
        intent = await self.ensure(user, ghost_id=ghost_id)
        for room_id in room_ids:
            room = RoomID(room_id)
            if await intent.state_store.get_membership(room, intent.mxid) == Membership.JOIN:
                await self.join(intent, room, user=user, member=member)

    async def leave(
        self, ghost_id: str, room_ids: Iterable[str], reason: str | None = None
    ) -> None:
        """The ghost leaves each room it is in (a Discord user left the guild).

        Rooms where the state store does not have the ghost are skipped: most members
        never spoke, so never had a ghost, and should cost no request.
        """
        intent = self.intent(ghost_id)
        present = (Membership.JOIN, Membership.INVITE)
        for room_id in room_ids:
            room = RoomID(room_id)
            self._settled.pop((intent.mxid, room), None)
            self._room_profiles.pop((intent.mxid, room), None)
            if await intent.state_store.get_membership(room, intent.mxid) not in present:
                continue
            try:
                await intent.leave_room(room, reason=reason)
            except MatrixError as error:
                log.warning("%s could not leave %s: %s", intent.mxid, room_id, error)

    async def ban(self, ghost_id: str, room_ids: Iterable[str], reason: str | None = None) -> None:
        """The bridge bot bans the ghost from each room (a Discord ban)."""
        mxid = self.mxid(ghost_id)
        bot = self.appservice.intent
        room_ids = list(room_ids)
        results = await asyncio.gather(
            *(bot.ban_user(RoomID(room_id), mxid, reason=reason or "") for room_id in room_ids),
            return_exceptions=True,
        )
        for room_id, result in zip(room_ids, results, strict=False):
            self._room_profiles.pop((mxid, room_id), None)
            self._settled.pop((mxid, RoomID(room_id)), None)
            if isinstance(result, Exception):
                log.warning("Could not ban %s from %s: %s", mxid, room_id, result)


def _member_content(profile: Profile) -> dict[str, Any]:
    """A per-room profile as member event content: ``displayname`` and ``avatar_url``
    (spec: m.room.member), "" for no avatar, as :meth:`Puppets._set_room_profile` sends."""
    content: dict[str, Any] = {"avatar_url": profile[1] or ""}
    if profile[0] is not None:
        content["displayname"] = profile[0]
    return content
