"""Row dataclasses: one per table, fields in column order.

Discord IDs (snowflakes) are stored as 64-bit integers, so that they sort by time; Matrix IDs
are text. The SQL in ``tables.py`` is built from these fields, never written out twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..logs import redact_secret


@dataclass
class GuildRow:
    """A bridged Discord guild and the Matrix space that stands for it."""

    discord_id: int
    space_room_id: str | None = None
    name: str = ""
    icon_hash: str | None = None
    avatar_mxc: str | None = None
    bridged_at: int = 0  # ms since the epoch
    # Who bridged it: "config", "matrix:<mxid>", "discord:<user id>", "provisioning" or
    # "import"; None for guilds bridged before this was recorded. Only "config" guilds are
    # unbridged when they leave bridge.guilds.
    bridged_by: str | None = None


@dataclass
class PortalRow:
    """A Discord channel, category or thread and its Matrix room (or space, for categories)."""

    discord_id: int
    guild_id: int | None = None
    parent_id: int | None = None
    channel_type: int = 0
    room_id: str | None = None
    name: str = ""
    topic: str = ""
    avatar_mxc: str | None = None
    webhook_id: int | None = None
    webhook_token: str | None = None
    # Set once live bridging starts; history import only goes into rooms where it is not.
    live_since: int | None = None
    # Whether Matrix messages in its room go to Discord (``unset-relay`` turns it off).
    relay_enabled: bool = True

    def __post_init__(self) -> None:
        # A webhook token read from the database (or copied) stays out of the logs, e.g. of
        # the queries that write the row back (bridge.logs).
        redact_secret(self.webhook_token)


@dataclass
class PuppetRow:
    """A Discord user (or webhook author) and what its Matrix ghost shows."""

    # The {id} of the username template: a user's snowflake in decimal, or for an author
    # posting through someone else's webhook "w<webhook id>_<hash of the name>".
    ghost_id: str
    displayname: str | None = None
    avatar_hash: str | None = None
    avatar_mxc: str | None = None
    is_bot: bool = False
    # Profile fields last written to Matrix, so unchanged ones are not sent again.
    name_set: bool = False
    avatar_set: bool = False


@dataclass
class MatrixUserRow:
    """A real Matrix user who talked to the bridge."""

    mxid: str
    management_room: str | None = None
    discord_user_id: int | None = None


@dataclass
class MessagePartRow:
    """One Matrix event of a Discord message: text, then each attachment (``part`` 0, 1, …)."""

    discord_message_id: int
    part: int
    channel_id: int
    room_id: str
    event_id: str
    sender_mxid: str
    timestamp: int  # ms since the epoch
    thread_id: int | None = None  # the Discord thread the message is in, if any
    kind: str = "text"  # "text", "attachment:<id>", "sticker:<id>", "notice"…
    event_type: str = "m.room.message"
    # The message's edit time last bridged, in µs since the epoch (Discord's full precision:
    # two edits can fall in the same millisecond).
    edited_us: int | None = None


@dataclass
class ReactionRow:
    """A reaction bridged either way: a Discord user's emoji on a message, as a Matrix event."""

    discord_message_id: int
    discord_user_id: int
    emoji_key: str  # a unicode emoji in Discord's form, or the custom emoji's id
    room_id: str
    event_id: str


@dataclass
class MediaRow:
    """A file already uploaded to the media repository, so it is uploaded once."""

    source_key: str  # a Discord URL without its expiring signature, or a content hash
    mxc: str
    mimetype: str | None = None
    size: int | None = None


@dataclass
class ImportCheckpointRow:
    """How far the history import of one channel or thread has come."""

    channel_id: int
    last_message_id: int | None = None
    imported_count: int = 0
    finished: bool = False
    updated_at: int = 0  # ms since the epoch


@dataclass
class HandledTransactionRow:
    """An appservice transaction already handled, so a retry from the homeserver is skipped."""

    txn_id: str
    handled_at: int  # ms since the epoch


@dataclass
class MatrixInboxRow:
    """A Matrix event to relay to Discord, kept from its arrival until it was relayed."""

    event_id: str
    room_id: str
    arrival: int  # µs since the epoch at arrival, plus its place in its transaction: the order
    event: str  # the event's JSON as the homeserver pushed it


@dataclass
class MatrixReactionRow:
    """A Matrix user's reaction relayed to Discord (as the bridge bot's reaction there)."""

    room_id: str
    event_id: str
    discord_message_id: int
    # the Matrix key of a unicode emoji (any spelling: compare with convert.reaction_keys), or
    # the custom emoji the bot reacted with as "name:id"
    emoji_key: str
    sender_mxid: str


@dataclass
class PermissionNoticeRow:
    """A Matrix user told, once in a room, that their messages are not relayed."""

    room_id: str
    mxid: str
    sent_at: int  # ms since the epoch


@dataclass
class ExcludedChannelRow:
    """A channel unbridged on its own while its guild stays bridged: syncs leave it out."""

    channel_id: int
    guild_id: int
    excluded_at: int  # ms since the epoch


@dataclass
class AccountLinkRow:
    """A Discord member's link to their Matrix account; current while ``unlinked_at`` is None.

    At most one current link per Discord user and per Matrix account. Ended links stay, so
    that the number of linked members on a past day can be counted.
    """

    discord_user_id: int
    linked_at: int  # ms since the epoch
    mxid: str
    via: str  # where the code was redeemed: "discord" or "matrix"
    unlinked_at: int | None = None  # ms since the epoch


@dataclass
class LinkCodeRow:
    """A one-time link code (its SHA-256 hex), issued on one side to be redeemed on the other."""

    code_hash: str
    issued_on: str  # "discord" (for discord_user_id) or "matrix" (for mxid)
    discord_user_id: int | None
    mxid: str | None
    created_at: int  # ms since the epoch
    expires_at: int  # ms since the epoch
    used_at: int | None = None


@dataclass
class CutoverRow:
    """A guild's cut-over: announced (and made read-only on Discord) until ``undone_at``."""

    guild_id: int
    read_only: bool
    message: str
    started_at: int  # ms since the epoch
    started_by: str  # the Actor's description
    undone_at: int | None = None


@dataclass
class CutoverAnnouncementRow:
    """The cut-over announcement posted (and pinned) in one Discord channel."""

    channel_id: int
    guild_id: int
    message_id: int
    pinned: bool


@dataclass
class CutoverOverwriteRow:
    """@everyone's permission overwrite of a channel before the read-only cut-over changed it.

    ``existed`` False: there was none, so undoing deletes the overwrite. ``allow``/``deny``
    are Discord permission bit sets.
    """

    channel_id: int
    guild_id: int
    existed: bool
    allow: int = 0
    deny: int = 0


@dataclass
class RoomHandoverRow:
    """A room given to ``bridge.room_owners`` by ``handover``: by a room upgrade (version 12,
    ``new_room_id`` the successor) or by power level 100."""

    room_id: str
    guild_id: int
    method: str  # "upgrade" or "power"
    new_room_id: str | None
    handed_at: int  # ms since the epoch
