"""What the admin actions share: the bridge's parts, the actor, and the errors they raise."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mautrix.appservice import IntentAPI

from ...config import Config
from ...db.tables import BridgeTables
from ...discord.client import BridgeDiscordClient
from ...migration.linking import LinkGuard
from ...migration.links import AccountLinks
from ...permissions import Level, permission_level
from ...portal.guild_sync import GuildBridge
from ...portal.space_members import configured_admins
from ...puppet.puppets import Puppets
from ...stats import RelayStats
from ..d2m.services import RelayServices
from ..m2d.services import M2DServices

if TYPE_CHECKING:
    from .imports import ImportJobs


class ActionError(Exception):
    """An action that cannot be done; the message says why and what to do (shown as is).

    ``status`` is the HTTP status the provisioning API answers with (400, 404 or 409).
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Actor:
    """Who asked for an action: a Matrix user, a Discord member, or the provisioning API."""

    via: str  # "matrix", "discord" or "provisioning"
    mxid: str | None = None  # the Matrix user (also the one invited to a space they bridge)
    discord_user_id: int | None = None

    def describe(self) -> str:
        if self.mxid:
            return self.mxid
        if self.discord_user_id:
            return f"Discord user {self.discord_user_id}"
        return self.via


@dataclass
class AdminServices:
    """The bridge's parts, for the admin actions; built once the bridge has started."""

    config: Config
    bot: IntentAPI
    tables: BridgeTables
    guilds: GuildBridge
    discord: BridgeDiscordClient
    puppets: Puppets
    relay: RelayServices
    m2d: M2DServices
    stats: RelayStats
    imports: ImportJobs
    started_at: float = field(default_factory=time.time)  # s since the epoch
    # Link codes: wrong guesses per sender, one redemption at a time (migration/linking.py).
    link_guard: LinkGuard = field(default_factory=LinkGuard)

    @property
    def links(self) -> AccountLinks:
        """Discord members' linked Matrix accounts (bridge/migration/links.py)."""
        return self.puppets.links

    def level_of(self, mxid: str) -> Level:
        """The Matrix user's level in ``bridge.permissions``."""
        return permission_level(mxid, self.config["bridge.permissions"])

    def admins(self) -> list[str]:
        """The Matrix users named with the ``admin`` level in ``bridge.permissions``."""
        return configured_admins(self.config["bridge.permissions"])

    def alias_of(self, discord_id: int) -> str:
        """The alias the bridge gives a guild's space or a channel's room (``alias_template``)."""
        localpart = self.config["bridge.alias_template"].format(id=discord_id)
        return f"#{localpart}:{self.config['homeserver.domain']}"
