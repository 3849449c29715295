"""What an import would do, for ``import --dry-run``: counts per channel, a total, a duration.

Pure: the callers (the API dry run and the export dry run) count, this module adds up and
words the report. Nothing here touches the homeserver, Discord or the database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from .model import ImportItem

# A small Synapse takes about this many events per second from one appservice; a faster
# homeserver imports faster, so the estimate says so.
ASSUMED_EVENTS_PER_SECOND = 20


@dataclass
class ChannelPlan:
    """One channel's share of an import: its own messages and its threads' (or a forum's
    posts'), each message once; ``bytes`` is the attachments' total size in bytes;
    ``reactions`` counts one per user and emoji (each is a Matrix event of its own). The
    counts are what a real run would send: ``already`` counts the messages an earlier,
    unfinished import sent (not counted again); ``finished`` says an earlier import of the
    whole channel finished (nothing to send)."""

    name: str
    messages: int = 0
    threads: int = 0
    attachments: int = 0
    bytes: int = 0
    reactions: int = 0
    already: int = 0
    finished: bool = False

    def add(self, other: ChannelPlan) -> None:
        self.already += other.already
        self.messages += other.messages
        self.threads += other.threads
        self.attachments += other.attachments
        self.bytes += other.bytes
        self.reactions += other.reactions

    @property
    def events(self) -> int:
        """Matrix events the import sends, about: a message, an extra one per attachment
        (rough: an attachment without text is one event with its message), a reaction each."""
        return self.messages + self.attachments + self.reactions


def count_items(plan: ChannelPlan, items: Iterable[ImportItem]) -> None:
    """Add exported messages (with the users listed under their reactions) to ``plan``."""
    for item in items:
        plan.messages += 1
        plan.attachments += len(item.message.attachments)
        plan.bytes += sum(attachment.size for attachment in item.message.attachments)
        plan.reactions += sum(len(reaction.users) for reaction in item.reactions)


def size_text(count: int) -> str:
    """Bytes for people: ``512 bytes``, ``1.5 KB``, ``3.2 MB`` (powers of 1000)."""
    if count < 1000:
        return f"{count} bytes"
    value = float(count)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


def duration_text(events: int, per_second: float = ASSUMED_EVENTS_PER_SECOND) -> str:
    """How long ``events`` take at ``per_second``, rounded up and never "0.0 minutes":
    ``nothing to send``, ``under a minute``, ``about 3 minutes``, ``about 2 h 5 min``."""
    if events <= 0:
        return "nothing to send"
    seconds = events / per_second
    if seconds < 60:
        return "under a minute"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min"


def channel_line(plan: ChannelPlan) -> str:
    """``  #general: 12 messages, 1 threads, …`` (``, after 40 already imported`` for a
    resumed import), or ``  #general: already imported, nothing to send``."""
    if plan.finished:
        return f"  #{plan.name}: already imported, nothing to send"
    resumed = f", after {plan.already} already imported" if plan.already else ""
    return (
        f"  #{plan.name}: {plan.messages} messages, {plan.threads} threads, "
        f"{plan.attachments} attachments ({size_text(plan.bytes)}), {plan.reactions} reactions"
        f"{resumed}"
    )


def plan_report(title: str, plans: Iterable[ChannelPlan]) -> str:
    """The dry run's text: ``title``, a line per channel, the total and the estimate."""
    total = ChannelPlan("total")
    lines = [title]
    for plan in plans:
        total.add(plan)
        lines.append(channel_line(plan))
    lines.append(
        f"Total: {total.messages} messages, {total.threads} threads, {total.attachments} "
        f"attachments ({size_text(total.bytes)}), {total.reactions} reactions: about "
        f"{total.events} Matrix events, {duration_text(total.events)} at "
        f"{ASSUMED_EVENTS_PER_SECOND} events/s (a small Synapse; yours may be faster)."
    )
    if total.already:
        lines.append(f"Not counted: {total.already} messages that earlier imports sent already.")
    lines.append("Dry run: nothing was created, sent or stored.")
    return "\n".join(lines)
