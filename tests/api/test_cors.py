"""A browser app on another origin calls the API (issue 16, item 2): a real
headless Chromium loads a page from another loopback port whose script calls
the API with a token and writes the answer into the page."""

from __future__ import annotations

import asyncio
import json

import httpx

from api.http_edge import origin_allowed
from domain.enums import Role
from tests.api.browser import chromium, page_server
from tests.api.conftest import free_port, start_server

PAGE = """<!doctype html><html><body><pre id="out">waiting</pre><script>
fetch(%(api)s, {
  method: "POST",
  headers: {"Authorization": "Bearer " + %(token)s,
            "Content-Type": "application/json", "X-Request-Id": "browser-1"},
  body: JSON.stringify({query: "{ viewer { name role } }"}),
}).then(async (r) => {
  document.getElementById("out").textContent = JSON.stringify(
    {status: r.status, requestId: r.headers.get("X-Request-Id"), body: await r.json()});
}).catch((e) => { document.getElementById("out").textContent = "blocked: " + e; });
</script></body></html>"""


def _answer_in_page(browser, origin: str) -> str:
    page = browser.new_page()
    page.goto(origin)
    page.wait_for_function(
        "document.getElementById('out').textContent !== 'waiting'", timeout=30_000
    )
    return page.inner_text("#out")


async def test_a_page_on_an_allowed_origin_calls_the_api_and_another_origin_is_refused(
    database_url, make
):
    ada = await make.user(Role.SALES_OPS, name="Ada")
    token = await make.token(ada)
    allowed_port = free_port()
    allowed = f"http://127.0.0.1:{allowed_port}"
    process, base = start_server(
        database_url, env={"SALESOPS_CORS_ORIGINS": f"{allowed}, https://app.example"}
    )
    try:
        html = PAGE % {"api": json.dumps(f"{base}/graphql"), "token": json.dumps(token)}

        def in_browser() -> tuple[str, str]:
            with (
                page_server(html, port=allowed_port) as good,
                page_server(html) as other,
                chromium() as browser,
            ):
                assert good == allowed
                return _answer_in_page(browser, good), _answer_in_page(browser, other)

        answered, refused = await asyncio.to_thread(in_browser)

        assert json.loads(answered) == {
            "status": 200,
            "requestId": "browser-1",
            "body": {
                "data": {"viewer": {"name": "Ada", "role": "SALES_OPS"}},
                "extensions": {"cost": {"requested": 1, "budget": 10_000}},
            },
        }
        assert refused.startswith("blocked: TypeError")

        async with httpx.AsyncClient(base_url=base) as client:
            preflight = {
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-request-id",
            }
            ok = await client.options(
                "/graphql", headers={"Origin": allowed, **preflight}
            )
            bad = await client.options(
                "/graphql", headers={"Origin": "http://evil.example", **preflight}
            )
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == allowed
        assert ok.headers["access-control-allow-credentials"] == "true"
        assert {
            h.strip().lower()
            for h in ok.headers["access-control-allow-headers"].split(",")
        } >= {"authorization", "content-type", "x-request-id"}
        assert bad.status_code == 400
        assert "access-control-allow-origin" not in bad.headers
    finally:
        process.terminate()
        process.wait(15)


def test_websocket_origins_follow_the_same_setting():
    allowed = ["https://app.example"]

    assert origin_allowed("https://app.example", "api.example:443", allowed)
    assert origin_allowed("https://app.example/", "api.example:443", allowed)
    assert not origin_allowed("https://evil.example", "api.example:443", allowed)
    # GraphiQL served by the service itself, and clients that are not browsers.
    assert origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000", allowed)
    assert origin_allowed(None, "127.0.0.1:8000", allowed)
    assert not origin_allowed("http://127.0.0.1:9999", "127.0.0.1:8000", [])
