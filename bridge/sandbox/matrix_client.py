"""A small Matrix client for tests: what a human user sees.

Built on mautrix's :class:`~mautrix.client.ClientAPI` (available as :attr:`MatrixTestClient.api`
for anything not wrapped here: reactions, redactions, typing, media…). The read helpers return
the server's JSON as plain dicts, not mautrix event objects, so that assertions see exactly what
a client would get (custom state such as ``m.bridge``, ``unsigned``, unknown keys), e.g.::

    events = await alice.timeline(room_id, types=["m.room.message"])
    assert [e["content"]["body"] for e in events] == ["hello", "world"]

Errors are mautrix's :class:`~mautrix.errors.MatrixRequestError` (``.errcode``, ``.http_status``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar, cast

import aiohttp
from mautrix.api import HTTPAPI, Method, Path
from mautrix.client import ClientAPI
from mautrix.errors import MNotFound
from mautrix.types import EventID, EventType, RoomAlias, RoomCreatePreset, RoomID, UserID

JSONDict = dict[str, Any]
T = TypeVar("T")


async def wait_until(
    check: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 10.0,
    interval: float = 0.2,
    what: str = "condition",
) -> T:
    """Poll ``check`` until it returns something other than None or False, and return that.

    Raises :class:`TimeoutError` naming ``what`` when ``timeout`` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result is not None and result is not False:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


