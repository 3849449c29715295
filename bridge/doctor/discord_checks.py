"""Doctor check 7: the Discord bot token, privileged intents, guilds and permissions.

Plain REST calls (aiohttp) at discord.api_url with ``Authorization: Bot <token>``:
GET /users/@me, /applications/@me, /users/@me/guilds, /guilds/{id} and
/guilds/{id}/members/{bot id}. Sources: Discord developer docs, "Application Object →
Application Flags" (the GATEWAY_* bits; Discord's OpenAPI types ``flags`` as a plain
integer) and "Permissions → Permission Hierarchy" (how a member's permissions add up).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import discord

from ..config import Config
from ..convert.d2m.permissions import Permission
from .result import CheckResult

PORTAL = "https://discord.com/developers/applications"
# The permissions the README's invite link asks for (README "### 3. Create the Discord
# application and bot").
INVITE_PERMISSIONS = 2252109588720704
# Also in the README's invite link, needed only by `cutover --read-only` (the @everyone
# overwrites): Manage Roles and Manage Channels.
CUTOVER_PERMISSIONS = Permission.MANAGE_ROLES | Permission.MANAGE_CHANNELS
# Application flags (Discord docs, Application Flags): intent on, or on while under 100 guilds.
GATEWAY_GUILD_MEMBERS = (1 << 14) | (1 << 15)
GATEWAY_MESSAGE_CONTENT = (1 << 18) | (1 << 19)
ADMINISTRATOR = 1 << 3
TIMEOUT = aiohttp.ClientTimeout(total=20)


class DiscordCallFailed(Exception):
    """A Discord REST call failed; ``status`` is its HTTP status (0: no answer)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class DiscordREST:
    """GET requests to discord.api_url as the bot."""

    def __init__(self, session: aiohttp.ClientSession, api_url: str, token: str) -> None:
        self.session = session
        self.base = api_url.rstrip("/")
        self.headers = {"Authorization": f"Bot {token}"}

    async def get(self, path: str) -> Any:
        """The JSON body of GET <api_url><path>; raises DiscordCallFailed otherwise."""
        url = self.base + path
        try:
            async with self.session.get(url, headers=self.headers, timeout=TIMEOUT) as response:
                if response.status != 200:
                    text = (await response.text())[:200]
                    raise DiscordCallFailed(
                        response.status, f"GET {url} answered {response.status}: {text}"
                    )
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as error:
            raise DiscordCallFailed(
                0, f"GET {url} failed: {error or type(error).__name__}"
            ) from error


def permission_names(value: int) -> list[str]:
    """discord.py's names of the permission bits set in ``value`` (e.g. "manage_webhooks")."""
    return [name for name, on in discord.Permissions(value) if on]


def member_permissions(guild: dict[str, Any], member: dict[str, Any], user_id: str) -> int:
    """A member's guild-wide permissions: the owner and ADMINISTRATOR have all; otherwise
    @everyone's (the role whose id is the guild's) OR each of the member's roles'."""
    if str(guild.get("owner_id")) == user_id:
        return discord.Permissions.all().value
    roles = {str(role["id"]): int(role.get("permissions") or 0) for role in guild.get("roles", [])}
    value = roles.get(str(guild["id"]), 0)
    for role_id in member.get("roles", []):
        value |= roles.get(str(role_id), 0)
    if value & ADMINISTRATOR:
        return discord.Permissions.all().value
    return value


async def check_discord(session: aiohttp.ClientSession, config: Config) -> list[CheckResult]:
    """The token line, the intents line and a line per guild in bridge.guilds."""
    rest = DiscordREST(session, config["discord.api_url"], config["discord.bot_token"])
    try:
        me = await rest.get("/users/@me")
    except DiscordCallFailed as error:
        fix = (
            f"copy the bot token again from {PORTAL} → your application → Bot → Reset Token "
            "into discord.bot_token"
            if error.status == 401
            else "check discord.api_url and the network"
        )
        return [
            CheckResult.fail("discord token", str(error), fix),
            CheckResult.skip("discord intents", "skipped: needs the bot token"),
            CheckResult.skip("discord guilds", "skipped: needs the bot token"),
        ]
    bot_id = str(me["id"])
    results = [CheckResult.ok("discord token", f"valid: the bot {me.get('username')} ({bot_id})")]
    results.append(await _intents(rest))
    results += await _guilds(rest, config, bot_id)
    return results


async def _intents(rest: DiscordREST) -> CheckResult:
    label = "discord intents"
    try:
        application = await rest.get("/applications/@me")
    except DiscordCallFailed as error:
        return CheckResult.fail(label, str(error), "check discord.bot_token")
    flags = int(application.get("flags") or 0)
    missing = [
        name
        for name, bits in (
            ("SERVER MEMBERS INTENT", GATEWAY_GUILD_MEMBERS),
            ("MESSAGE CONTENT INTENT", GATEWAY_MESSAGE_CONTENT),
        )
        if not flags & bits
    ]
    if missing:
        return CheckResult.fail(
            label,
            f"privileged intents off: {', '.join(missing)}",
            f"{PORTAL} → your application → Bot → Privileged Gateway Intents: turn on "
            f"{' and '.join(missing)}",
        )
    return CheckResult.ok(label, "SERVER MEMBERS and MESSAGE CONTENT intents are on")


async def _guilds(rest: DiscordREST, config: Config, bot_id: str) -> list[CheckResult]:
    wanted = [str(guild) for guild in config["bridge.guilds"] or []]
    if not wanted:
        return [CheckResult.skip("discord guilds", "bridge.guilds is empty: none to check")]
    try:
        joined = await rest.get("/users/@me/guilds")
    except DiscordCallFailed as error:
        return [CheckResult.fail("discord guilds", str(error), "check discord.bot_token")]
    names = {str(guild["id"]): str(guild.get("name")) for guild in joined}
    results = []
    for guild_id in wanted:
        label = f"discord guild {guild_id}"
        if guild_id not in names:
            present = ", ".join(f"{name} ({gid})" for gid, name in names.items()) or "none"
            results.append(
                CheckResult.fail(
                    label,
                    f"the bot is not in this guild; it is in: {present}",
                    "invite the bot with the README's invite link, or correct bridge.guilds",
                )
            )
            continue
        results.append(await _permissions(rest, guild_id, names[guild_id], bot_id))
    return results


async def _permissions(rest: DiscordREST, guild_id: str, name: str, bot_id: str) -> CheckResult:
    label = f"discord guild {guild_id}"
    try:
        guild = await rest.get(f"/guilds/{guild_id}")
        member = await rest.get(f"/guilds/{guild_id}/members/{bot_id}")
    except DiscordCallFailed as error:
        return CheckResult.fail(label, str(error), "check the bot's access to the guild")
    has = member_permissions(guild, member, bot_id)
    missing = INVITE_PERMISSIONS & ~has
    if missing:
        return CheckResult.fail(
            label,
            f"{name}: the bot lacks the permissions {', '.join(permission_names(missing))}",
            "in the guild's Server Settings → Roles, give them to the bot's role (or invite it "
            "again with the README's invite link)",
        )
    if CUTOVER_PERMISSIONS & ~has:
        return CheckResult.ok(
            label,
            f"{name}: the bot is in it with every permission the bridge needs; `cutover "
            "--read-only` will also need Manage Roles and Manage Channels",
        )
    return CheckResult.ok(label, f"{name}: the bot is in it with every permission it needs")
