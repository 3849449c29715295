"""Bot commands from Matrix: find them, check the sender's level, run them, reply.

A Matrix user's direct chat with the bridge bot (see :mod:`.management_rooms`) is a management
room: every message there is a command. Anywhere else a command
starts with ``bridge.command_prefix``. Commands are never relayed to Discord. Every problem
(an unknown command, bad arguments, too low a level, a failed action) is a reply.
"""

from __future__ import annotations

import logging
from typing import Any

from mautrix.types import EventType, MessageEvent, MessageType, RoomID

from ..actions.admin.services import ActionError, AdminServices
from .arguments import HelpRequested, UsageError
from .context import CommandContext
from .executors import EXECUTORS
from .management_rooms import ManagementRooms
from .parse import UnknownCommand, command_spec, find_invocation, parse_arguments
from .render import (
    Reply,
    error_reply,
    help_text_reply,
    refusal_reply,
    unknown_reply,
    usage_reply,
)
from .table import LOWEST_LEVEL

log = logging.getLogger("bridge.commands")
# Longer messages are not read as commands (a reply quoting them could exceed the event size).
MAX_COMMAND_CHARS = 1000


def starts_with_prefix(body: Any, prefix: str) -> bool:
    """Whether a message body starts with the command prefix (pure; such messages are
    commands, never relayed)."""
    if not isinstance(body, str) or not prefix.strip():
        return False
    text = body.lstrip().lower()
    head = prefix.strip().lower()
    return text.startswith(head) and (len(text) == len(head) or text[len(head)].isspace())


def is_prefixed_command(raw_event: dict[str, Any], prefix: str) -> bool:
    """A pushed ``m.room.message`` (as JSON) whose text starts with the prefix."""
    content = raw_event.get("content")
    return (
        raw_event.get("type") == "m.room.message"
        and isinstance(content, dict)
        and content.get("msgtype") in ("m.text", None)
        and "m.new_content" not in content
        and starts_with_prefix(content.get("body"), prefix)
    )


class MatrixCommands:
    """Runs the commands Matrix users send to the bridge bot."""

    def __init__(self, services: AdminServices) -> None:
        self.services = services
        self.prefix: str = services.config["bridge.command_prefix"]
        self._management_rooms: ManagementRooms | None = None

    @property
    def management_rooms(self) -> ManagementRooms:
        """The users' management rooms (read from the database at first use)."""
        if self._management_rooms is None:
            self._management_rooms = ManagementRooms(self.services.tables, self.services.bot)
        return self._management_rooms

    async def handle(self, event: MessageEvent) -> None:
        """Run the command in ``event``, if it holds one; never raises."""
        try:
            await self._handle(event)
        except Exception:
            log.exception("Command %s in %s failed", event.event_id, event.room_id)

    async def _handle(self, event: MessageEvent) -> None:
        if event.type != EventType.ROOM_MESSAGE or event.content.msgtype != MessageType.TEXT:
            return
        if event.content.get_edit():
            return
        sender, room_id = str(event.sender), str(event.room_id)
        if sender == self.services.bot.mxid or self.services.puppets.is_ghost(sender):
            return
        event.content.trim_reply_fallback()
        body = event.content.body or ""
        # The same check whether or not the prefix is there (commands in a direct chat act
        # on it as one); a message elsewhere costs a dictionary lookup.
        management = await self.is_management_room(room_id, sender)
        if not management and not starts_with_prefix(body, self.prefix):
            return
        context = self._context(event, management)
        if len(body) > MAX_COMMAND_CHARS:  # no command is this long; replies quote their input
            await context.reply(
                error_reply(
                    f"That is over {MAX_COMMAND_CHARS} characters: no command is so long. Send `help` for the commands."
                )
            )
            return
        try:
            invocation = find_invocation(body, prefix=self.prefix, management_room=management)
        except UsageError as error:
            await context.reply(usage_reply(error))
            return
        if invocation is None:
            return
        log.info("Command from %s in %s: %s", sender, room_id, invocation.name)
        reply = await self.run(context, invocation.name, invocation.argv)
        if reply is not None:  # None: the executor posted its reply itself (progress messages)
            await context.reply(reply)

    async def run(self, context: CommandContext, name: str, argv: list[str]) -> Reply | None:
        """The reply to one command (pure of I/O except for the action it runs)."""
        try:
            spec = command_spec(name)
        except UnknownCommand as error:
            if context.level < LOWEST_LEVEL:
                return refusal_reply(None, context.level)
            return unknown_reply(error, self.prefix, context.management_room)
        if context.level < spec.level:
            return refusal_reply(spec, context.level)
        try:
            arguments = parse_arguments(spec, argv, "" if context.management_room else self.prefix)
        except HelpRequested as shown:
            return help_text_reply(shown.text)
        except UsageError as error:
            return usage_reply(error)
        if spec.in_room and context.management_room:
            return error_reply(
                f"`{spec.name}` acts on the room it is sent in: send "
                f"`{self.prefix} {spec.name}` in that room, not in this direct chat."
            )
        try:
            return await EXECUTORS[spec.name](context, arguments)
        except ActionError as error:
            return error_reply(str(error))
        except Exception as error:
            log.exception("Command %s failed", spec.name)
            return error_reply(
                f"`{spec.name}` failed in the bridge ({type(error).__name__}: {error}). "
                "The bridge's log has the details."
            )

    async def is_management_room(self, room_id: str, sender: str) -> bool:
        """The sender's direct chat with the bot (see :mod:`.management_rooms`)."""
        return await self.management_rooms.check(room_id, sender)

    def _context(self, event: MessageEvent, management: bool) -> CommandContext:
        room_id, event_id = str(event.room_id), str(event.event_id)
        thread_root = event.content.get_thread_parent()
        bot = self.services.bot

        async def reply(message: Reply) -> str:
            content = message.content()
            if thread_root:
                content["m.relates_to"] = {
                    "rel_type": "m.thread",
                    "event_id": str(thread_root),
                    "is_falling_back": False,
                    "m.in_reply_to": {"event_id": event_id},
                }
            else:
                content["m.relates_to"] = {"m.in_reply_to": {"event_id": event_id}}
            sent = await bot.send_message_event(RoomID(room_id), EventType.ROOM_MESSAGE, content)  # type: ignore[arg-type]
            return str(sent)

        async def edit(target: str, message: Reply) -> None:
            new = message.content()
            content = {
                **new,
                "body": f"* {new['body']}",
                "formatted_body": f"* {new['formatted_body']}",
                "m.new_content": new,
                "m.relates_to": {"rel_type": "m.replace", "event_id": target},
            }
            await bot.send_message_event(RoomID(room_id), EventType.ROOM_MESSAGE, content)  # type: ignore[arg-type]

        return CommandContext(
            services=self.services,
            sender=str(event.sender),
            room_id=room_id,
            event_id=event_id,
            level=self.services.level_of(str(event.sender)),
            prefix=self.prefix,
            management_room=management,
            reply=reply,
            edit=edit,
        )
