"""Linking a Discord member's account to their Matrix account with a one-time code.

One side issues a code (``/matrix link`` on Discord, ``link`` in a direct chat with the bridge
bot on Matrix); the person types it on the other side, which links the two accounts through
:class:`~bridge.migration.links.AccountLinks` (one current link per Discord user and per
Matrix account). The rules for codes are in :mod:`.codes`; this module does the database
work and the checks in order. The doors (``bridge.commands.run_link`` and
``bridge.discord.slash_link``) turn :class:`LinkRefused` and the results into their texts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

import discord
from mautrix.errors import MatrixError
from mautrix.types import EventType, RoomID

from . import codes
from .codes import GuessLimit, Verdict
from .links import LinkChange, LinkConflict

if TYPE_CHECKING:
    from ..actions.admin.services import AdminServices

log = logging.getLogger("bridge.migration.linking")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Someone:
    """The person issuing or typing a code: a Discord user, or a Matrix account."""

    side: str  # "discord" or "matrix"
    discord_user_id: int | None = None
    mxid: str | None = None

    @classmethod
    def on_discord(cls, user_id: int) -> Someone:
        return cls("discord", discord_user_id=user_id)

    @classmethod
    def on_matrix(cls, mxid: str) -> Someone:
        return cls("matrix", mxid=mxid)

    @property
    def key(self) -> str:
        """``"discord:<id>"`` or ``"matrix:<mxid>"``, for the guess limit."""
        return f"{self.side}:{self.discord_user_id if self.side == 'discord' else self.mxid}"


class Refusal(Enum):
    """Why a code was not issued or not redeemed."""

    LINKED_ALREADY = "linked already"  # the person is linked: unlink first (``other`` is to whom)
    NOT_A_CODE = "not a code"  # wrong length or characters
    UNKNOWN = "unknown"  # no such code: counted as a wrong guess
    TOO_MANY = "too many"  # too many wrong codes lately (``wait_ms``)
    WRONG_SIDE = "wrong side"  # typed on the side that issued it
    USED = "used"
    EXPIRED = "expired"  # past its 15 minutes, or replaced by a newer code
    OTHER_LINKED = "other linked"  # the code's issuer is linked to someone else meanwhile


class LinkRefused(Exception):
    """A code not issued or not redeemed; ``refusal`` says why. ``other``: for
    LINKED_ALREADY, the Discord user id or mxid the person is linked to. ``wait_ms``: for
    TOO_MANY, how long before the next try. ``burnt``: the code cannot be used any more."""

    def __init__(
        self,
        refusal: Refusal,
        *,
        other: int | str | None = None,
        wait_ms: int = 0,
        burnt: bool = False,
    ) -> None:
        super().__init__(refusal.value)
        self.refusal, self.other, self.wait_ms, self.burnt = refusal, other, wait_ms, burnt


@dataclass
class LinkGuard:
    """What the flow keeps in memory (``AdminServices.link_guard``): wrong guesses per sender,
    and one redemption at a time (so that two messages arriving together cannot both redeem
    a code)."""

    guesses: GuessLimit = field(default_factory=GuessLimit)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True)
class IssuedCode:
    """A code just issued: ``code`` as shown (``ABCD-EFGH``), valid until ``expires_at`` (ms)."""

    code: str
    expires_at: int


@dataclass(frozen=True)
class Redeemed:
    """A code redeemed: the link made (``already``: the two were linked already)."""

    change: LinkChange
    already: bool


def linked_to(services: AdminServices, person: Someone) -> int | str | None:
    """Whom ``person`` is linked to now: a Discord user id, or an mxid; None if unlinked."""
    links = services.links
    if person.side == "discord":
        return links.mxid_for(person.discord_user_id)  # type: ignore[arg-type]
    return links.discord_for(person.mxid)  # type: ignore[arg-type]


async def issue(services: AdminServices, person: Someone, *, now: int | None = None) -> IssuedCode:
    """A new code for ``person`` to type on the other side, valid ``codes.LIFETIME_MS``.

    Their older unused codes stop working (they expire now), and rows expired more than a day
    ago are deleted. Raises :class:`LinkRefused` (LINKED_ALREADY) when ``person`` is linked.
    """
    now = now_ms() if now is None else now
    other = linked_to(services, person)
    if other is not None:
        raise LinkRefused(Refusal.LINKED_ALREADY, other=other)
    db = services.tables.db
    await db.execute(
        "DELETE FROM link_code WHERE expires_at < $1", now - codes.KEEP_AFTER_EXPIRY_MS
    )
    column, value = (
        ("discord_user_id", person.discord_user_id)
        if person.side == "discord"
        else ("mxid", person.mxid)
    )
    await db.execute(
        f"UPDATE link_code SET expires_at = $1 WHERE issued_on = $2 AND {column} = $3 "
        "AND used_at IS NULL AND expires_at > $1",
        now,
        person.side,
        value,
    )
    code = codes.new_code()
    row = codes.new_row(
        code, person.side, now, discord_user_id=person.discord_user_id, mxid=person.mxid
    )
    await services.tables.link_codes.insert(row)
    log.info("Link code issued on %s for %s", person.side, person.key)
    return IssuedCode(codes.shown(code), row.expires_at)


async def redeem(
    services: AdminServices,
    person: Someone,
    typed: str,
    *,
    burn_on_refusal: bool = False,
    now: int | None = None,
) -> Redeemed:
    """Link ``person`` to whoever issued the code ``typed`` on the other side.

    Checks, in order: the sender's wrong guesses (TOO_MANY), the code's shape (NOT_A_CODE),
    the code (UNKNOWN, counted as a wrong guess; WRONG_SIDE; USED; EXPIRED), then that
    neither is linked to someone else (LINKED_ALREADY for ``person``, OTHER_LINKED for the
    issuer). A code refused at that last step stays valid, unless ``burn_on_refusal`` (it was
    typed where others can read it): then it is spent. Raises :class:`LinkRefused`.
    """
    now = now_ms() if now is None else now
    guard = services.link_guard
    wait = guard.guesses.wait_ms(person.key, now)
    if wait > 0:
        raise LinkRefused(Refusal.TOO_MANY, wait_ms=wait)
    code = codes.normalise(typed)
    if code is None:
        raise LinkRefused(Refusal.NOT_A_CODE)
    async with guard.lock:
        row = await services.tables.link_codes.get(codes.code_hash(code))
        verdict = codes.judge(row, person.side, now)
        if verdict is Verdict.UNKNOWN:
            guard.guesses.wrong(person.key, now)
            log.info("Unknown link code typed on %s by %s", person.side, person.key)
            raise LinkRefused(Refusal.UNKNOWN)
        if verdict is not Verdict.VALID:
            raise LinkRefused(Refusal(verdict.value))
        assert row is not None
        if person.side == "discord":
            discord_user_id, mxid = person.discord_user_id, row.mxid
        else:
            discord_user_id, mxid = row.discord_user_id, person.mxid
        assert discord_user_id is not None and mxid is not None
        issuer = (
            Someone.on_matrix(mxid)
            if person.side == "discord"
            else Someone.on_discord(discord_user_id)
        )
        mine, theirs = linked_to(services, person), linked_to(services, issuer)
        same = mine is not None and mine == (mxid if person.side == "discord" else discord_user_id)
        if not same and (mine is not None or theirs is not None):
            if burn_on_refusal:
                await _spend(services, row.code_hash, now)
            refusal = Refusal.LINKED_ALREADY if mine is not None else Refusal.OTHER_LINKED
            raise LinkRefused(refusal, other=mine, burnt=burn_on_refusal)
        await _spend(services, row.code_hash, now)
    try:
        change = await services.links.link(discord_user_id, mxid, via=person.side)
    except LinkConflict as error:  # linked meanwhile by another way (the provisioning API)
        log.info("Link of %s and %s refused: %s", discord_user_id, mxid, error)
        raise LinkRefused(Refusal.OTHER_LINKED, burnt=True) from error
    log.info(
        "Linked Discord user %s and %s (code redeemed on %s)", discord_user_id, mxid, person.side
    )
    # Their other codes are of no use now; one left lying about would work after an unlink.
    await services.tables.db.execute(
        "UPDATE link_code SET expires_at = $1 WHERE used_at IS NULL AND expires_at > $1 AND "
        "((issued_on = 'discord' AND discord_user_id = $2) OR (issued_on = 'matrix' AND mxid = $3))",
        now,
        discord_user_id,
        mxid,
    )
    return Redeemed(change, already=same)


async def _spend(services: AdminServices, code_hash: str, now: int) -> None:
    await services.tables.db.execute(
        "UPDATE link_code SET used_at = $1 WHERE code_hash = $2", now, code_hash
    )


async def unlink(services: AdminServices, person: Someone) -> LinkChange | None:
    """End ``person``'s link; None when they were not linked."""
    if person.side == "discord":
        change = await services.links.unlink_discord(person.discord_user_id)  # type: ignore[arg-type]
    else:
        change = await services.links.unlink_mxid(person.mxid)  # type: ignore[arg-type]
    if change is not None:
        log.info("Unlinked Discord user %s and %s", change.discord_user_id, change.mxid)
    return change


