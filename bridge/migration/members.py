"""The Discord member behind a linked Matrix account, for showing them as themselves.

The bridge does not chunk guilds at start, so discord.py's member cache holds only the
members it has seen in gateway events. A member missing there is fetched once (``GET
/guilds/{guild.id}/members/{user.id}``) and kept for a while; a member discord.py learns of
later (any GUILD_MEMBER_UPDATE adds them, the members intent being on) is read from
discord.py, which keeps it current.
"""

from __future__ import annotations

import logging
import time

import discord

from ..locks import KeyedLocks

log = logging.getLogger("bridge.migration.members")

#: How long a fetched member (or the answer that they are not in the guild) is used, seconds.
FETCHED_FOR_S = 15 * 60


class DiscordMembers:
    """Guild members by (guild id, user id): discord.py's cache, else fetched and kept."""

    def __init__(self, kept_for_s: float = FETCHED_FOR_S) -> None:
        self.kept_for_s = kept_for_s
        # (guild id, user id) → (time.monotonic() of the fetch, the member or None).
        self._fetched: dict[tuple[int, int], tuple[float, discord.Member | None]] = {}
        self._locks = KeyedLocks()

    async def member(
        self, client: discord.Client, guild_id: int, user_id: int
    ) -> discord.Member | None:
        """The member, or None when they are not in the guild, the bot is not, or Discord
        could not be asked (logged; asked again next time)."""
        guild = client.get_guild(guild_id)
        if guild is None:
            return None
        cached = guild.get_member(user_id)
        if cached is not None or guild.chunked:  # every member is cached: not a member
            return cached
        key = (guild_id, user_id)
        async with self._locks(key):
            kept = self._fetched.get(key)
            if kept is not None and time.monotonic() - kept[0] < self.kept_for_s:
                return kept[1]
            try:
                member: discord.Member | None = await guild.fetch_member(user_id)
            except discord.NotFound:
                member = None
            except discord.HTTPException as error:
                log.warning(
                    "Discord did not give member %s of guild %s: %s",
                    user_id,
                    guild_id,
                    error.text or error.status,
                )
                return None
            self._fetched[key] = (time.monotonic(), member)
            return member

    def forget(self, user_id: int) -> None:
        """Fetch the user's members again next time (in every guild)."""
        for key in [key for key in self._fetched if key[1] == user_id]:
            del self._fetched[key]
