"""The HTTP edge under hostile requests (issue 17, items 3, 4 and 6).

No operation runs without a token (only the GraphiQL page itself is served
without one); bodies that are not a GraphQL request object get a JSON 400,
bodies over the limit a 413; a client's request id is echoed only when it is
short visible ASCII.
"""

from __future__ import annotations

import httpx
import pytest

from api import http_edge
from api.app import create_app
from domain.enums import Role

INTROSPECTION = "{ __schema { types { name } } }"


async def client_for(database_url: str):
    app = create_app(database_url, demo_token="demo-secret")
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
    return app, httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def http(database_url):
    app, client = await client_for(database_url)
    async with client:
        yield client
    await app.state.engine.dispose()


@pytest.fixture
async def auth(make):
    user = await make.user(Role.AE)
    return {"Authorization": f"Bearer {await make.token(user)}"}


@pytest.mark.parametrize(
    "params",
    [
        {"query": INTROSPECTION},
        {"query": "{ viewer { id } }"},
        {"query": "", "variables": "{}"},
    ],
)
async def test_a_browser_get_with_a_query_and_no_token_is_401(http, params):
    response = await http.get(
        "/graphql", params=params, headers={"Accept": "text/html"}
    )

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.json()["data"] is None


async def test_a_get_without_a_token_is_401(http):
    response = await http.get("/graphql", params={"query": INTROSPECTION})

    assert response.status_code == 401


async def test_the_graphiql_page_itself_needs_no_token(http):
    response = await http.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_health_and_readiness_need_no_token(http):
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/readyz")).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"null", "JSON object"),
        (b"42", "JSON object"),
        (b'"query"', "JSON object"),
        (b"[]", "JSON object"),
        (b'[{"query": "{ viewer { id } }"}]', "JSON object"),
        (b"\xff\xfe{}", "UTF-8"),
        (b'{"query": "{ viewer { id } }"', "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"query": "{ viewer { id } }", "variables": NaN}', "not valid JSON"),
        (b'{"query": 42}', "`query`"),
        (b'{"query": "{ viewer { id } }", "variables": 5}', "`variables`"),
        (b'{"query": "{ viewer { id } }", "variables": []}', "`variables`"),
        (b'{"query": "{ viewer { id } }", "operationName": 1}', "`operationName`"),
        (b'{"query": "{ viewer { id } }", "extensions": "x"}', "`extensions`"),
    ],
)
async def test_a_body_that_is_not_a_graphql_request_is_a_json_400(
    http, auth, body, message
):
    response = await http.post(
        "/graphql",
        content=body,
        headers={**auth, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert message in error["message"]


async def test_a_body_that_is_not_json_is_a_json_415(http, auth):
    response = await http.post(
        "/graphql",
        content=b"query=%7B%7D",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_a_get_with_malformed_variables_is_a_json_400(http, auth):
    for variables in ("{bad", "[1]", "NaN"):
        response = await http.get(
            "/graphql",
            params={"query": "{ viewer { id } }", "variables": variables},
            headers=auth,
        )

        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_a_body_over_the_default_limit_is_413(http, auth):
    padding = "a" * (http_edge.DEFAULT_MAX_BODY_BYTES + 1)

    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { id } }", "pad": padding},
        headers=auth,
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


async def test_the_body_limit_is_configurable(database_url, auth, monkeypatch):
    monkeypatch.setenv(http_edge.MAX_BODY_BYTES_ENV, "100")
    app, client = await client_for(database_url)
    async with client:
        small = await client.post(
            "/graphql", json={"query": "{ viewer { id } }"}, headers=auth
        )
        large = await client.post(
            "/graphql",
            json={"query": "{ viewer { id } }", "pad": "a" * 100},
            headers=auth,
        )
    await app.state.engine.dispose()

    assert small.status_code == 200
    assert large.status_code == 413


async def test_a_streamed_body_over_the_limit_is_413_without_a_content_length(
    http, auth
):
    async def chunks():
        for _ in range(20):
            yield b" " * 100_000

    response = await http.post(
        "/graphql",
        content=chunks(),
        headers={**auth, "Content-Type": "application/json"},
    )

    assert response.status_code == 413


async def test_a_short_visible_request_id_is_echoed(http, auth):
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={**auth, "X-Request-Id": "req-" + "x" * 124},
    )

    assert response.headers["x-request-id"] == "req-" + "x" * 124


@pytest.mark.parametrize(
    "hostile", ["x" * 100_000, "x" * 129, "two words", "tab\there", "caf\u00e9", ""]
)
async def test_a_hostile_request_id_is_replaced_not_echoed(http, auth, hostile):
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers=[*auth.items(), ("X-Request-Id", hostile.encode("latin-1"))],
    )

    assert response.status_code == 200
    echoed = response.headers["x-request-id"]
    assert echoed != hostile
    assert len(echoed) == 32
    assert echoed.isalnum()


def test_a_request_id_with_a_newline_is_replaced():
    assert http_edge.request_id("a\nb") != "a\nb"
    assert http_edge.request_id("a\r\nX-Evil: 1") != "a\r\nX-Evil: 1"
    assert http_edge.request_id("ok-123") == "ok-123"
    assert http_edge.request_id(None)


async def test_a_syntax_error_has_a_code_and_its_place(http, auth):
    response = await http.post("/graphql", json={"query": "{ viewer {"}, headers=auth)

    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert error["locations"] == [{"line": 1, "column": 11}]


async def test_a_document_nested_too_deeply_is_a_parse_error(http, auth):
    query = "{ nodes(ids: " + "[" * 1500 + '"x"' + "]" * 1500 + ") { id } }"

    response = await http.post("/graphql", json={"query": query}, headers=auth)

    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
