"""Homeserver profiles: what another homeserver answers differently from Synapse.

We cannot run conduwuit, continuwuity or tuwunel on these machines, so the sandbox reproduces
their documented differences on top of Synapse: :class:`bridge.sandbox.profile_proxy.ProfileProxy`
sits between the bridge and Synapse and applies a :class:`HomeserverProfile`. Every rule here
comes from FIELD-NOTES.md, section "conduwuit family" (read in those servers' sources, 2026-11):

1. whoami before registration. ``GET /_matrix/client/v3/account/whoami`` with the
   appservice's ``as_token``, as the bot (no ``user_id`` or the bot's), before the bot was
   registered: conduwuit 404 ``M_NOT_FOUND``; continuwuity 404 until v0.5.1, 403
   ``M_FORBIDDEN`` v0.5.2–v0.5.10, 200 from v26.6.0; tuwunel 404 before v1.4.7. Synapse answers
   200 (it treats the ``sender_localpart`` as existing). The bot counts as registered once
   ``POST /_matrix/client/v3/register`` (``type: m.login.application_service``) for its
   localpart was answered 200 or ``M_USER_IN_USE``.
2. Room versions. conduwuit's stable versions are 6–11, its unstable ones 2–5 (accepted: its
   ``allow_unstable_room_versions`` defaults to true), its default 10; ``createRoom`` with
   ``"12"`` fails. continuwuity supports 12 from v0.5.0, tuwunel from v1.4.0.
   ``GET /_matrix/client/v3/capabilities`` → ``m.room_versions`` lists each server's. A room
   version a server does not list is refused with 400 ``M_UNSUPPORTED_ROOM_VERSION`` (spec:
   client-server API, ``POST /createRoom`` and ``POST /rooms/{roomId}/upgrade``). Synapse's own
   default is 12, so ``createRoom`` without ``room_version`` is sent on with the profile's.
3. Ephemeral pushes (MSC2409: typing, receipts, presence in ``ephemeral`` or
   ``de.sorunome.msc2409.ephemeral`` of an appservice transaction): conduwuit added then
   reverted them (Dec 2024), continuwuity does not queue them; tuwunel does since 2026-04.

Profiles: ``synapse`` (no difference), ``conduwuit`` (all three), ``continuwuity`` (v0.5.2–
v0.5.10: 403 whoami, no ephemeral; room version 12 supported) and ``tuwunel`` (v1.4.0–v1.4.6,
from 2026-04: 404 whoami; room version 12 and ephemeral pushes as Synapse). Change one field with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# conduwuit's room versions (src/core/info/room_version.rs): stable 6–11, unstable 2–5.
CONDUWUIT_ROOM_VERSIONS: Mapping[str, str] = {
    **{str(v): "unstable" for v in range(2, 6)},
    **{str(v): "stable" for v in range(6, 12)},
}

# The keys of an appservice transaction that carry MSC2409 ephemeral events.
EPHEMERAL_KEYS = ("ephemeral", "de.sorunome.msc2409.ephemeral")


@dataclass(frozen=True)
class HomeserverProfile:
    """How one homeserver differs from Synapse, as far as the bridge can tell.

    ``unregistered_whoami``: (HTTP status, errcode) of whoami as the appservice bot before it
    was registered, ``None`` to answer like Synapse. ``room_versions``: ``m.room_versions``
    ``available`` ({version: "stable" | "unstable"}), ``None`` to keep Synapse's;
    ``default_room_version`` goes with it. ``pushes_ephemeral``: whether ephemeral events reach
    the appservice.
    """

    name: str
    unregistered_whoami: tuple[int, str] | None = None
    room_versions: Mapping[str, str] | None = None
    default_room_version: str | None = None
    pushes_ephemeral: bool = True
    sources: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def named(cls, name: str) -> HomeserverProfile:
        """The profile called ``name``; ``ValueError`` naming the known ones otherwise."""
        try:
            return PROFILES[name]
        except KeyError:
            known = ", ".join(sorted(PROFILES))
            raise ValueError(
                f"unknown homeserver profile {name!r}: expected one of {known}"
            ) from None

    @property
    def differs(self) -> bool:
        """Whether anything must be emulated (``False`` for Synapse itself)."""
        return bool(self.unregistered_whoami or self.room_versions or not self.pushes_ephemeral)

    def unregistered_whoami_error(self) -> tuple[int, dict[str, str]] | None:
        """(status, JSON body) for whoami as a not-yet-registered bot, or ``None``."""
        if self.unregistered_whoami is None:
            return None
        status, errcode = self.unregistered_whoami
        return status, {
            "errcode": errcode,
            "error": f"User not found ({self.name} profile: the appservice bot is not registered)",
        }

    def capabilities(self, body: dict[str, Any]) -> dict[str, Any]:
        """A ``GET /capabilities`` answer with this profile's ``m.room_versions``."""
        if self.room_versions is None:
            return body
        result = copy.deepcopy(body)
        result.setdefault("capabilities", {})["m.room_versions"] = {
            "default": self.default_room_version,
            "available": dict(self.room_versions),
        }
        return result

    def room_version_refusal(self, version: Any) -> tuple[int, dict[str, str]] | None:
        """(400, M_UNSUPPORTED_ROOM_VERSION body) when ``version`` is not listed, else ``None``."""
        if self.room_versions is None or str(version) in self.room_versions:
            return None
        listed = ", ".join(self.room_versions)
        return 400, {
            "errcode": "M_UNSUPPORTED_ROOM_VERSION",
            "error": f"This server does not support room version {version} ({listed})",
        }

    def create_room(self, body: dict[str, Any]) -> dict[str, Any]:
        """A ``createRoom`` body with the profile's default version when none is given."""
        if self.room_versions is None or "room_version" in body:
            return body
        return {**body, "room_version": self.default_room_version}

    def transaction(self, body: dict[str, Any]) -> dict[str, Any]:
        """An appservice transaction as this homeserver would push it (no ephemeral events)."""
        if self.pushes_ephemeral:
            return body
        return {key: value for key, value in body.items() if key not in EPHEMERAL_KEYS}


_FIELD_NOTES = "FIELD-NOTES.md, conduwuit family"

PROFILES: dict[str, HomeserverProfile] = {
    "synapse": HomeserverProfile("synapse"),
    "conduwuit": HomeserverProfile(
        "conduwuit",
        unregistered_whoami=(404, "M_NOT_FOUND"),
        room_versions=CONDUWUIT_ROOM_VERSIONS,
        default_room_version="10",
        pushes_ephemeral=False,
        sources=(_FIELD_NOTES, "conduwuit src/core/info/room_version.rs"),
    ),
    "continuwuity": HomeserverProfile(
        "continuwuity",
        unregistered_whoami=(403, "M_FORBIDDEN"),
        pushes_ephemeral=False,
        sources=(_FIELD_NOTES, "continuwuity v0.5.2–v0.5.10"),
    ),
    "tuwunel": HomeserverProfile(
        "tuwunel",
        unregistered_whoami=(404, "M_NOT_FOUND"),
        sources=(_FIELD_NOTES, "tuwunel v1.4.0–v1.4.6"),
    ),
}
