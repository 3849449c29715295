"""What a command's executor gets: who sent it, where, and how to answer there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..actions.admin.services import Actor, AdminServices
from ..permissions import Level
from .render import Reply


@dataclass
class CommandContext:
    """One command being run from Matrix.

    ``reply`` posts a reply to the command (in its thread, if it was sent in one) and
    returns the reply's event id; ``edit`` replaces a reply's text (progress messages).
    """

    services: AdminServices
    sender: str
    room_id: str
    event_id: str
    level: Level
    prefix: str
    management_room: bool
    reply: Callable[[Reply], Awaitable[str]]
    edit: Callable[[str, Reply], Awaitable[None]]

    @property
    def actor(self) -> Actor:
        return Actor("matrix", mxid=self.sender)

    def line(self, text: str) -> str:
        """How to type a command here (bare in a management room, else with the prefix)."""
        return text if self.management_room else f"{self.prefix} {text}"
