"""The bridge bot's Matrix client for doctor: no database, no listener, no retries."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from mautrix.appservice import AppServiceAPI, IntentAPI
from mautrix.appservice.state_store import ASStateStore
from mautrix.client.state_store import MemoryStateStore
from mautrix.types import UserID

from ..config import Config


class MemoryASStateStore(ASStateStore, MemoryStateStore):
    """mautrix's in-memory state store with the appservice's "registered" bookkeeping."""

    def __init__(self) -> None:
        ASStateStore.__init__(self)
        MemoryStateStore.__init__(self)


@asynccontextmanager
async def bot_intent(config: Config) -> AsyncIterator[IntentAPI]:
    """The bot's IntentAPI at homeserver.address with appservice.as_token (no retries)."""
    connector = aiohttp.TCPConnector(ssl=bool(config["homeserver.verify_ssl"]))
    async with aiohttp.ClientSession(connector=connector) as session:
        api = AppServiceAPI(
            base_url=config["homeserver.address"],
            bot_mxid=UserID(f"@{config['appservice.bot.username']}:{config['homeserver.domain']}"),
            token=config["appservice.as_token"],
            state_store=MemoryASStateStore(),
            client_session=session,
            default_retry_count=0,
            log=logging.getLogger("bridge.doctor.matrix"),  # type: ignore[arg-type]
        )
        yield api.bot_intent()