class MatrixTestClient:
    """A logged-in Matrix user (or an appservice token, optionally masquerading)."""

    def __init__(
        self,
        base_url: str,
        access_token: str = "",
        user_id: str | None = None,
        *,
        as_user_id: str | None = None,
    ) -> None:
        """Wrap a token (construct inside a running event loop).

        ``as_user_id`` sets ``?user_id=`` for appservice masquerading.
        """
        self._session = aiohttp.ClientSession()
        http = HTTPAPI(
            base_url,
            access_token,
            client_session=self._session,
            as_user_id=UserID(as_user_id) if as_user_id else None,
        )
        self.api = ClientAPI(mxid=UserID(user_id or as_user_id or ""), api=http)
        self.password: str | None = None  # kept when known, so that tests can log in again

    @classmethod
    async def login(cls, base_url: str, user: str, password: str) -> MatrixTestClient:
        """Log in with a password; ``user`` is a full user ID or a localpart."""
        client = cls(base_url)
        try:
            await client.api.login(identifier=UserID(user), password=password)
            client.password = password
        except BaseException:
            await client.close()
            raise
        return client

    @property
    def user_id(self) -> str:
        return str(self.api.mxid)

    async def whoami(self) -> str:
        """The user ID the token belongs to (and remember it)."""
        resp = await self.api.whoami()
        self.api.mxid = resp.user_id
        return str(resp.user_id)

    async def close(self) -> None:
        await self._session.close()

    async def __aenter__(self) -> MatrixTestClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _get(self, path: Any, query: dict[str, str] | None = None) -> Any:
        return await self.api.api.request(Method.GET, path, query_params=query)

    # Rooms

    async def join(self, room: str) -> str:
        """Join a room by ID or alias; return the room ID."""
        if room.startswith("#"):
            return str(await self.api.join_room(RoomAlias(room)))
        return str(await self.api.join_room_by_id(RoomID(room)))

    async def leave(self, room_id: str) -> None:
        await self.api.leave_room(RoomID(room_id))

    async def create_room(
        self,
        name: str | None = None,
        *,
        space: bool = False,
        public: bool = False,
        invite: Iterable[str] = (),
        initial_state: list[JSONDict] | None = None,
        alias_localpart: str | None = None,
        is_direct: bool = False,
    ) -> str:
        """Create a room (or a space, with ``space=True``); return its ID. ``is_direct``
        marks the invites as a direct chat (as Element does when starting one)."""
        return str(
            await self.api.create_room(
                alias_localpart=alias_localpart,
                preset=RoomCreatePreset.PUBLIC if public else RoomCreatePreset.PRIVATE,
                name=name,
                is_direct=is_direct,
                invitees=[UserID(u) for u in invite],
                initial_state=cast(Any, initial_state),
                creation_content=cast(Any, {"type": "m.space"} if space else None),
            )
        )

    async def add_space_child(
        self, space_id: str, child_id: str, *, order: str | None = None, suggested: bool = False
    ) -> str:
        """Link ``child_id`` under ``space_id`` (the parent's ``m.space.child``)."""
        # Room IDs of room version 12 carry no server name: the via is our own server.
        domain = self.api.domain or (await self.whoami()).split(":", 1)[1]
        content: JSONDict = {"via": [domain]}
        if order is not None:
            content["order"] = order
        if suggested:
            content["suggested"] = True
        return await self.send_state(space_id, "m.space.child", content, state_key=child_id)

    async def joined_rooms(self) -> list[str]:
        return [str(r) for r in await self.api.get_joined_rooms()]

    # Sending

    async def send_text(self, room_id: str, body: str, *, html: str | None = None) -> str:
        """Send an ``m.text`` message; return its event ID."""
        return str(await self.api.send_text(RoomID(room_id), body, html=html))

    async def send(
        self, room_id: str, content: JSONDict, event_type: str = "m.room.message"
    ) -> str:
        """Send any message event with raw content; return its event ID."""
        evt_type = EventType.find(event_type, EventType.Class.MESSAGE)
        return str(await self.api.send_message_event(RoomID(room_id), evt_type, cast(Any, content)))

    async def send_state(
        self, room_id: str, event_type: str, content: JSONDict, state_key: str = ""
    ) -> str:
        """Send a state event with raw content; return its event ID."""
        evt_type = EventType.find(event_type, EventType.Class.STATE)
        event_id: EventID = await self.api.send_state_event(
            RoomID(room_id), evt_type, cast(Any, content), state_key=state_key
        )
        return str(event_id)

    # Reading

    async def timeline(
        self,
        room_id: str,
        *,
        types: Iterable[str] | None = None,
        limit: int = 1000,
    ) -> list[JSONDict]:
        """The room's events, oldest first, at most ``limit`` (paged through ``/messages``).

        ``types`` filters on the server (e.g. ``["m.room.message"]``).
        """
        query: dict[str, str] = {"dir": "f", "limit": "100"}
        if types is not None:
            query["filter"] = json.dumps({"types": list(types)})
        events: list[JSONDict] = []
        while len(events) < limit:
            page = await self._get(Path.v3.rooms[room_id].messages, query)
            events.extend(page.get("chunk", []))
            if not page.get("chunk") or not page.get("end"):
                break
            query["from"] = page["end"]
        return events[:limit]

    async def messages(self, room_id: str) -> list[JSONDict]:
        """Only the ``m.room.message`` events, oldest first."""
        return await self.timeline(room_id, types=["m.room.message"])

    async def event(self, room_id: str, event_id: str) -> JSONDict:
        """One event by ID."""
        return await self._get(Path.v3.rooms[room_id].event[event_id])

    async def state(self, room_id: str, event_type: str | None = None) -> list[JSONDict]:
        """The room's current state events, optionally only those of one type."""
        events: list[JSONDict] = await self._get(Path.v3.rooms[room_id].state)
        return [e for e in events if event_type is None or e["type"] == event_type]

    async def state_event(
        self, room_id: str, event_type: str, state_key: str = ""
    ) -> JSONDict | None:
        """The content of one state event, or None if it is not set."""
        try:
            content: JSONDict = await self._get(Path.v3.rooms[room_id].state[event_type][state_key])
        except MNotFound:
            return None
        return content

    async def hierarchy(
        self, space_id: str, *, max_depth: int | None = None, suggested_only: bool = False
    ) -> list[JSONDict]:
        """All rooms of ``/hierarchy`` (the space itself first), following ``next_batch``."""
        query: dict[str, str] = {"limit": "50"}
        if max_depth is not None:
            query["max_depth"] = str(max_depth)
        if suggested_only:
            query["suggested_only"] = "true"
        rooms: list[JSONDict] = []
        while True:
            page = await self._get(Path.v1.rooms[space_id].hierarchy, query)
            rooms.extend(page.get("rooms", []))
            if not page.get("next_batch"):
                return rooms
            query["from"] = page["next_batch"]

    async def space_children(self, space_id: str) -> list[JSONDict]:
        """The space's direct children that this user can see, as ``/hierarchy`` summaries
        (``room_id``, ``name``, ``room_type``, ``children_state``…), in the server's order."""
        rooms = await self.hierarchy(space_id, max_depth=1)
        return [r for r in rooms if r["room_id"] != space_id]

    async def wait_for_event(
        self,
        room_id: str,
        predicate: Callable[[JSONDict], bool],
        *,
        types: Iterable[str] | None = None,
        timeout: float = 10.0,
        what: str = "a matching event",
    ) -> JSONDict:
        """Poll the timeline until an event matches ``predicate``; return the oldest match."""
        type_list = list(types) if types is not None else None

        async def check() -> JSONDict | None:
            for event in await self.timeline(room_id, types=type_list):
                if predicate(event):
                    return event
            return None

        return await wait_until(check, timeout=timeout, what=f"{what} in {room_id}")

    async def wait_for_message(self, room_id: str, body: str, *, timeout: float = 10.0) -> JSONDict:
        """Wait for an ``m.room.message`` whose body is exactly ``body``."""
        return await self.wait_for_event(
            room_id,
            lambda e: e.get("content", {}).get("body") == body,
            types=["m.room.message"],
            timeout=timeout,
            what=f"message {body!r}",
        )
