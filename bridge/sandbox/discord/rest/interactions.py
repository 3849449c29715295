"""Application commands (bulk overwrite, list) and interaction callbacks."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import errors
from ..payloads_messages import message as message_payload
from ..store import ApplicationCommand
from .common import bot_of, json_response, no_content, read_json_list, read_payload, store_of


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/applications/{application_id}/commands", list_global)
    router.add_put("/applications/{application_id}/commands", overwrite_global)
    router.add_get("/applications/{application_id}/guilds/{guild_id}/commands", list_guild)
    router.add_put("/applications/{application_id}/guilds/{guild_id}/commands", overwrite_guild)
    router.add_post("/interactions/{interaction_id}/{interaction_token}/callback", callback)


def command_payload(cmd: ApplicationCommand) -> dict[str, Any]:
    data: dict[str, Any] = {
        "default_member_permissions": None,
        "contexts": None,
        **cmd.extra,
        "id": str(cmd.id),
        "application_id": str(cmd.application_id),
        "version": str(cmd.id),
        "type": cmd.type,
        "name": cmd.name,
        "description": cmd.description,
        "options": cmd.options,
        "nsfw": bool(cmd.extra.get("nsfw", False)),
    }
    if cmd.guild_id is not None:
        data["guild_id"] = str(cmd.guild_id)
    if data.get("integration_types") is None:  # sent as null by discord.py: Discord's default
        data["integration_types"] = [0]
    for key in ("name_localizations", "description_localizations"):
        if data.get(key) is None:
            data.pop(key, None)
    return data


def _app_id(request: web.Request) -> int:
    store, bot = store_of(request), bot_of(request)
    app = store.application_of_bot(bot.id)
    if app is None or request.match_info["application_id"] != str(app.id):
        raise errors.DiscordError(
            403, 20012, "You are not authorized to perform this action on this application"
        )
    return app.id


def _guild(request: web.Request) -> int:
    raw = request.match_info["guild_id"]
    guild = store_of(request).get_guild(int(raw) if raw.isdigit() else -1)
    return guild.id


async def list_global(request: web.Request) -> web.Response:
    return json_response(
        [command_payload(c) for c in store_of(request).list_commands(_app_id(request))]
    )


async def list_guild(request: web.Request) -> web.Response:
    cmds = store_of(request).list_commands(_app_id(request), _guild(request))
    return json_response([command_payload(c) for c in cmds])


async def overwrite_global(request: web.Request) -> web.Response:
    cmds = store_of(request).overwrite_commands(_app_id(request), await read_json_list(request))
    return json_response([command_payload(c) for c in cmds])


async def overwrite_guild(request: web.Request) -> web.Response:
    app_id, guild_id = _app_id(request), _guild(request)
    cmds = store_of(request).overwrite_commands(app_id, await read_json_list(request), guild_id)
    return json_response([command_payload(c) for c in cmds])


async def callback(request: web.Request) -> web.Response:
    """Types: 1 pong, 4 message, 5 deferred message, 6 deferred update, 7 update message.

    ``?with_response=true`` (what discord.py sends) answers 200 with the interaction callback
    object instead of 204."""
    store = store_of(request)
    raw_id = request.match_info["interaction_id"]
    interaction = store.get_interaction(
        int(raw_id) if raw_id.isdigit() else -1, request.match_info["interaction_token"]
    )
    body, files = await read_payload(request)
    callback_type = int(body.get("type", 0))
    msg = store.respond_to_interaction(interaction, callback_type, body.get("data"), files)
    if request.query.get("with_response", "false").lower() not in ("true", "1"):
        return no_content()
    response: dict[str, Any] = {
        "id": str(interaction.id),
        "type": interaction.type,
        "response_message_loading": callback_type == 5,
        "response_message_ephemeral": bool(msg is not None and msg.flags & 64),
    }
    if msg is not None:
        response["response_message_id"] = str(msg.id)
    for key in ("channel_id", "guild_id"):
        if getattr(interaction, key) is not None:
            response[key] = str(getattr(interaction, key))
    data: dict[str, Any] = {"interaction": response}
    if msg is not None and callback_type == 4:
        data["resource"] = {
            "type": 4,
            "message": message_payload(store, msg, viewer_id=msg.author_id),
        }
    return json_response(data)
