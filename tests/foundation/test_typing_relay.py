"""Matrix typing → the bot typing on Discord: who counts, when, and how often per channel."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from mautrix.types import EventType, RoomID, TypingEvent, TypingEventContent, UserID

from bridge.actions.m2d.services import M2DServices
from bridge.actions.m2d.typing import ChannelThrottle, TypingRelay, started_typing
from bridge.db.rows import PortalRow

BOT = "@discordbot:example.org"
ALICE = "@alice:example.org"
BOB = "@bob:example.org"
GHOST = "@discord_7:example.org"
STRANGER = "@eve:elsewhere.org"
ROOM = "!general:example.org"
CHANNEL = 111


def test_only_users_who_start_typing_count() -> None:
    everyone = lambda user: True  # noqa: E731
    assert started_typing([], [ALICE], everyone) == [ALICE]
    assert started_typing([ALICE], [ALICE], everyone) == []  # still typing
    assert started_typing([ALICE], [], everyone) == []  # stopped
    assert started_typing([ALICE], [ALICE, BOB], everyone) == [BOB]
    assert started_typing([], [ALICE, BOB], lambda user: user == BOB) == [BOB]


def test_one_call_per_channel_per_interval() -> None:
    now = [100.0]
    throttle = ChannelThrottle(8.0, clock=lambda: now[0])
    assert throttle.allow(1)
    assert not throttle.allow(1)
    assert throttle.allow(2)  # another channel
    now[0] += 7.9
    assert not throttle.allow(1)
    now[0] += 0.1
    assert throttle.allow(1)


class FakeDiscordHttp:
    def __init__(self) -> None:
        self.typing: list[int] = []

    async def send_typing(self, channel_id: int) -> None:
        self.typing.append(channel_id)


def _relay(portal: PortalRow | None) -> tuple[TypingRelay, FakeDiscordHttp, list[float]]:
    http = FakeDiscordHttp()

    async def portal_by_room(room_id: str) -> PortalRow | None:
        return portal if portal is not None and room_id == portal.room_id else None

    services: Any = SimpleNamespace(
        bot=SimpleNamespace(mxid=BOT),
        puppets=SimpleNamespace(is_ghost=lambda user: user.startswith("@discord_")),
        options=SimpleNamespace(permissions={"example.org": "relay"}),
        tables=SimpleNamespace(portal_by_room=portal_by_room),
        discord=SimpleNamespace(http=http),
    )
    now = [0.0]
    relay = TypingRelay(cast(M2DServices, services), ChannelThrottle(8.0, lambda: now[0]))
    return relay, http, now


def _typing(*users: str, room: str = ROOM) -> TypingEvent:
    return TypingEvent(
        room_id=RoomID(room),
        content=TypingEventContent(user_ids=[UserID(user) for user in users]),
        type=EventType.TYPING,
    )


async def test_a_matrix_user_starting_to_type_makes_the_bot_type_in_the_channel() -> None:
    relay, http, now = _relay(PortalRow(CHANNEL, guild_id=1, room_id=ROOM))
    assert await relay.handle(_typing(ALICE))
    assert http.typing == [CHANNEL]
    assert not await relay.handle(_typing(ALICE))  # still typing: nothing new
    assert not await relay.handle(_typing())  # stopping sends nothing
    assert not await relay.handle(_typing(ALICE))  # again within 8 s: throttled
    now[0] = 8.0
    assert not await relay.handle(_typing(ALICE))  # the same typing run: nothing new
    assert await relay.handle(_typing(ALICE, BOB))
    assert http.typing == [CHANNEL, CHANNEL]


async def test_the_bot_ghosts_and_users_without_relay_level_do_not_type() -> None:
    relay, http, _ = _relay(PortalRow(CHANNEL, guild_id=1, room_id=ROOM))
    assert not await relay.handle(_typing(BOT, GHOST, STRANGER))
    assert http.typing == []


async def test_no_typing_outside_portals_or_with_relay_off() -> None:
    relay, http, _ = _relay(PortalRow(CHANNEL, guild_id=1, room_id=ROOM, relay_enabled=False))
    assert not await relay.handle(_typing(ALICE))
    assert not await relay.handle(_typing(ALICE, room="!elsewhere:example.org"))
    assert http.typing == []
