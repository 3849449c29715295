"""The demo's scripted conversation: a Discord user and a Matrix user talk, edit, reply, react
and share an image; each step is checked on the other side."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..app import Bridge
from .discord.cdn import solid_png
from .discord.sample import SampleIds
from .discord.server import DiscordEmulator
from .homeserver import LocalSynapse
from .matrix_client import MatrixTestClient, wait_until

STEP_TIMEOUT = 30.0
Say = Callable[[str], None]


@dataclass
class Stage:
    description: str
    direction: str  # "Discord → Matrix" or "Matrix → Discord"
    arrived: bool = False


class Conversation:
    def __init__(
        self,
        bridge: Bridge,
        emulator: DiscordEmulator,
        sample: SampleIds,
        synapse: LocalSynapse,
        user: str,
        password: str,
    ) -> None:
        self.bridge, self.store, self.sample = bridge, emulator.store, sample
        self.synapse, self.user, self.password = synapse, user, password
        self.channel = sample.channels["general"]
        self.stages: list[Stage] = []

    async def _room_of(self, channel_id: int) -> str:
        assert self.bridge.database is not None
        row = await self.bridge.database.tables.portals.get(channel_id)
        assert row is not None and row.room_id is not None
        return row.room_id

    async def _step(
        self, say: Say, direction: str, text: str, check: Callable[[], Awaitable[Any]]
    ) -> Any:
        stage = Stage(text, direction)
        self.stages.append(stage)
        say(f"[{direction.split(' ')[0]}] {text}")
        try:
            result = await wait_until(check, timeout=STEP_TIMEOUT, what=text)
        except TimeoutError:
            say(f"    ✗ did not arrive on the other side within {STEP_TIMEOUT:.0f} s")
            return None
        stage.arrived = True
        say(f"    ✓ arrived in {direction.split('→ ')[1]}")
        return result

    async def play(self, say: Say) -> list[Stage]:
        human = await MatrixTestClient.login(self.synapse.url, self.user, self.password)
        try:
            await self._play(say, human)
        finally:
            await human.close()
        return self.stages

    async def _play(self, say: Say, human: MatrixTestClient) -> None:
        assert self.bridge.database is not None
        guild_row = await self.bridge.database.tables.guilds.get(self.sample.guild_id)
        assert guild_row is not None and guild_row.space_room_id is not None
        room = await self._room_of(self.channel)
        await human.join(guild_row.space_room_id)
        await human.join(room)
        say(f"\n== A conversation in #general ({room}) ==")
        chloe = self.sample.users["chloe"]

        def matrix_event(predicate: Callable[[dict], bool], types: list[str] | None = None):
            async def check() -> dict | None:
                events = await human.timeline(room, types=types or ["m.room.message"])
                return next((e for e in reversed(events) if predicate(e)), None)

            return check

        def discord_message(predicate: Callable[[Any], bool]):
            async def check() -> Any:
                history = self.store.history(self.channel, limit=20)
                return next((m for m in history if predicate(m)), None)

            return check

        greeting = self.store.create_message(self.channel, chloe, "Hi from Discord! 👋")
        await self._step(
            say,
            "Discord → Matrix",
            "Chloé: Hi from Discord! 👋",
            matrix_event(lambda e: e["content"].get("body") == "Hi from Discord! 👋"),
        )
        await human.send(
            room,
            {
                "msgtype": "m.text",
                "body": "Hello from **Matrix**!",
                "format": "org.matrix.custom.html",
                "formatted_body": "Hello from <strong>Matrix</strong>!",
            },
        )
        reply_target = await self._step(
            say,
            "Matrix → Discord",
            "Demo User: Hello from **Matrix**!",
            discord_message(lambda m: m.content == "Hello from **Matrix**!"),
        )
        self.store.edit_message(self.channel, greeting.id, content="Hi from Discord! 👋 (edited)")
        await self._step(
            say,
            "Discord → Matrix",
            "Chloé edits her greeting",
            matrix_event(
                lambda e: e["content"].get("m.new_content", {}).get("body", "").endswith("(edited)")
            ),
        )
        if reply_target is not None:
            self.store.create_message(
                self.channel, chloe, "Nice to meet you!", reply_to=reply_target.id
            )
            await self._step(
                say,
                "Discord → Matrix",
                "Chloé replies: Nice to meet you!",
                matrix_event(
                    lambda e: (
                        e["content"].get("body") == "Nice to meet you!"
                        and "m.in_reply_to" in e["content"].get("m.relates_to", {})
                    )
                ),
            )
        greeting_event = await matrix_event(
            lambda e: e["content"].get("body", "").startswith("Hi from Discord")
        )()
        if greeting_event is not None:
            await human.send(
                room,
                {
                    "m.relates_to": {
                        "rel_type": "m.annotation",
                        "event_id": greeting_event["event_id"],
                        "key": "🎉",
                    }
                },
                "m.reaction",
            )
            bot_id = self.sample.bot_user_id
            await self._step(
                say,
                "Matrix → Discord",
                "Demo User reacts 🎉 to Chloé's greeting",
                discord_message(
                    lambda m: (
                        m.id == greeting.id
                        and any(r.name == "🎉" and bot_id in r.user_ids for r in m.reactions)
                    )
                ),
            )
        picture = solid_png(30, 120, 220, size=32)
        mxc = await human.api.upload_media(picture, mime_type="image/png", filename="blue.png")
        await human.send(
            room,
            {
                "msgtype": "m.image",
                "body": "blue.png",
                "url": mxc,
                "info": {"mimetype": "image/png", "size": len(picture)},
            },
        )
        await self._step(
            say,
            "Matrix → Discord",
            "Demo User shares an image (blue.png)",
            discord_message(lambda m: any(a.filename == "blue.png" for a in m.attachments)),
        )

    async def summary(self, seconds: float) -> str:
        assert self.bridge.database is not None
        tables = self.bridge.database.tables
        portals = await tables.portals.find("guild_id = $1", self.sample.guild_id)
        imported = sum(c.imported_count for c in await tables.import_checkpoints.find())
        both = [s for s in self.stages if s.arrived]
        to_matrix = sum(1 for s in both if s.direction.startswith("Discord"))
        to_discord = len(both) - to_matrix
        failed = [s.description for s in self.stages if not s.arrived]
        lines = [
            f"rooms and sub-spaces created: {len(portals)} (plus the guild's space)",
            f"messages imported: {imported}",
            f"relayed live: {to_matrix} Discord → Matrix, {to_discord} Matrix → Discord",
            f"time taken: {seconds:.1f} s ({time.strftime('%H:%M:%S')})",
        ]
        if failed:
            lines.append("did not arrive: " + "; ".join(failed))
        return "\n".join(lines)
