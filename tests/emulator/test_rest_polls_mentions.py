"""The emulator as strict as Discord on @everyone (who may ping it) and on polls (limits,
webhook polls, ending a poll early)."""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest

from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Guild, User

from .conftest import Bot

EVERYONE = discord.AllowedMentions(everyone=True)


async def _general(client: discord.Client, guild: Guild) -> discord.TextChannel:
    channel = await client.fetch_channel(guild.system_channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def _hook(client: discord.Client, guild: Guild) -> discord.Webhook:
    created = await (await _general(client, guild)).create_webhook(name="Bridge")
    assert created.token is not None
    return discord.Webhook.partial(created.id, created.token, client=client)


def _poll(question: str = "Lunch?", answers: tuple[str, ...] = ("Pizza", "Soup")) -> discord.Poll:
    poll = discord.Poll(question=question, duration=timedelta(hours=24))
    for answer in answers:
        poll.add_answer(text=answer)
    return poll


def _take_mention_everyone(emulator: DiscordEmulator, guild: Guild, bot: Bot) -> None:
    """MENTION_EVERYONE off for @everyone and the bot's own role (no administrator either)."""
    store = emulator.store
    store.update_role(
        guild.id, guild.id, permissions=perms.DEFAULT_EVERYONE & ~perms.MENTION_EVERYONE
    )
    for role_id in store.get_member(guild.id, bot.user.id).roles:
        store.update_role(
            guild.id,
            role_id,
            permissions=perms.ALL & ~perms.ADMINISTRATOR & ~perms.MENTION_EVERYONE,
        )


async def test_everyone_needs_mention_everyone_in_the_channel(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild, bot: Bot, owner: User
) -> None:
    store = emulator.store
    channel = await _general(client, guild)
    loud = await channel.send("@everyone lunch", allowed_mentions=EVERYONE)
    assert loud.mention_everyone and store.messages[loud.id].mention_everyone
    here = await channel.send("@here lunch", allowed_mentions=EVERYONE)
    assert here.mention_everyone
    # Neither the bot's role nor @everyone has the permission: the same message pings nobody.
    _take_mention_everyone(emulator, guild, bot)
    quiet = await channel.send("@everyone lunch", allowed_mentions=EVERYONE)
    assert not quiet.mention_everyone and not store.messages[quiet.id].mention_everyone
    member = store.create_user("member")
    store.add_member(guild.id, member.id)
    assert not store.create_message(channel.id, member.id, "@everyone hi").mention_everyone
    assert store.create_message(channel.id, owner.id, "@everyone hi").mention_everyone
    # A channel overwrite gives it back to the bot, there only.
    store.update_channel(
        channel.id,
        permission_overwrites=[{"id": bot.user.id, "type": 1, "allow": perms.MENTION_EVERYONE}],
    )
    again = await channel.send("@everyone lunch", allowed_mentions=EVERYONE)
    assert again.mention_everyone
    # Permitted, but allowed_mentions leaves everyone out.
    muted = await channel.send("@everyone lunch", allowed_mentions=discord.AllowedMentions.none())
    assert not muted.mention_everyone


async def test_webhooks_ping_everyone_as_their_allowed_mentions_say(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild, bot: Bot
) -> None:
    _take_mention_everyone(emulator, guild, bot)
    hook = await _hook(client, guild)
    loud = await hook.send("@everyone deploy", allowed_mentions=EVERYONE, wait=True)
    assert loud.mention_everyone
    quiet = await hook.send(
        "@everyone deploy", allowed_mentions=discord.AllowedMentions.none(), wait=True
    )
    assert not quiet.mention_everyone


async def test_webhook_polls_and_discords_limits(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    hook = await _hook(client, guild)
    sent = await hook.send(poll=_poll(), wait=True)
    stored = emulator.store.messages[sent.id]
    assert stored.poll is not None and stored.webhook_id == hook.id
    assert stored.poll["question"]["text"] == "Lunch?"
    assert [a["poll_media"]["text"] for a in stored.poll["answers"]] == ["Pizza", "Soup"]
    assert sent.poll is not None and [a.text for a in sent.poll.answers] == ["Pizza", "Soup"]
    for bad in (
        _poll(question="q" * 301),
        _poll(answers=tuple(f"answer {n}" for n in range(11))),
        _poll(answers=("a" * 56,)),
    ):
        with pytest.raises(discord.HTTPException) as refused:
            await hook.send(poll=bad, wait=True)
        assert refused.value.status == 400 and refused.value.code == 50035
    at_limits = _poll(question="q" * 300, answers=tuple("a" * 55 for _ in range(10)))
    assert (await hook.send(poll=at_limits, wait=True)).poll is not None


async def test_only_the_bots_own_poll_can_be_ended(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    channel = await _general(client, guild)
    own = await channel.send(poll=_poll())
    ended = await own.end_poll()
    assert ended.poll is not None and ended.poll.is_finalised()
    assert emulator.store.messages[own.id].poll["results"]["is_finalized"]
    with pytest.raises(discord.HTTPException) as again:
        await own.end_poll()
    assert again.value.status == 400 and again.value.code == 520001
    hook = await _hook(client, guild)
    webhook_poll = await hook.send(poll=_poll(), wait=True)
    with pytest.raises(discord.Forbidden) as refused:
        await (await channel.fetch_message(webhook_poll.id)).end_poll()
    assert refused.value.code == 50005
    plain = await channel.send("no poll")
    with pytest.raises(discord.HTTPException) as no_poll:
        await plain.end_poll()
    assert no_poll.value.code == 520006
