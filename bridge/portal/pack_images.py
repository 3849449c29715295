"""A guild's emoji and stickers as the images of its Matrix image pack (uploaded once each)."""

from __future__ import annotations

import logging

import discord
from mautrix.appservice import IntentAPI

from ..convert.d2m.image_pack import PackImage
from ..db.rows import MediaRow
from ..matrix.media import MediaError, MediaRepo

log = logging.getLogger("bridge.portal")


async def pack_images(guild: discord.Guild, media: MediaRepo, bot: IntentAPI) -> list[PackImage]:
    """The guild's emoji and stickers (not Lottie ones: no image to show), each uploaded to
    the media repository once (the media cache remembers it); one that fails is left out."""
    images = []
    for emoji in guild.emojis:
        uploaded = await _upload_quietly(media, bot, emoji.url)
        if uploaded:
            images.append(PackImage(emoji.name, uploaded.mxc, uploaded.mimetype))
    for sticker in guild.stickers:
        if sticker.format is discord.StickerFormatType.lottie:
            continue
        uploaded = await _upload_quietly(media, bot, sticker.url)
        if uploaded:
            images.append(PackImage(sticker.name, uploaded.mxc, uploaded.mimetype, sticker=True))
    return images


async def _upload_quietly(media: MediaRepo, bot: IntentAPI, url: str) -> MediaRow | None:
    try:
        return await media.upload_from_url(url, bot)
    except MediaError as error:
        log.warning("Not uploading %s: %s", url, error)
        return None
