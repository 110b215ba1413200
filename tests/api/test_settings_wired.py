"""Settings reach what they set (issue 16, item 1): each one changes the
served app's behaviour, checked through HTTP on the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from domain.enums import Role

CREATE_HOOK = """
mutation($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) {
    webhookSubscription { url } userErrors { code field }
  }
}"""


@asynccontextmanager
async def served(database_url: str, **values: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app made with these settings."""
    app = create_app(settings=Settings(database_url=database_url, **values))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test"
        ) as client:
            yield client
    finally:
        await app.state.engine.dispose()


async def create_hook(client: httpx.AsyncClient, token: str, url: str) -> Any:
    """createWebhookSubscription's payload for ``url``."""
    response = await client.post(
        "/graphql",
        json={"query": CREATE_HOOK, "variables": {"input": {"url": url}}},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.json()["data"]["createWebhookSubscription"]


@pytest.mark.parametrize(
    ("https_only", "expected"),
    [
        (
            True,
            {
                "webhookSubscription": None,
                "userErrors": [{"code": "INVALID_INPUT", "field": ["url"]}],
            },
        ),
        (
            False,
            {
                "webhookSubscription": {"url": "http://hooks.example.com/in"},
                "userErrors": [],
            },
        ),
    ],
)
async def test_webhook_https_only_decides_whether_a_plain_http_target_is_taken(
    database_url, make, https_only, expected
):
    token = await make.token(await make.user(Role.ADMIN))

    async with served(database_url, webhook_https_only=https_only) as client:
        payload = await create_hook(client, token, "http://hooks.example.com/in")

    assert payload == expected


@pytest.mark.parametrize(("metrics", "status"), [(True, 200), (False, 404)])
async def test_metrics_off_serves_no_metrics_endpoint(database_url, metrics, status):
    async with served(database_url, metrics=metrics) as client:
        response = await client.get("/metrics")

    assert response.status_code == status
