"""The service's settings: one object, read once at the edge, passed down as values.

Every setting is an environment variable prefixed ``SALESOPS_`` (or a line of a
``.env`` file in the working directory); the database URL also answers to the
plain ``DATABASE_URL`` the test command and CI use. ``domain/`` never reads the
environment: the CLI and the app read a ``Settings`` and hand its values to the
engine, the middleware and the extensions.

An invalid value fails at start with one line naming the variable
(``describe_error``); the README table is generated from this class
(``settings_table``) and a test keeps it equal.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from api.cost import QUERY_COST_BUDGET
from api.http_edge import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BYTES

ENV_PREFIX = "SALESOPS_"
# prometheus-client's multiprocess directory (``serve`` sets it up); named here
# so that nothing need import prometheus_client before it is set.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
DEFAULT_DATABASE_URL = "sqlite:///salesops.db"
# PostgreSQL's default max_connections is 100: the processes of one `serve`
# share this many, leaving the rest to migrations, the CLI, the worker and psql.
DEFAULT_DB_CONNECTIONS = 80
# One process never needs more than today's 10 + 20.
MAX_CONNECTIONS_PER_PROCESS = 30


def _split_list(value: Any) -> Any:
    """A list from JSON (``["a","b"]``) or from commas (``a, b``)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything an operator may set, with its default."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
        populate_by_name=True,
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("SALESOPS_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL of the database; `DATABASE_URL` works too. "
        "PostgreSQL: `postgresql+psycopg://user@host:5432/db`.",
    )
    workers: int = Field(
        1, ge=1, le=64, description="Worker processes of `serve` (`--workers`)."
    )
    db_connections: int = Field(
        DEFAULT_DB_CONNECTIONS,
        ge=2,
        description="PostgreSQL connections all workers of one `serve` may hold "
        "together; each process gets its share (at most 30).",
    )
    db_pool_size: int | None = Field(
        None,
        ge=1,
        description="Pooled connections per process (default: its whole share; "
        "opened as needed, then kept).",
    )
    db_max_overflow: int | None = Field(
        None,
        ge=0,
        description="Extra connections per process under load, closed as soon as "
        "they are returned (default: 0).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API (CORS) and to open "
        "websockets, comma-separated or a JSON list, e.g. "
        "`https://app.example.com`.",
    )
    graphiql: bool = Field(
        True, description="Serve the GraphiQL page to browsers at `/graphql`."
    )
    demo: bool = Field(
        False,
        description="Demo mode (`serve --demo`): load the demo data into an empty "
        "database; GraphiQL signed in as the demo admin on loopback.",
    )
    max_body_bytes: int = Field(
        DEFAULT_MAX_BODY_BYTES,
        ge=1,
        description="Largest request body (HTTP 413 above).",
    )
    max_upload_bytes: int = Field(
        DEFAULT_MAX_UPLOAD_BYTES,
        ge=1,
        description="Largest multipart request (a startImport file upload; HTTP "
        "413 above).",
    )
    query_cost_budget: int = Field(
        QUERY_COST_BUDGET,
        ge=1,
        description="Most a request may cost (`QUERY_TOO_COSTLY` above).",
    )
    log_format: Literal["json", "console"] = Field(
        "json", description="`json` (one object a line) or `console` (plain text)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Lowest level logged."
    )
    metrics: bool = Field(True, description="Serve Prometheus metrics at `/metrics`.")
    token_cache_seconds: int = Field(
        60,
        ge=0,
        le=3600,
        description="How long a process may trust a token it checked (0: never); "
        "a revocation, deactivation or role change reaches every process within "
        "1 s whatever this is.",
    )
    token_rate_limit: int = Field(
        60_000,
        ge=0,
        description="Requests per minute one API token may make to one server "
        "process (HTTP 429 with `Retry-After` above; 0: no limit).",
    )
    webhook_https_only: bool = Field(
        True, description="Deliver webhooks to `https://` URLs only."
    )
    otlp_endpoint: str | None = Field(
        None,
        description="OpenTelemetry: base URL of an OTLP/HTTP collector, e.g. "
        "`http://collector:4318`; every GraphQL operation is traced to "
        "`<url>/v1/traces` (needs the `otel` extra). Unset: no tracing.",
    )
    export_dir: str = Field(
        "exports",
        description="Folder the worker writes export CSVs to and the app serves "
        "them from (`GET /exports/<id>`); shared by both when they run apart.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"{backend} is not supported: use sqlite or postgresql")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins_list(cls, value: Any) -> Any:
        try:
            return _split_list(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON list ({exc.msg})") from None

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        origins = [origin.rstrip("/") for origin in origins]
        for origin in origins:
            if origin == "*":
                raise ValueError(
                    "'*' cannot be used with credentials: list the origins"
                )
            scheme, sep, rest = origin.partition("://")
            if scheme not in ("http", "https") or not sep or not rest or "/" in rest:
                raise ValueError(
                    f"{origin!r} is not an origin (scheme://host[:port], no path)"
                )
        return origins

    @field_validator("otlp_endpoint")
    @classmethod
    def _http_endpoint(cls, value: str | None) -> str | None:
        if not value:
            return None
        scheme, sep, rest = value.partition("://")
        if scheme not in ("http", "https") or not sep or not rest:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @property
    def is_postgresql(self) -> bool:
        """Whether the database is PostgreSQL."""
        return make_url(self.database_url).get_backend_name() == "postgresql"

    def pool(self) -> dict[str, int]:
        """``pool_size`` / ``max_overflow`` for one process's engine.

        Default: ``db_connections`` shared by the workers (at most 30 each),
        all of it pooled — 1 or 2 workers 30 each, 4 workers 20, 8 workers 10
        (80 in all at most). The pool opens a connection only when a request
        needs one and keeps it; an overflow connection would be closed the
        moment it is returned, so a burst above the pool size made PostgreSQL
        start a backend per burst (measured: 16 clients on 2 workers, 3,000
        moves — 172 sessions started with 10 pooled + 20 overflow, 39 with 30
        pooled; server CPU per move 3.9 → 3.2 ms).
        """
        share = max(
            2, min(MAX_CONNECTIONS_PER_PROCESS, self.db_connections // self.workers)
        )
        size = self.db_pool_size or share
        overflow = self.db_max_overflow if self.db_max_overflow is not None else 0
        return {"pool_size": size, "max_overflow": overflow}

    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments for the API's engine: pool sizes on PostgreSQL, and
        statement parameters kept out of error messages (they reach the logs)."""
        options: dict[str, Any] = {"hide_parameters": True}
        if self.is_postgresql:
            options.update(self.pool())
        return options


def env_name(name: str) -> str:
    """The environment variable of a setting."""
    return f"{ENV_PREFIX}{name.upper()}"


def describe_error(error: ValidationError) -> str:
    """One line naming every invalid variable and why."""
    parts = []
    for problem in error.errors():
        where = str(problem["loc"][0]) if problem["loc"] else "settings"
        name = where if where.isupper() else env_name(where)
        if name.endswith("DATABASE_URL"):
            name = "SALESOPS_DATABASE_URL/DATABASE_URL"
        given = problem.get("input")
        shown = f"={given!r}" if isinstance(given, str | int | float) else ""
        message = problem["msg"].removeprefix("Value error, ")
        parts.append(f"{name}{shown}: {message}")
    return "invalid setting " + "; ".join(parts)


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment and ``.env``, with ``overrides`` on top."""
    return Settings(**overrides)


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    else:
        value = field.default
    if value is None:
        return "(derived)"
    if value == []:
        return "(none)"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    return f"`{value}`"


def settings_table() -> str:
    """The README's table of settings, generated from ``Settings``."""
    rows = ["| variable | default | what it sets |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        variable = f"`{env_name(name)}`"
        if name == "database_url":
            variable += " (or `DATABASE_URL`)"
        rows.append(f"| {variable} | {_default(field)} | {field.description} |")
    return "\n".join(rows)
