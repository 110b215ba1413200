"""Optional OpenTelemetry traces (issue 16, item 4): with SALESOPS_OTLP_ENDPOINT
set, a served operation reaches a real OTLP/HTTP receiver as spans named after
the operation; unset, the app serves the plain schema."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from pydantic import ValidationError

from api.app import create_app
from api.schema import schema
from api.settings import Settings
from domain.enums import Role
from tests.api.conftest import start_server


class Collector(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver on a loopback port: decodes every export."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Export)
        self.paths: list[str] = []
        self.spans: list[tuple[str, str, dict[str, str]]] = []  # service, name, attrs
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        """The base URL to configure (the exporter adds /v1/traces)."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def span_names(self) -> list[str]:
        """The names of every span received so far."""
        with self.lock:
            return [name for _, name, _ in self.spans]


class _Export(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest.FromString(body)
        with self.server.lock:
            self.server.paths.append(self.path)
            for resource in request.resource_spans:
                service = next(
                    a.value.string_value
                    for a in resource.resource.attributes
                    if a.key == "service.name"
                )
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        attributes = {
                            a.key: a.value.string_value for a in span.attributes
                        }
                        self.server.spans.append((service, span.name, attributes))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        """Quiet."""


@pytest.fixture
def collector() -> Iterator[Collector]:
    """A receiver serving in a thread for the test."""
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


async def test_a_served_operation_is_traced_to_the_otlp_endpoint(
    database_url, make, collector
):
    user = await make.user(Role.SALES_OPS)
    token = await make.token(user)
    process, base = start_server(
        database_url,
        env={
            "SALESOPS_OTLP_ENDPOINT": collector.endpoint,
            # Export every 100 ms rather than every 5 s.
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        },
    )
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(
                f"{base}/graphql",
                json={"query": "query WhoAmI { viewer { email } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert answer.json()["data"] == {"viewer": {"email": user.email}}
        deadline = time.monotonic() + 30
        while "GraphQL Query: WhoAmI" not in collector.span_names():
            assert time.monotonic() < deadline, collector.span_names()
            await asyncio.sleep(0.1)
    finally:
        process.terminate()
        process.wait(15)

    with collector.lock:
        spans = {name: (service, attrs) for service, name, attrs in collector.spans}
        paths = set(collector.paths)
    assert paths == {"/v1/traces"}
    service, attributes = spans["GraphQL Query: WhoAmI"]
    assert service == "salesops"
    assert attributes["query"] == "query WhoAmI { viewer { email } }"
    assert {"GraphQL Parsing", "GraphQL Validation"} <= set(spans)
    # Resolver spans carry the field, never argument values.
    assert spans["GraphQL Resolving: viewer"][1]["graphql.path"] == "viewer"
    assert not any(
        key.startswith("graphql.param.") for _, attrs in spans.values() for key in attrs
    )


async def test_without_an_endpoint_the_app_serves_the_plain_schema(database_url):
    app = create_app(settings=Settings(database_url=database_url))
    try:
        assert app.state.tracing is None
    finally:
        await app.state.engine.dispose()
    assert not any("OpenTelemetry" in repr(e) for e in schema.extensions)


@pytest.mark.parametrize("value", ["collector:4318", "ftp://collector", "http://"])
def test_an_endpoint_that_is_no_http_url_is_refused_at_start(value):
    with pytest.raises(ValidationError, match="otlp_endpoint"):
        Settings(otlp_endpoint=value)
