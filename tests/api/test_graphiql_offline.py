"""GraphiQL with no internet (issue 16, item 6): its scripts and styles come
from the service itself; a headless Chromium that can reach nothing but
loopback renders the page, opens the Docs panel and runs the preloaded query."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re

from api.app import GRAPHIQL_PAGE, STATIC
from tests.api.browser import chromium
from tests.api.conftest import start_server
from tests.fresh import fresh_database

ASSET = re.compile(r'(?:src|href)="(/static/graphiql/[^"]+)"\s+integrity="([^"]+)"')


def test_every_asset_is_shipped_with_the_integrity_the_page_pins():
    html = GRAPHIQL_PAGE.read_text()
    found = ASSET.findall(html)

    assert len(found) == 7
    assert "unpkg" not in html and "https://" not in html.replace(
        "http://www.w3.org", ""
    )
    for path, integrity in found:
        body = (STATIC / path.removeprefix("/static/")).read_bytes()
        digest = base64.b64encode(hashlib.sha384(body).digest()).decode()
        assert integrity == f"sha384-{digest}", path
    licences = {p.name for p in (STATIC / "graphiql" / "licenses").iterdir()}
    assert licences == {
        "graphiql.LICENSE",
        "plugin-explorer.LICENSE",
        "react.LICENSE",
        "react-dom.LICENSE",
        "js-cookie.LICENSE",
    }


def _walk_graphiql(base: str) -> dict[str, object]:
    """Open GraphiQL offline at 1,280 px; what the page showed and fetched."""
    requested: list[str] = []
    with chromium(offline=True) as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.on("request", lambda r: requested.append(r.url))
        page.goto(f"{base}/graphql", wait_until="networkidle")
        page.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=30_000)
        # Every line of the welcome text ends left of the editor's toolbar.
        fits = page.evaluate(
            """() => {
              const edge = document.querySelector(
                '.graphiql-query-editor .graphiql-toolbar').getBoundingClientRect();
              const lines = [...document.querySelectorAll(
                '.graphiql-query-editor .CodeMirror-line > span')];
              return lines.length > 5 && lines.every(
                l => l.getBoundingClientRect().right <= edge.left);
            }"""
        )
        welcome = page.locator(
            ".graphiql-query-editor .CodeMirror-line"
        ).first.inner_text()
        page.get_by_label("Show Documentation Explorer").click()
        explorer = page.locator(".graphiql-doc-explorer")
        explorer.get_by_text("Mutation").first.wait_for(timeout=15_000)
        docs = explorer.inner_text()
        page.locator(".graphiql-execute-button").click()
        page.wait_for_function(
            "document.querySelector('.result-window')"
            " && document.querySelector('.result-window').innerText.includes('totalCount')",
            timeout=30_000,
        )
        result = page.locator(".result-window").inner_text()
    return {
        "requested": requested,
        "fits": fits,
        "welcome": welcome,
        "docs": docs,
        "result": result,
    }


async def test_graphiql_renders_opens_docs_and_runs_the_demo_query_with_no_network(
    database_url,
):
    with fresh_database(database_url) as url:
        process, base = start_server(url, args=("--demo",))
        try:
            seen = await asyncio.to_thread(_walk_graphiql, base)
        finally:
            process.terminate()
            process.wait(15)

    assert seen["requested"], "the page made no request"
    assert all(u.startswith(f"{base}/") for u in seen["requested"]), seen["requested"]
    assert seen["welcome"] == "# Welcome to salesops (signed in as demo admin)."
    assert seen["fits"] is True
    assert "Query" in str(seen["docs"]) and "Mutation" in str(seen["docs"])
    assert '"role": "ADMIN"' in str(seen["result"])
    assert '"totalCount"' in str(seen["result"])
