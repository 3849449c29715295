"""Fixtures for the provisioning API: the bridge with a shared secret, and a client for it
that checks every answer against the API's OpenAPI description."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest_asyncio

from bridge.app import Bridge
from bridge.web.provisioning import PREFIX
from tests.fixtures.inprocess import MakeConfig
from tests.web.openapi_check import check_response

SECRET = "provisioning-secret-for-the-tests"
_SENTINEL: Any = object()


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


class ProvisioningClient:
    """Calls the API by path template (``/guilds/{guild_id}/bridge``) and checks each JSON
    answer against the OpenAPI file's schema for its status."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url, self.session = base_url, session

    async def call(
        self,
        method: str,
        template: str,
        *,
        token: str | None = SECRET,
        body: Any = _SENTINEL,
        raw: bytes | None = None,
        query: dict[str, str] | None = None,
        **path: Any,
    ) -> Answer:
        """``body`` is sent as JSON, ``raw`` as is; ``path`` fills in the template."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        data = raw if raw is not None else None
        if body is not _SENTINEL:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        url = self.base_url + PREFIX + template.format(**{k: str(v) for k, v in path.items()})
        async with self.session.request(
            method, url, headers=headers, data=data, params=query
        ) as response:
            assert response.content_type == "application/json", await response.text()
            answer = Answer(response.status, await response.json(), dict(response.headers))
        check_response(method, template, answer.status, answer.body)
        if answer.status >= 400:
            assert set(answer.body) == {"errcode", "error"}, answer.body
        return answer

    async def get(self, template: str, **kwargs: Any) -> Answer:
        return await self.call("GET", template, **kwargs)

    async def post(self, template: str, body: Any = _SENTINEL, **kwargs: Any) -> Answer:
        return await self.call("POST", template, body=body, **kwargs)


def base_url(bridge: Bridge) -> str:
    return f"http://127.0.0.1:{bridge.config['appservice.port']}"


@pytest_asyncio.fixture(loop_scope="session")
async def provisioned_bridge(make_bridge_config: MakeConfig) -> AsyncIterator[Bridge]:
    """The bridge, in this process, with the provisioning API on."""
    bridge = Bridge(make_bridge_config({"bridge.provisioning.shared_secret": SECRET}))
    try:
        await bridge.start()
        yield bridge
    finally:
        await bridge.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def api(provisioned_bridge: Bridge) -> AsyncIterator[ProvisioningClient]:
    async with aiohttp.ClientSession() as session:
        yield ProvisioningClient(base_url(provisioned_bridge), session)