@dataclass(frozen=True)
class DiscordAccount:
    """A Discord user as replies name them: display name, username, id."""

    user_id: int
    display_name: str | None  # global name (or the username); None if unknown
    username: str | None


async def discord_account(services: AdminServices, user_id: int) -> DiscordAccount:
    """The Discord user's names: from discord.py's cache, else ``GET /users/{id}``; only the
    id when Discord does not answer."""
    user = services.discord.get_user(user_id)
    if user is None:
        try:
            user = await services.discord.fetch_user(user_id)
        except discord.HTTPException as error:
            log.warning("Could not read Discord user %s: %s", user_id, error)
            return DiscordAccount(user_id, None, None)
    return DiscordAccount(user_id, user.display_name, user.name)


async def tell_on_matrix(services: AdminServices, mxid: str, content: dict[str, object]) -> bool:
    """Post ``content`` (a notice) in the user's management room (their direct chat with the
    bot), if they have one with only the two of them in it. Returns whether it was posted;
    never raises."""
    row = await services.tables.matrix_users.get(mxid)
    if row is None or not row.management_room:
        return False
    room_id = RoomID(row.management_room)
    try:
        members = await services.bot.get_joined_members(room_id)
        if set(members) != {services.bot.mxid, mxid}:
            return False
        await services.bot.send_message_event(room_id, EventType.ROOM_MESSAGE, content)  # type: ignore[arg-type]
    except MatrixError as error:
        log.warning("Could not tell %s in %s about their link: %s", mxid, room_id, error)
        return False
    return True
