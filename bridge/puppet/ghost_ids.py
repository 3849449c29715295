"""Ghost MXIDs: made from a ghost id with ``bridge.username_template``, and read back (pure)."""

from __future__ import annotations

import re

from mautrix.types import UserID

from ..convert.d2m.puppet import ghost_localpart

# A Discord user's snowflake, or a webhook author's "w<webhook id>_<hash of the name>".
_GHOST_ID = r"(?:\d+|w\d+_[0-9a-f]{10})"


class GhostIds:
    """Turns ghost ids into MXIDs on ``domain`` and MXIDs back into ghost ids."""

    def __init__(self, username_template: str, domain: str) -> None:
        self.username_template = username_template
        self.domain = domain
        prefix, _, suffix = username_template.partition("{id}")
        self._mxid_pattern = re.compile(
            f"@{re.escape(prefix.lower())}({_GHOST_ID}){re.escape(suffix.lower())}:"
            f"{re.escape(domain)}"
        )

    def mxid(self, ghost_id: str) -> UserID:
        """The ghost's MXID, e.g. ``@discord_1234:example.com``."""
        return UserID(f"@{ghost_localpart(self.username_template, ghost_id)}:{self.domain}")

    def ghost_id_of(self, mxid: str) -> str | None:
        """The ghost id behind a ghost's MXID, or None for anyone else."""
        match = self._mxid_pattern.fullmatch(mxid)
        return match[1] if match else None

    def is_ghost(self, mxid: str) -> bool:
        """Whether the MXID is one of this bridge's ghosts."""
        return self.ghost_id_of(mxid) is not None

    def discord_user_of(self, mxid: str) -> int | None:
        """The Discord user id behind a ghost's MXID; None for anyone else and for webhook
        authors ("w…" ghosts, who are not Discord users)."""
        ghost_id = self.ghost_id_of(mxid)
        return int(ghost_id) if ghost_id is not None and ghost_id.isdigit() else None
