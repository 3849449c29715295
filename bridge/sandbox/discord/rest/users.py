"""Users, the bot's application and the gateway URL."""

from __future__ import annotations

from aiohttp import web

from .. import errors, payloads
from ..appkeys import EMULATOR
from .common import bot_of, json_response, no_content, read_json, store_of


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/users/@me", get_me)
    router.add_patch("/users/@me", patch_me)
    router.add_get("/users/@me/guilds", my_guilds)
    router.add_delete("/users/@me/guilds/{guild_id}", leave_guild)
    router.add_get("/users/{user_id}", get_user)
    router.add_get("/oauth2/applications/@me", get_application)
    router.add_get("/applications/@me", get_application)
    router.add_get("/gateway", get_gateway)
    router.add_get("/gateway/bot", get_gateway_bot)


async def get_me(request: web.Request) -> web.Response:
    return json_response(payloads.user_pii(store_of(request), bot_of(request)))


async def patch_me(request: web.Request) -> web.Response:
    store, bot = store_of(request), bot_of(request)
    body = await read_json(request)
    fields = {}
    if "username" in body:
        fields["username"] = body["username"]
    if "avatar" in body:
        fields["avatar"] = _decode_image(body["avatar"])
    store.update_user(bot.id, **fields)
    return json_response(payloads.user_pii(store, bot))


def _decode_image(data_uri: str | None) -> bytes | None:
    """``data:image/png;base64,...`` → bytes (None stays None)."""
    import base64

    if data_uri is None:
        return None
    try:
        return base64.b64decode(data_uri.split(",", 1)[1])
    except (IndexError, ValueError):
        raise errors.field_error("avatar", "IMAGE_INVALID", "Invalid image data") from None


decode_image = _decode_image


async def my_guilds(request: web.Request) -> web.Response:
    store, bot = store_of(request), bot_of(request)
    result = []
    for guild_id in store.user_guild_ids(bot.id):
        g = store.guilds[guild_id]
        result.append(
            {
                "id": str(g.id),
                "name": g.name,
                "icon": g.icon,
                "banner": g.banner,
                "owner": g.owner_id == bot.id,
                "permissions": "0",
                "features": list(g.features),
            }
        )
    return json_response(result)


async def leave_guild(request: web.Request) -> web.Response:
    store, bot = store_of(request), bot_of(request)
    store.remove_member(int(request.match_info["guild_id"]), bot.id)
    return no_content()


async def get_user(request: web.Request) -> web.Response:
    store = store_of(request)
    return json_response(
        payloads.user(
            store,
            store.get_user(
                int(request.match_info["user_id"])
                if request.match_info["user_id"].isdigit()
                else -1
            ),
        )
    )


async def get_application(request: web.Request) -> web.Response:
    store, bot = store_of(request), bot_of(request)
    app = store.application_of_bot(bot.id)
    if app is None:
        raise errors.not_found(errors.UNKNOWN_APPLICATION)
    return json_response(payloads.application(store, app))


async def get_gateway(request: web.Request) -> web.Response:
    return json_response({"url": request.config_dict[EMULATOR].gateway_url})


async def get_gateway_bot(request: web.Request) -> web.Response:
    bot_of(request)
    return json_response(
        {
            "url": request.config_dict[EMULATOR].gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 86400000,
                "max_concurrency": 1,
            },
        }
    )
