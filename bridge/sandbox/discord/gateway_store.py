"""Gateway payloads built from the store: READY, GUILD_CREATE, GUILD_MEMBERS_CHUNK, THREAD_LIST_SYNC."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import payloads
from .events import Intents

if TYPE_CHECKING:
    from .store import Store
    from .store.models import Application, User

#: What a prefix query or a user id list may return at most (Discord's limit).
QUERY_LIMIT = 100


def bot_ready_payload(
    store: Store, user: User, application: Application, guild_ids: list[int]
) -> dict[str, Any]:
    """READY's data without ``session_id`` and ``resume_gateway_url`` (the gateway adds them)."""
    return {
        "v": 10,
        "user": payloads.user_pii(store, user),
        "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
        "application": {"id": str(application.id), "flags": application.flags},
        "session_type": "normal",
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "user_settings": {},
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": [],
        "auth": {},
        "_trace": ["discord-emulator"],
    }


def guild_create_for_session(
    store: Store, guild_id: int, intents: Intents, bot_id: int, large_threshold: int = 250
) -> dict[str, Any]:
    """GUILD_CREATE data as a session with ``intents`` gets it."""
    return store.guild_create_payload(
        guild_id, intents=intents, user_id=bot_id, large_threshold=large_threshold
    )


def member_chunks(
    store: Store, guild_id: int, request: dict[str, Any], intents: Intents, chunk_size: int
) -> Iterator[dict[str, Any]]:
    """GUILD_MEMBERS_CHUNK payloads answering one REQUEST_GUILD_MEMBERS (op 8).

    ``user_ids`` (≤ 100) or a ``query`` prefix (≤ 100 results unless the query is empty and
    ``limit`` 0: the whole member list, which needs GUILD_MEMBERS: without it nothing matches).
    """
    raw_ids = request.get("user_ids")
    not_found: list[str] | None = None
    if raw_ids is not None:
        ids = [int(u) for u in (raw_ids if isinstance(raw_ids, list) else [raw_ids])][:QUERY_LIMIT]
        members = store.query_members(guild_id, user_ids=ids)
        found = {m.user_id for m in members}
        not_found = [str(u) for u in ids if u not in found]
    else:
        query = str(request.get("query") or "")
        limit = int(request.get("limit") or 0)
        whole_list = not query and limit == 0
        if whole_list and not intents & Intents.GUILD_MEMBERS:
            members = []
        else:
            if not whole_list:
                limit = min(limit or QUERY_LIMIT, QUERY_LIMIT)
            members = store.query_members(guild_id, query=query, limit=limit)
    pages = [members[i : i + chunk_size] for i in range(0, len(members), chunk_size)] or [[]]
    presences = bool(request.get("presences")) and bool(intents & Intents.GUILD_PRESENCES)
    for index, page in enumerate(pages):
        chunk: dict[str, Any] = {
            "guild_id": str(guild_id),
            "members": [payloads.member(store, m) for m in page],
            "chunk_index": index,
            "chunk_count": len(pages),
        }
        if not_found is not None and index == 0:
            chunk["not_found"] = not_found
        if presences:
            chunk["presences"] = []
        if request.get("nonce") is not None:
            chunk["nonce"] = request["nonce"]
        yield chunk


def emit_thread_list_sync(
    store: Store, guild_id: int, channel_ids: list[int] | None = None
) -> dict[str, Any]:
    """Emit THREAD_LIST_SYNC for a guild's active threads (all, or those under ``channel_ids``).

    Discord sends it when a bot gains access to channels; the store has no such change, so
    tests and the control API trigger it here. Returns the data sent.
    """
    threads = store.active_threads(guild_id)
    if channel_ids is not None:
        wanted = {int(c) for c in channel_ids}
        threads = [t for t in threads if t.parent_id in wanted]
    data: dict[str, Any] = {
        "guild_id": str(guild_id),
        "threads": [payloads.channel(store, t) for t in threads],
        "members": [
            payloads.thread_member(store, t, tm)
            for t in threads
            for tm in t.thread_members.values()
        ],
    }
    if channel_ids is not None:
        data["channel_ids"] = [str(c) for c in channel_ids]
    store.events.emit("THREAD_LIST_SYNC", data, guild_id=guild_id, intent=Intents.GUILDS)
    return data
