"""Optional OpenTelemetry traces (issue 16, item 4).

When ``SALESOPS_OTLP_ENDPOINT`` is set, the schema gets strawberry's
``OpenTelemetryExtension`` as its outermost extension: one span per operation
(``GraphQL Query: <operationName>``) with parsing, validation and resolver
spans under it, exported in batches over OTLP/HTTP (protobuf) to
``<endpoint>/v1/traces``. Unset, nothing of OpenTelemetry is imported and the
schema is the plain one. The packages are the ``otel`` extra.

Resolver arguments are never put on spans (they hold people's data); the
operation's document is, as strawberry does (it holds no values when clients
pass variables).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry

from api.schema import build_schema

SERVICE_NAME = "salesops"


@dataclass(frozen=True)
class Tracing:
    """The traced schema and how to flush its spans at shutdown."""

    schema: strawberry.Schema
    provider: Any

    def shutdown(self) -> None:
        """Export what is buffered and stop the exporter."""
        self.provider.shutdown()


def _no_arguments(_args: dict[str, Any], _info: Any) -> dict[str, Any]:
    return {}


def traced_schema(endpoint: str) -> Tracing:
    """The schema with OpenTelemetry tracing to the OTLP/HTTP ``endpoint``."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from strawberry.extensions.tracing import OpenTelemetryExtension
    except ImportError as exc:  # the optional extra is missing
        raise RuntimeError(
            "SALESOPS_OTLP_ENDPOINT needs the OpenTelemetry packages: "
            "pip install 'salesops[otel]'"
        ) from exc
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))

    def extension() -> Any:
        return OpenTelemetryExtension(
            tracer_provider=provider, arg_filter=_no_arguments
        )

    return Tracing(schema=build_schema([extension]), provider=provider)
