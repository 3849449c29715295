"""Linked accounts: which Matrix account a Discord member uses, read from memory.

Every current link is loaded once at start (one row per linked member) so that converters and
relays ask without a database round trip. Changes go to the database first, then to memory,
then to the listeners (invites, power levels, double puppeting), each of which is awaited in
turn; a listener's failure is logged and never undoes the link.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..db.rows import AccountLinkRow
from ..db.tables import BridgeTables

log = logging.getLogger("bridge.migration.links")


class LinkConflict(Exception):
    """The Discord user or the Matrix account is linked already; the message says to whom."""


@dataclass(frozen=True)
class LinkChange:
    """A link made (``linked`` True) or ended between a Discord user and a Matrix account."""

    discord_user_id: int
    mxid: str
    linked: bool


LinkListener = Callable[[LinkChange], Awaitable[None]]


class AccountLinks:
    """The current links, both ways, kept in memory over the ``account_link`` table."""

    def __init__(self, tables: BridgeTables) -> None:
        self.tables = tables
        self._by_discord: dict[int, AccountLinkRow] = {}
        self._by_mxid: dict[str, AccountLinkRow] = {}
        self.listeners: list[LinkListener] = []

    async def load(self) -> None:
        """Read the current links (at start, before Discord or Matrix can send anything)."""
        rows = await self.tables.account_links.find("unlinked_at IS NULL")
        self._by_discord = {row.discord_user_id: row for row in rows}
        self._by_mxid = {row.mxid: row for row in rows}

    def mxid_for(self, discord_user_id: int) -> str | None:
        """The Matrix account a Discord user linked, if any."""
        row = self._by_discord.get(discord_user_id)
        return row.mxid if row else None

    def discord_for(self, mxid: str) -> int | None:
        """The Discord user a Matrix account is linked to, if any."""
        row = self._by_mxid.get(mxid)
        return row.discord_user_id if row else None

    def current(self) -> list[AccountLinkRow]:
        """Every current link, oldest first."""
        return sorted(self._by_discord.values(), key=lambda row: row.linked_at)

    async def link(self, discord_user_id: int, mxid: str, via: str) -> LinkChange:
        """Link the two accounts; ``via`` is where the code was redeemed ("discord" or
        "matrix"). Linking the same pair again changes nothing.

        Raises :class:`LinkConflict` when either is linked to someone else: they unlink first.
        """
        same = self._by_discord.get(discord_user_id)
        if same is not None and same.mxid == mxid:
            return LinkChange(discord_user_id, mxid, linked=True)
        if same is not None:
            raise LinkConflict(
                f"this Discord account is linked to {same.mxid} already: unlink it first"
            )
        other = self._by_mxid.get(mxid)
        if other is not None:
            raise LinkConflict(
                f"{mxid} is linked to another Discord account already: unlink it first"
            )
        row = AccountLinkRow(discord_user_id, int(time.time() * 1000), mxid, via)
        await self.tables.account_links.insert(row)
        self._by_discord[discord_user_id] = row
        self._by_mxid[mxid] = row
        change = LinkChange(discord_user_id, mxid, linked=True)
        await self._tell(change)
        return change

    async def unlink_discord(self, discord_user_id: int) -> LinkChange | None:
        """End the Discord user's link; None if there was none."""
        row = self._by_discord.get(discord_user_id)
        return await self._unlink(row) if row else None

    async def unlink_mxid(self, mxid: str) -> LinkChange | None:
        """End the Matrix account's link; None if there was none."""
        row = self._by_mxid.get(mxid)
        return await self._unlink(row) if row else None

    async def _unlink(self, row: AccountLinkRow) -> LinkChange:
        await self.tables.db.execute(
            "UPDATE account_link SET unlinked_at = $1 "
            "WHERE discord_user_id = $2 AND linked_at = $3",
            int(time.time() * 1000),
            row.discord_user_id,
            row.linked_at,
        )
        self._by_discord.pop(row.discord_user_id, None)
        self._by_mxid.pop(row.mxid, None)
        change = LinkChange(row.discord_user_id, row.mxid, linked=False)
        await self._tell(change)
        return change

    async def _tell(self, change: LinkChange) -> None:
        for listener in list(self.listeners):
            try:
                await listener(change)
            except Exception:
                log.exception(
                    "After %s of Discord user %s and %s, a follow-up failed",
                    "the link" if change.linked else "the unlink",
                    change.discord_user_id,
                    change.mxid,
                )
