"""kill -9 both ways (issue 17 §14): the bridge as a process, SIGKILLed three times under a
steady mix of traffic in two channels, restarted each time.

Discord: messages, edits, reactions (added and removed) and deletions; Matrix: messages,
edits, reactions (added and redacted) and redactions. Kills: during a Discord burst (the rest
of it posted while the bridge is down), right after a start-up (catch-up under way), during a
Matrix burst (the rest sent while it is down), with webhook faults (503, 429, 204 without a
body) met on the way. At the end every message is on the other side exactly once, with its
final content and reactions; deleted ones are redacted, redacted ones deleted: sent → lost 0,
doubled 0. The runs alternate DEBUG and INFO logs, and no log holds any secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.bridge import BridgeProcess, StartBridge
from tests.fixtures.community import Community, eventually
from tests.fixtures.discord import SandboxGuild
from tests.reliability.shared import EXECUTE, leaked, logging_at, query, secrets_of_the_run

pytestmark = pytest.mark.slow

ROUNDS = 6  # rounds per burst; each round acts once in each of the two channels
D_REACTION, M_REACTION = "👍", "🎉"
PROVISIONING_SECRET = "provisioning-secret-of-the-kill-test"


@dataclass
class Sent:
    """One message as its sender last left it."""

    original: str
    final: str
    reactions: set[str] = field(default_factory=set)
    deleted: bool = False
    reaction_event: str = ""  # Matrix: the reaction's event, to redact it


@dataclass
class Side:
    """The messages sent on one side, per channel, in order."""

    sent: dict[int, list[tuple[Any, Sent]]] = field(default_factory=dict)  # channel → (id, Sent)

    def round_targets(self, channel: int) -> list[tuple[Any, Sent]]:
        return self.sent.setdefault(channel, [])


def _counted(found: dict[str, list[str]], sent: Sent, copies: list[Any], gone: str) -> bool:
    """Record a deleted message still there, a lost one or a doubled one in ``found``; whether
    the message is there to check further (not deleted, not lost)."""
    if sent.deleted:
        if copies:
            found["doubled"].append(f"{sent.original} ({gone})")
        return False
    if not copies:
        found["lost"].append(sent.original)
        return False
    if len(copies) > 1:
        found["doubled"].append(f"{sent.original} ×{len(copies)}")
    return True


class Traffic:
    """A steady mix of traffic, both ways, in two channels; and what should result."""

    def __init__(
        self, store: Any, community: Community, human: MatrixTestClient, rooms: dict[int, str]
    ) -> None:
        self.store, self.community, self.human, self.rooms = store, community, human, rooms
        self.discord, self.matrix = Side(), Side()

    def discord_round(self) -> None:
        """Post, edit the previous one, react to the one before, delete one, unreact one."""
        users = self.community.users
        for channel in self.rooms:
            mine = self.discord.round_targets(channel)
            n = len(mine)
            text = f"D{n} in {channel}"
            author = users["alice" if n % 2 else "bob"]
            mine.append((self.store.create_message(channel, author, text).id, Sent(text, text)))
            if n % 3 == 1:
                message_id, sent = mine[n - 1]
                sent.final = f"{sent.original} (edited)"
                self.store.edit_message(channel, message_id, content=sent.final)
            if n >= 2:
                message_id, sent = mine[n - 2]
                self.store.add_reaction(channel, message_id, users["carol"], D_REACTION)
                sent.reactions.add(D_REACTION)
            if n % 4 == 3:
                message_id, sent = mine[n - 3]
                self.store.delete_message(channel, message_id)
                sent.deleted = True
            if n % 5 == 4 and not mine[n - 4][1].deleted:
                message_id, sent = mine[n - 4]
                self.store.remove_reaction(channel, message_id, users["carol"], D_REACTION)
                sent.reactions.discard(D_REACTION)

    async def matrix_round(self) -> None:
        """The same on Matrix: send, edit, react, redact a message, redact a reaction."""
        human = self.human
        for channel, room in self.rooms.items():
            mine = self.matrix.round_targets(channel)
            n = len(mine)
            text = f"M{n} in {channel}"
            mine.append((await human.send_text(room, text), Sent(text, text)))
            if n % 3 == 1:
                event_id, sent = mine[n - 1]
                sent.final = f"{sent.original} (edited)"
                await human.send(
                    room,
                    {
                        "msgtype": "m.text",
                        "body": f"* {sent.final}",
                        "m.new_content": {"msgtype": "m.text", "body": sent.final},
                        "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
                    },
                )
            if n >= 2:
                event_id, sent = mine[n - 2]
                relation = {"rel_type": "m.annotation", "event_id": event_id, "key": M_REACTION}
                sent.reaction_event = await human.send(
                    room, {"m.relates_to": relation}, "m.reaction"
                )
                sent.reactions.add(M_REACTION)
            if n % 4 == 3:
                event_id, sent = mine[n - 3]
                await human.api.redact(room, event_id)  # type: ignore[arg-type]
                sent.deleted = True
            if n % 5 == 4 and not mine[n - 4][1].deleted:
                _, sent = mine[n - 4]
                await human.api.redact(room, sent.reaction_event)  # type: ignore[arg-type]
                sent.reactions.discard(M_REACTION)

    async def d2m_faults(self, viewer: MatrixTestClient) -> dict[str, list[str]]:
        """Discord → Matrix: what is lost, doubled or stale (wrong content or reactions)."""
        found: dict[str, list[str]] = {"lost": [], "doubled": [], "stale": []}
        for channel, room in self.rooms.items():
            events = await viewer.timeline(room, types=["m.room.message", "m.reaction"])
            live = [e for e in events if "redacted_because" not in e.get("unsigned", {})]
            originals: dict[str, list[str]] = {}
            edits: dict[str, str] = {}
            reactions: dict[str, Counter[str]] = {}
            for event in live:
                content = event.get("content", {})
                relation = content.get("m.relates_to", {})
                if event["type"] == "m.reaction":
                    reactions.setdefault(relation.get("event_id", ""), Counter())[
                        relation.get("key", "")
                    ] += 1
                elif relation.get("rel_type") == "m.replace":
                    edits[relation["event_id"]] = content.get("m.new_content", {}).get("body", "")
                elif "body" in content:
                    originals.setdefault(content["body"], []).append(event["event_id"])
            for _, sent in self.discord.sent.get(channel, []):
                # caught up after an edit, it arrives with its final content at once
                copies = originals.get(sent.original, []) + (
                    originals.get(sent.final, []) if sent.final != sent.original else []
                )
                if not _counted(found, sent, copies, "deleted, still shown"):
                    continue
                event_id = copies[0]
                shown = edits.get(event_id, sent.original)
                keys = reactions.get(event_id, Counter())
                if (
                    shown != sent.final
                    or set(keys) != sent.reactions
                    or max(keys.values(), default=1) > 1
                ):
                    found["stale"].append(f"{sent.original}: {shown!r} {dict(keys)}")
        return found

    def m2d_faults(self, bot_id: int) -> dict[str, list[str]]:
        """Matrix → Discord: what is lost, doubled or stale (wrong content or reactions)."""
        found: dict[str, list[str]] = {"lost": [], "doubled": [], "stale": []}
        for channel in self.rooms:
            on_discord = [
                m for m in self.store.history(channel, limit=100) if m.webhook_id is not None
            ]
            for _, sent in self.matrix.sent.get(channel, []):
                copies = [m for m in on_discord if m.content in (sent.original, sent.final)]
                if not _counted(found, sent, copies, "redacted, still there"):
                    continue
                message = copies[0]
                emoji = {r.name for r in message.reactions if bot_id in r.user_ids}
                if message.content != sent.final or emoji != sent.reactions:
                    found["stale"].append(f"{sent.original}: {message.content!r} {emoji}")
        return found

    def counts(self) -> tuple[int, int]:
        """Messages sent from Discord, from Matrix."""
        return (
            sum(len(v) for v in self.discord.sent.values()),
            sum(len(v) for v in self.matrix.sent.values()),
        )


async def rounds_then_kill(
    do_round: Any, process: BridgeProcess, before_kill: int, total: int = ROUNDS
) -> None:
    """``total`` rounds of traffic; SIGKILL after ``before_kill`` of them (the rest is sent
    while the bridge is down)."""
    for n in range(total):
        if n == before_kill:
            process.kill()
        result = do_round()
        if asyncio.iscoroutine(result):
            await result
        await asyncio.sleep(0.05)


async def test_kill_9_three_times_both_ways_loses_and_doubles_nothing(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    community: Community,
    start_bridge: StartBridge,
    make_matrix_user,  # noqa: ANN001
    bot_view: MatrixTestClient,
    bridge_config_path: Path,
    tmp_path: Path,
) -> None:
    store, faults = sandbox_guild.emulator.store, sandbox_guild.emulator.faults
    database = tmp_path / "bridge.db"
    overrides = {
        **sandbox_guild.bridge_overrides(),
        "homeserver.address": synapse.url,
        "bridge.guilds": f"[{community.guild_id}]",
        "bridge.provisioning.shared_secret": PROVISIONING_SECRET,
        "appservice.database.url": f"sqlite:{database}",
    }
    runs: list[BridgeProcess] = []

    def start() -> BridgeProcess:
        level = ("DEBUG", "INFO")[len(runs) % 2]
        runs.append(start_bridge({**overrides, "logging": logging_at(level)}))
        return runs[-1]

    channels = [community.channels["lounge"], community.channels["general"]]
    bridge = start()
    await bridge.wait_for_output("Bridge started as")
    rooms = {
        c: query(database, "SELECT room_id FROM portal WHERE discord_id = ?", c)[0][0]
        for c in channels
    }
    space = query(
        database, "SELECT space_room_id FROM guild WHERE discord_id = ?", community.guild_id
    )[0][0]
    human = await make_matrix_user(displayname="Nine")
    await human.join(space)
    for room in rooms.values():
        await human.join(room)
    traffic = Traffic(store, community, human, rooms)
    try:
        # Warm-up, both ways, so each channel has its webhook and a message from Discord.
        await traffic.matrix_round()
        traffic.discord_round()
        await converged(traffic, bot_view, sandbox_guild, timeout=30)

        # 1. A Discord burst; kill -9 in the middle of it; the rest while down.
        await rounds_then_kill(traffic.discord_round, bridge, before_kill=3)
        # 2. Restart, kill -9 as soon as Discord is connected: catch-up under way.
        bridge = start()
        await bridge.wait_for_output("Connected to Discord as")
        bridge.kill()
        # A deletion now too: a message sent to Matrix but not recorded before the kill, then
        # deleted, is redacted at the next start (catch_up_orphans.py).
        traffic.discord_round()
        # 3. Restart; a Matrix burst through webhook faults; kill -9 in the middle of it.
        bridge = start()
        await bridge.wait_for_output("Bridge started as")
        faults.fail_next(1, 503, EXECUTE)
        faults.fail_next(2, 429, EXECUTE, retry_after=0.2)
        faults.fail_next(1, 204, EXECUTE)
        await rounds_then_kill(traffic.matrix_round, bridge, before_kill=3)
        # 4. Restart; steady traffic both ways, then everything settles.
        bridge = start()
        await bridge.wait_for_output("Bridge started as")
        for _ in range(3):
            traffic.discord_round()
            await traffic.matrix_round()
        await converged(traffic, bot_view, sandbox_guild, timeout=90)
        assert await bridge.stop() == 0
    finally:
        faults.clear()
        for run in runs:
            run.kill()

    assert not faults.rules  # the faults were all met
    secrets = secrets_of_the_run(
        bridge_config_path, sandbox_guild, {"provisioning secret": PROVISIONING_SECRET}
    )
    assert len(secrets) >= 6  # two webhooks at least
    for run in runs:
        assert not leaked(run.output, secrets), f"secrets in {run.log_path}"
    levels = Counter(" DEBUG [" in run.output for run in runs)
    assert levels[True] >= 2 and levels[False] >= 2  # both levels were scanned
    everything = "".join(run.output for run in runs)
    assert "/webhooks/" in everything and "***" in everything  # the scan can fail


async def converged(
    traffic: Traffic, viewer: MatrixTestClient, sandbox: SandboxGuild, timeout: float
) -> None:
    """Wait until both sides show what was sent; fail with the counts if they never do."""
    last: dict[str, dict[str, list[str]]] = {}

    async def settled() -> bool | None:
        last["d2m"] = await traffic.d2m_faults(viewer)
        last["m2d"] = traffic.m2d_faults(sandbox.bot.id)
        return None if any(any(v.values()) for v in last.values()) else True

    with contextlib.suppress(AssertionError, TimeoutError):
        await eventually(settled, "both sides settled", timeout=timeout)
    from_discord, from_matrix = traffic.counts()
    for way, sent in (("d2m", from_discord), ("m2d", from_matrix)):
        found = last.get("d2m" if way == "d2m" else "m2d", {})
        print(
            f"{way}: sent {sent} → lost {len(found.get('lost', []))} / "
            f"doubled {len(found.get('doubled', []))} / stale {len(found.get('stale', []))}"
        )
    assert not any(any(v.values()) for v in last.values()), json.dumps(last, indent=1)
