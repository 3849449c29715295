"""The baseline for bridge benchmarks: the very events the bridge sent, sent again without it.

For each room the bridge filled, a fresh copy is made (the same state, power levels and
members' profiles), then its timeline from the first ghost's arrival onwards is sent again
straight through the appservice API: the same senders, contents and ``ts``, invites and
joins where they were, one sender per room, all rooms in parallel. What the homeserver
accepts this way is what the bridge could reach if it added nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from mautrix.api import Method
from mautrix.api import Path as MatrixPath

from bridge.sandbox.matrix_client import MatrixTestClient

JSONDict = dict[str, Any]
# State that a copy cannot take at creation: set by createRoom itself, checked against the
# original room (aliases), or set at the end of the timeline (pins).
NOT_COPIED = {
    "m.room.create",
    "m.room.member",
    "m.room.power_levels",
    "m.room.canonical_alias",
    "m.room.pinned_events",
}
MESSAGE_TYPES = {"m.room.message", "m.sticker"}


@dataclass
class ReplayTiming:
    """When sending began, and when each message event's send returned, across all rooms."""

    started_at: float = 0.0
    # One entry per Discord message: its parts share the room, sender and timestamp.
    done_at: dict[tuple[str, str, int], float] = field(default_factory=dict)
    events: int = 0

    def messages_per_second(self) -> float:
        """Like the importer's rate: from when sending began (joins included) to the last
        message."""
        if not self.done_at:
            return 0.0
        return len(self.done_at) / (self.finished_at - self.started_at)

    @property
    def finished_at(self) -> float:
        return max(self.done_at.values())


def first_ghost_event(timeline: list[JSONDict], bot_mxid: str) -> int:
    """Where the replay starts: the first event by a ghost or about one (its invite);
    what came before is the room's creation, which the copy already has."""
    for index, event in enumerate(timeline):
        about_ghost = event["type"] == "m.room.member" and event.get("state_key") != bot_mxid
        if event["sender"] != bot_mxid or about_ghost:
            return index
    return len(timeline)


class Replayer:
    """Sends a room's recorded events again, each by its original sender."""

    def __init__(self, homeserver: str, as_token: str, bot_mxid: str) -> None:
        self.homeserver, self.as_token, self.bot_mxid = homeserver, as_token, bot_mxid
        self.clients: dict[str, MatrixTestClient] = {}

    def client(self, mxid: str) -> MatrixTestClient:
        if mxid not in self.clients:
            self.clients[mxid] = MatrixTestClient(self.homeserver, self.as_token, as_user_id=mxid)
        return self.clients[mxid]

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()

    async def copy_room(self, room_id: str) -> tuple[str, list[JSONDict]]:
        """A new room with the original's state, and the events to send into it."""
        bot = self.client(self.bot_mxid)
        state = await bot.state(room_id)
        timeline = await bot.timeline(room_id, limit=100_000)
        levels = next(e["content"] for e in state if e["type"] == "m.room.power_levels")
        users = {u: v for u, v in levels.get("users", {}).items() if u != self.bot_mxid}
        initial = [
            {"type": e["type"], "state_key": e["state_key"], "content": e["content"]}
            for e in state
            if e["type"] not in NOT_COPIED
        ]
        response = await bot.api.api.request(
            Method.POST,
            MatrixPath.v3.createRoom,
            {
                "preset": "private_chat",
                "initial_state": initial,
                "power_level_content_override": {**levels, "users": users},
            },
        )
        start = first_ghost_event(timeline, self.bot_mxid)
        return response["room_id"], timeline[start:]

    async def send_all(self, room_id: str, events: list[JSONDict], timing: ReplayTiming) -> None:
        """The events in order, as their senders, with their original timestamps."""
        for number, event in enumerate(events):
            sender, kind, content = event["sender"], event["type"], event["content"]
            ts = {"ts": str(event["origin_server_ts"])}
            api = self.client(sender).api.api
            if kind == "m.room.member" and content.get("membership") == "invite":
                await api.request(
                    Method.POST,
                    MatrixPath.v3.rooms[room_id].invite,
                    {"user_id": event["state_key"]},
                )
            elif "state_key" in event:
                await api.request(
                    Method.PUT,
                    MatrixPath.v3.rooms[room_id].state[kind][event["state_key"]],
                    content,
                    query_params=ts,
                )
            else:
                await api.request(
                    Method.PUT,
                    MatrixPath.v3.rooms[room_id].send[kind][f"replay{number}"],
                    content,
                    query_params=ts,
                )
                if kind in MESSAGE_TYPES:
                    message = (room_id, sender, event["origin_server_ts"])
                    timing.done_at[message] = time.monotonic()
            timing.events += 1


async def replay_rooms(
    homeserver: str, as_token: str, bot_mxid: str, room_ids: list[str]
) -> ReplayTiming:
    """Copy every room, then replay all of them in parallel (one sender per room)."""
    replayer = Replayer(homeserver, as_token, bot_mxid)
    try:
        copies = [await replayer.copy_room(room_id) for room_id in room_ids]
        timing = ReplayTiming(started_at=time.monotonic())
        await asyncio.gather(*(replayer.send_all(room, events, timing) for room, events in copies))
        return timing
    finally:
        await replayer.close()
