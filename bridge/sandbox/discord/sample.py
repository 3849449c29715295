"""A small but varied sample community, for the demo, the standalone emulator and tests.

"Sandbox Community": categories, text, announcement, private and forum channels, a thread,
roles (Admin, Moderator, Member), six members with avatars, a custom emoji and a sticker, and
about forty past messages with replies, an edit, reactions, an attachment and a pin.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import permissions as perms
from .cdn import solid_png
from .store import Attachment, ChannelType, Store

PEOPLE = [
    # username, global name, nick, roles, avatar colour
    ("ada", "Ada Lovelace", None, ["Admin"], (200, 60, 60)),
    ("brian", "Brian Kernighan", "Bri", ["Moderator", "Member"], (60, 160, 60)),
    ("chloe", "Chloé Durand", None, ["Member"], (60, 90, 200)),
    ("dmitri", "Dmitri", None, ["Member"], (200, 160, 40)),
    ("emeka", "Emeka Okafor", None, ["Member"], (150, 60, 180)),
    ("fatima", "Fatima", None, [], (40, 170, 170)),
]

CONVERSATION = [
    # channel, author, content (replies are marked with "> n" = index of the replied message)
    ("general", "ada", "Welcome to the Sandbox Community! 🎉"),
    ("general", "brian", "Glad to be here. Is the bridge running yet?"),
    ("general", "chloe", "Bonjour à tous ! Ça marche très bien ici."),
    ("general", "ada", "> 1 Not yet, we are testing it this week."),
    ("general", "dmitri", "Привет! Who is working on the importer?"),
    ("general", "emeka", "I can help with the Matrix side."),
    ("general", "fatima", "Hi all 👋 first time here."),
    ("general", "brian", "> 6 Welcome Fatima! Read #rules first 🙂"),
    ("general", "chloe", "Here is the diagram I mentioned."),
    ("general", "ada", "Nice **diagram**, thanks `chloe`!"),
    ("general", "dmitri", "Shall we start a thread about the importer?"),
    ("general", "emeka", "Yes, let's."),
    ("general", "ada", "Reminder: meeting on Thursday at 18:00 UTC."),
    ("random", "dmitri", "Anyone watching the match tonight?"),
    ("random", "emeka", "> 13 Of course ⚽"),
    ("random", "fatima", "I'd rather read a book 📚"),
    ("random", "chloe", "https://example.org/a-link-with-a-preview"),
    ("random", "brian", "Spoiler: ||the butler did it||"),
    ("random", "dmitri", "😂"),
    ("random", "ada", "Multi-line\nmessages\nwork too."),
    ("rules", "ada", "1. Be kind.\n2. No spam.\n3. Have fun."),
    ("announcements", "ada", "The bridge migration starts next Monday."),
    ("announcements", "ada", "Maintenance window: Sunday 02:00–04:00 UTC."),
    ("mod-lounge", "ada", "Mods only: please keep an eye on #random."),
    ("mod-lounge", "brian", "> 23 Will do."),
    ("general", "fatima", "What time zone is the meeting in?"),
    ("general", "ada", "> 25 UTC, as always."),
    ("general", "chloe", "Merci !"),
    ("general", "brian", "Pinned the meeting reminder."),
    ("general", "emeka", "Matrix room aliases look like #room:server."),
    ("general", "dmitri", "Got it, thanks."),
    ("random", "chloe", "Good night everyone 🌙"),
    ("random", "fatima", "> 31 Night!"),
]

THREAD_MESSAGES = [
    ("dmitri", "The importer pages history 100 at a time."),
    ("emeka", "And sends it with timestamp massaging on the Matrix side."),
    ("ada", "Let's write that down in the design."),
]


@dataclass
class SampleIds:
    """Ids of what :func:`build_sample_community` made."""

    guild_id: int
    bot_user_id: int
    application_id: int
    bot_token: str
    owner_id: int
    users: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    roles: dict[str, int] = field(default_factory=dict)
    threads: dict[str, int] = field(default_factory=dict)
    emoji_id: int = 0
    sticker_id: int = 0
    messages: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """Ids as strings (snowflakes are strings in JSON, as Discord sends them)."""

        def conv(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: conv(v) for k, v in value.items()}
            if isinstance(value, list):
                return [conv(v) for v in value]
            return str(value) if isinstance(value, int) else value

        return conv(asdict(self))


def build_sample_community(
    store: Store, *, bot_token: str | None = None, now: datetime | None = None
) -> SampleIds:
    """Create the sample community (and its bot, with every privileged intent) in ``store``."""
    now = now or datetime.now(UTC)
    start = now - timedelta(days=5)
    users: dict[str, int] = {}
    for username, global_name, _, _, colour in PEOPLE:
        users[username] = store.create_user(
            username, global_name=global_name, avatar=solid_png(*colour)
        ).id
    bot, app, token = store.create_bot(
        "Bridge Bot", owner_id=users["ada"], token=bot_token, avatar=solid_png(88, 101, 242)
    )
    guild = store.create_guild("Sandbox Community", users["ada"], icon=solid_png(88, 101, 242))
    guild.description = "A sample community for the Discord → Matrix bridge"
    ids = SampleIds(guild.id, bot.id, app.id, token, users["ada"], users=users)

    ids.roles = {
        "Admin": store.create_role(guild.id, "Admin", permissions=perms.ADMINISTRATOR, color=0xE74C3C, hoist=True).id,
        "Moderator": store.create_role(guild.id, "Moderator", permissions=perms.MANAGE_MESSAGES | perms.PIN_MESSAGES, color=0x2ECC71, hoist=True).id,
        "Member": store.create_role(guild.id, "Member", color=0x3498DB, mentionable=True).id,
    }  # fmt: skip
    for offset, (username, _, nick, roles, _) in enumerate(PEOPLE):
        if username == "ada":  # the owner is a member already
            store.update_member(guild.id, users[username], roles=[ids.roles[r] for r in roles])
            continue
        store.add_member(
            guild.id,
            users[username],
            nick=nick,
            roles=[ids.roles[r] for r in roles],
            joined_at=start - timedelta(days=30 - offset),
            join_message=False,
        )
    store.add_member(guild.id, bot.id, joined_at=start - timedelta(days=1))

    ids.channels = _build_channels(store, guild.id, ids.roles["Moderator"])
    ids.emoji_id = store.create_emoji(
        guild.id, "sandbox", solid_png(250, 200, 0), user_id=users["ada"]
    ).id
    ids.sticker_id = store.create_sticker(guild.id, "Wave", solid_png(0, 200, 250, 64), tags="wave", description="Hello!", user_id=users["ada"]).id  # fmt: skip
    _build_history(store, ids, start)
    return ids


def _build_channels(store: Store, guild_id: int, moderator_role: int) -> dict[str, int]:
    info = store.create_channel(guild_id, "Information", ChannelType.CATEGORY)
    community = store.create_channel(guild_id, "Community", ChannelType.CATEGORY)
    staff = store.create_channel(guild_id, "Staff", ChannelType.CATEGORY)
    general_id = store.get_guild(guild_id).system_channel_id
    assert general_id is not None
    store.update_channel(general_id, parent_id=community.id, topic="Talk about anything")
    private = [
        {"id": guild_id, "type": 0, "deny": perms.VIEW_CHANNEL},
        {"id": moderator_role, "type": 0, "allow": perms.VIEW_CHANNEL},
    ]
    made = {
        "announcements": store.create_channel(guild_id, "announcements", ChannelType.ANNOUNCEMENT, parent_id=info.id, topic="News"),
        "rules": store.create_channel(guild_id, "rules", parent_id=info.id),
        "random": store.create_channel(guild_id, "random", parent_id=community.id),
        "help-forum": store.create_channel(guild_id, "help-forum", ChannelType.FORUM, parent_id=community.id, topic="Ask for help"),
        "mod-lounge": store.create_channel(guild_id, "mod-lounge", parent_id=staff.id, permission_overwrites=private),
        "voice": store.create_channel(guild_id, "Voice", ChannelType.VOICE, parent_id=community.id),
    }  # fmt: skip
    channels = {name: channel.id for name, channel in made.items()}
    channels.update(information=info.id, community=community.id, staff=staff.id, general=general_id)
    store.update_guild(guild_id, rules_channel_id=channels["rules"])
    return channels


def _build_history(store: Store, ids: SampleIds, start: datetime) -> None:
    step = timedelta(hours=2, minutes=7)
    users, channels = ids.users, ids.channels
    posted: list[int] = []
    for index, (channel, author, content) in enumerate(CONVERSATION):
        reply_to = None
        if content.startswith("> "):
            number, content = content[2:].split(" ", 1)
            reply_to = posted[int(number)]
        attachments = []
        if "diagram I mentioned" in content:
            png = solid_png(10, 120, 220, 32)
            attachments = [
                Attachment(store.ids.next(), "diagram.png", png, "image/png", width=32, height=32)
            ]
        msg = store.create_message(
            channels[channel],
            users[author],
            content,
            timestamp=start + step * index,
            reply_to=reply_to,
            attachments=attachments,
        )
        posted.append(msg.id)
    ids.messages = posted
    general, random_ = channels["general"], channels["random"]
    store.edit_message(general, posted[9], content=CONVERSATION[9][2] + " (edited)", edited_at=start + step * 9 + timedelta(minutes=5))  # fmt: skip
    store.add_reaction(general, posted[0], users["brian"], "🎉")
    store.add_reaction(general, posted[0], users["chloe"], "🎉")
    store.add_reaction(general, posted[0], users["dmitri"], f"sandbox:{ids.emoji_id}")
    store.add_reaction(random_, posted[17], users["emeka"], "😂")
    store.pin(general, posted[12], users["brian"])
    store.create_message(general, users["emeka"], "", sticker_ids=[ids.sticker_id], timestamp=start + step * 12 + timedelta(minutes=1))  # fmt: skip

    thread = store.create_thread(general, "Importer design", users["dmitri"], message_id=posted[10], created_at=start + step * 10 + timedelta(minutes=1))  # fmt: skip
    ids.threads["importer"] = thread.id
    for offset, (author, content) in enumerate(THREAD_MESSAGES, start=1):
        store.add_thread_member(thread.id, users[author])
        store.create_message(thread.id, users[author], content, timestamp=start + step * 10 + timedelta(minutes=5 * offset))  # fmt: skip

    forum = channels["help-forum"]
    post1 = store.create_thread(forum, "How do I link my Matrix account?", users["fatima"], content="I can't find the setting.", created_at=start + step * 20)  # fmt: skip
    store.create_message(post1.id, users["emeka"], "It is in the bridge bot's DM: send `login`.", timestamp=start + step * 20 + timedelta(minutes=10))  # fmt: skip
    post2 = store.create_thread(forum, "Emoji don't show up", users["chloe"], content="Custom emoji appear as text.", created_at=start + step * 21)  # fmt: skip
    ids.threads.update(forum_post_1=post1.id, forum_post_2=post2.id)
