"""Application commands and interactions (slash commands used through the control API)."""

from __future__ import annotations

import secrets
from typing import Any

from .. import errors, payloads
from .. import permissions as perms
from .guilds import GuildsMixin
from .models import ApplicationCommand, Attachment, Interaction, Message, MessageType

LOADING = 1 << 7  # message flag: the bot is "thinking" (a deferred interaction response)
_COMMAND_FIELDS = ("id", "application_id", "name", "guild_id", "description", "type", "options")


class InteractionsMixin(GuildsMixin):
    def overwrite_commands(
        self, application_id: int, commands: list[dict[str, Any]], guild_id: int | None = None
    ) -> list[ApplicationCommand]:
        """Replace the application's global (or one guild's) commands, as bulk overwrite does.

        A command keeps its id when one of the same name and type existed.
        """
        self.get_application(application_id)
        old = {
            (c.name, c.type): c
            for c in self.commands.values()
            if c.application_id == application_id and c.guild_id == guild_id
        }
        for cmd in old.values():
            del self.commands[cmd.id]
        result = []
        for spec in commands:
            if not spec.get("name"):
                raise errors.field_error("name", "BASE_TYPE_REQUIRED", "This field is required")
            kind = int(spec.get("type", 1))
            previous = old.get((spec["name"], kind))
            cmd = ApplicationCommand(
                previous.id if previous else self.ids.next(),
                application_id,
                spec["name"],
                guild_id=guild_id,
                description=spec.get("description", ""),
                type=kind,
                options=list(spec.get("options", [])),
                extra={k: v for k, v in spec.items() if k not in _COMMAND_FIELDS},
            )
            self.commands[cmd.id] = cmd
            result.append(cmd)
        return result

    def list_commands(
        self, application_id: int, guild_id: int | None = None
    ) -> list[ApplicationCommand]:
        return [
            c
            for c in self.commands.values()
            if c.application_id == application_id and c.guild_id == guild_id
        ]

    def find_command(
        self, application_id: int, name: str, guild_id: int | None = None
    ) -> ApplicationCommand:
        """The chat input command a user of ``guild_id`` sees by that name: the guild's own,
        else the global one. 404 / 10063 Unknown application command if neither."""
        for scope in (guild_id, None) if guild_id is not None else (None,):
            for cmd in self.list_commands(application_id, scope):
                if cmd.name == name and cmd.type == 1:
                    return cmd
        raise errors.not_found((10063, "Unknown application command"))

    def command_data(
        self,
        application_id: int,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        guild_id: int | None = None,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        """The ``data`` of the INTERACTION_CREATE Discord sends when a user runs a registered
        command: ``command`` is its words (``"matrix"``, ``"matrix bridge"``, ``"cmd group
        sub"``), ``options`` the values by option name (users, channels and roles by id).
        Subcommands nest as ``{"type": 1, "name", "options"}``; users, members, channels and
        roles named are in ``resolved`` (a channel with ``user_id``'s permissions in it). 400 for an unknown subcommand or option, or a
        required option left out."""
        name, *path = command.split()
        cmd = self.find_command(application_id, name, guild_id)
        data: dict[str, Any] = {"id": str(cmd.id), "name": cmd.name, "type": cmd.type}
        if cmd.guild_id is not None:
            data["guild_id"] = str(cmd.guild_id)
        specs, holder = cmd.options, data
        for word in path:
            spec = next((o for o in specs if o.get("name") == word and o.get("type") in (1, 2)), None)  # fmt: skip
            if spec is None:
                raise errors.bad_request(50035, f"{command!r}: no subcommand {word!r}")
            nested: dict[str, Any] = {"type": spec["type"], "name": word, "options": []}
            holder["options"] = [nested]
            specs, holder = spec.get("options", []), nested
        _require_subcommand(command, specs, holder)
        resolved: dict[str, dict[str, Any]] = {}
        values = []
        given = dict(options or {})
        for spec in specs:
            if spec.get("type") in (1, 2):
                continue
            if spec["name"] not in given:
                if spec.get("required"):
                    raise errors.bad_request(50035, f"{command!r}: {spec['name']} is required")
                continue
            value = self._option_value(
                spec["type"], given.pop(spec["name"]), guild_id, user_id, resolved
            )
            values.append({"name": spec["name"], "type": spec["type"], "value": value})
        if given:
            raise errors.bad_request(50035, f"{command!r} has no option {sorted(given)}")
        holder["options"] = values
        if resolved:
            data["resolved"] = resolved
        return data

    def _option_value(
        self,
        kind: int,
        value: Any,
        guild_id: int | None,
        user_id: int | None,
        resolved: dict[str, dict[str, Any]],
    ) -> Any:
        """An option's value as Discord sends it; users, channels and roles go in ``resolved``."""
        if kind == 3:
            return str(value)
        if kind == 4:
            return int(value)
        if kind == 5:
            return bool(value)
        if kind == 10:
            return float(value)
        key = str(int(value))
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        if kind in (8, 9) and guild is not None and int(value) in guild.roles:
            resolved.setdefault("roles", {})[key] = payloads.role(self, guild.roles[int(value)])
        elif kind in (6, 9):
            user = self.get_user(int(value))
            resolved.setdefault("users", {})[key] = payloads.user(self, user)
            if guild is not None and user.id in guild.members:
                member = payloads.member(self, guild.members[user.id], with_user=False)
                resolved.setdefault("members", {})[key] = member
        elif kind == 7:
            channel = self.get_channel(int(value))
            resolved.setdefault("channels", {})[key] = {
                "id": key,
                "name": channel.name,
                "type": channel.type,
                "parent_id": str(channel.parent_id) if channel.parent_id else None,
                "permissions": str(
                    perms.channel_permissions(self, channel.id, user_id)  # type: ignore[arg-type]
                    if user_id is not None and channel.guild_id is not None
                    else perms.ALL
                ),
            }
        return key

    def create_interaction(
        self,
        application_id: int,
        user_id: int,
        data: dict[str, Any],
        *,
        channel_id: int | None = None,
        guild_id: int | None = None,
        type: int = 2,
    ) -> Interaction:
        """A user runs a command (``data`` as in INTERACTION_CREATE, e.g. ``{"id", "name",
        "type": 1, "options": [...]}``); emits INTERACTION_CREATE to every session (no intent)."""
        app = self.get_application(application_id)
        if channel_id is not None and guild_id is None:
            guild_id = self.get_channel(channel_id).guild_id
        registered = self.commands.get(int(data.get("id") or 0)) if type == 2 else None
        if registered is not None and registered.application_id == app.id:
            specs, holder = registered.options, data
            while True:  # down the subcommand groups and subcommands the data names
                _require_subcommand(str(data.get("name")), specs, holder)
                nested = [o for o in holder.get("options") or [] if o.get("type") in (1, 2)]
                spec = next((o for o in specs if nested and o.get("name") == nested[0].get("name")), None)  # fmt: skip
                if spec is None:
                    break
                specs, holder = spec.get("options", []), nested[0]
        interaction = Interaction(
            self.ids.next(),
            app.id,
            "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(60),
            type,
            data,
            guild_id,
            channel_id,
            user_id,
        )
        self.interactions[interaction.id] = interaction
        self.emit("INTERACTION_CREATE", self.interaction_payload(interaction), guild_id, None)
        return interaction

    def interaction_payload(self, interaction: Interaction) -> dict[str, Any]:
        user = self.get_user(interaction.user_id)
        data: dict[str, Any] = {
            "id": str(interaction.id),
            "application_id": str(interaction.application_id),
            "type": interaction.type,
            "data": interaction.data,
            "token": interaction.token,
            "version": 1,
            "locale": "en-US",
            "app_permissions": str(self._interaction_permissions(interaction, app_bot=True)),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(interaction.guild_id or 0)},
            "context": 0 if interaction.guild_id else 1,
            "attachment_size_limit": self.max_file_size,
        }
        if interaction.channel_id is not None:
            channel = self.get_channel(interaction.channel_id)
            data["channel_id"] = str(channel.id)
            data["channel"] = payloads.channel(self, channel)
        if interaction.guild_id is not None:
            data["guild_id"] = str(interaction.guild_id)
            data["guild_locale"] = "en-US"
            member = self.get_member(interaction.guild_id, user.id)
            data["member"] = payloads.member(self, member)
            data["member"]["permissions"] = str(self._interaction_permissions(interaction))
        else:
            data["user"] = payloads.user(self, user)
        return data

    def _interaction_permissions(self, interaction: Interaction, *, app_bot: bool = False) -> int:
        """The invoking member's (or the application's bot's) permissions where the command
        runs: in its channel with the overwrites applied, else in its guild; in DMs, all."""
        user_id = self.applications[interaction.application_id].bot_id if app_bot else None
        user_id = user_id if user_id is not None else interaction.user_id
        if interaction.guild_id is None:
            return perms.ALL
        if interaction.channel_id is not None:
            return perms.channel_permissions(self, interaction.channel_id, user_id)  # type: ignore[arg-type]
        return perms.guild_permissions(self, interaction.guild_id, user_id)  # type: ignore[arg-type]

    def interaction_messages(self, interaction: Interaction) -> list[Message]:
        """What the bot answered: the original response (if any), then the follow-ups, each as
        it is now (ephemeral ones too, which only the invoking user sees)."""
        ids = [interaction.original_message_id, *interaction.followup_ids]
        found = (self.messages.get(i) or self.ephemerals.get(i) for i in ids if i is not None)
        return [m for m in found if m is not None]

    def get_interaction(self, interaction_id: int, token: str) -> Interaction:
        found = (
            self.interactions.get(int(interaction_id)) if str(interaction_id).isdigit() else None
        )
        if found is None or found.token != token:
            raise errors.not_found(errors.UNKNOWN_INTERACTION)
        return found

    def interaction_by_token(self, application_id: int, token: str) -> Interaction | None:
        for found in self.interactions.values():
            if found.application_id == int(application_id) and found.token == token:
                return found
        return None

    def respond_to_interaction(
        self,
        interaction: Interaction,
        callback_type: int,
        data: dict[str, Any] | None,
        attachments: list[Attachment] | None = None,
    ) -> Message | None:
        """Handle a callback: type 4 posts the reply (a message by the bot, type 20 for a slash
        command); type 5 (defer) posts it empty and loading, to be edited as ``@original``.
        Returns the posted message, if any."""
        if interaction.responded:
            raise errors.bad_request(40060, "Interaction has already been acknowledged.")
        interaction.responded = True
        if callback_type not in (4, 5) or interaction.channel_id is None:
            return None
        data = data or {}
        flags = int(data.get("flags") or 0)
        if callback_type == 5:
            data, attachments, flags = {}, None, flags | LOADING
        app = self.applications[interaction.application_id]
        msg = self.create_message(
            interaction.channel_id,
            app.bot_id,
            data.get("content") or "",
            attachments=attachments,
            embeds=data.get("embeds"),
            components=data.get("components"),
            flags=flags,
            type=MessageType.CHAT_INPUT_COMMAND if interaction.type == 2 else MessageType.DEFAULT,
            application_id=app.id,
            interaction={
                "id": str(interaction.id),
                "type": interaction.type,
                "user": payloads.user(self, self.get_user(interaction.user_id)),
                "authorizing_integration_owners": {},
            },
        )
        interaction.original_message_id = msg.id
        return msg


def _require_subcommand(command: str, specs: list[dict[str, Any]], holder: dict[str, Any]) -> None:
    """A command (or group) with subcommands is never run bare: Discord's clients cannot send
    it, and Discord refuses such data with 400 Invalid Form Body (50035)."""
    subcommands = [o["name"] for o in specs if o.get("type") in (1, 2)]
    chosen = [o for o in holder.get("options") or [] if o.get("type") in (1, 2)]
    if subcommands and not chosen:
        raise errors.field_error(
            "options",
            "BASE_TYPE_REQUIRED",
            f"{command!r} needs one of its subcommands: {', '.join(subcommands)}",
        )
