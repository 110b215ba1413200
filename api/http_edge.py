"""What the HTTP edge refuses before GraphQL sees a request (A6).

- A body larger than ``SALESOPS_MAX_BODY_BYTES`` (default 1 MiB) is answered
  413, judged on ``Content-Length`` first and on the bytes actually read.
- Browsers on the origins of ``SALESOPS_CORS_ORIGINS`` may call the API (CORS,
  with credentials and the headers a client sends); the same list gates
  WebSocket upgrades (``origin_allowed``).
- A multipart POST (the GraphQL multipart request spec: ``startImport``'s file
  upload) may be up to ``SALESOPS_MAX_UPLOAD_BYTES`` (default 20 MiB);
  strawberry reads its ``operations`` and ``map`` parts. Only a bearer token
  authenticates (no cookie), so a cross-site form cannot post one as a user.
- A JSON POST body must be a JSON object in UTF-8 (``query`` a string,
  ``variables`` and ``extensions`` objects or null, ``operationName`` a
  string or null); anything else — ``null``, ``42``, a list, invalid UTF-8,
  malformed or 100,000-deep JSON, ``NaN`` — is a JSON 400, never a plain-text
  one or a 500. A GET's ``variables``/``extensions`` parameters likewise.
- A client's ``X-Request-Id`` is kept only if it is 1 to 128 visible ASCII
  characters; otherwise the request gets a generated one (it is logged and
  echoed, so it must not carry newlines or megabytes).

Every refusal has the GraphQL error shape with ``extensions.code``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Message, Receive

from domain.enums import ErrorCode

MAX_BODY_BYTES_ENV = "SALESOPS_MAX_BODY_BYTES"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_MULTIPART = "multipart/form-data"
MAX_REQUEST_ID = 128
_REQUEST_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_REQUEST_ID}}}")
# The members of a GraphQL-over-HTTP request and the JSON types they may have.
_MEMBERS: Mapping[str, tuple[type, ...]] = {
    "query": (str,),
    "operationName": (str, type(None)),
    "variables": (dict, type(None)),
    "extensions": (dict, type(None)),
}
_JSON_TYPES = ("application/json", "application/graphql-response+json")


class Refusal(Exception):  # noqa: N818 - a value carried to the response
    """A request refused at the edge: its HTTP status and GraphQL error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> JSONResponse:
        """The refusal in the GraphQL error shape."""
        return error_response(self.status, self.code, self.message)


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A GraphQL error body with ``extensions.code`` and no data."""
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers=dict(headers or {}),
    )


def unauthorized(message: str) -> JSONResponse:
    """HTTP 401 for a missing or refused bearer token."""
    return error_response(
        401,
        "UNAUTHENTICATED",
        message,
        headers={"WWW-Authenticate": 'Bearer realm="salesops"'},
    )


CORS_HEADERS = ("Authorization", "Content-Type", "X-Request-Id")
CORS_MAX_AGE = 600


def cors(origins: list[str]) -> Middleware:
    """Starlette's CORS middleware for the configured origins.

    Credentials are allowed (so the origins are listed, never ``*``), with the
    headers clients send; ``X-Request-Id`` is readable by the page; browsers
    may cache a preflight for ten minutes. A preflight from another origin is
    refused (400) and its actual request gets no ``Access-Control-Allow-Origin``,
    so the browser withholds the answer.
    """
    return Middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_credentials=True,
        allow_methods=["GET", "POST"],
        allow_headers=list(CORS_HEADERS),
        expose_headers=["X-Request-Id", "Retry-After"],
        max_age=CORS_MAX_AGE,
    )


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """Whether a WebSocket upgrade's ``Origin`` may connect.

    No ``Origin`` (a non-browser client) and the service's own origin (its
    GraphiQL page) may; a browser page elsewhere only from a configured origin.
    """
    if origin is None:
        return True
    origin = origin.rstrip("/")
    if origin in allowed:
        return True
    _, _, authority = origin.partition("://")
    return host is not None and authority == host


def request_id(value: str | None) -> str:
    """The client's request id if it is short visible ASCII, else a new one."""
    if value is not None and _REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def _too_large(limit: int) -> Refusal:
    return Refusal(
        413,
        ErrorCode.REQUEST_TOO_LARGE.value,
        f"The request body is larger than {limit} bytes.",
    )


def _bad(message: str) -> Refusal:
    return Refusal(400, ErrorCode.INVALID_INPUT.value, message)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes | str, what: str) -> Any:
    """Strict JSON (UTF-8, no NaN/Infinity, bounded nesting) or a 400."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise _bad(f"The {what} is not valid UTF-8.") from exc
    except RecursionError as exc:
        raise _bad(f"The {what} is nested too deeply.") from exc
    except ValueError as exc:
        raise _bad(f"The {what} is not valid JSON: {exc}.") from exc


def check_request(document: Any, where: str) -> None:
    """A GraphQL request must be an object whose members have their JSON types."""
    if not isinstance(document, dict):
        raise _bad(f"The {where} must be a JSON object with a `query` string.")
    for name, types in _MEMBERS.items():
        if name in document and not isinstance(document[name], types):
            raise _bad(f"`{name}` in the {where} has the wrong JSON type.")


def check_get(request: Request) -> None:
    """A GET's JSON parameters are objects (or absent)."""
    params = request.query_params
    for name in ("variables", "extensions"):
        if name in params:
            value = parse_json(params[name], f"`{name}` parameter")
            if value is not None and not isinstance(value, dict):
                raise _bad(f"The `{name}` parameter must be a JSON object.")


async def read_body(
    request: Request,
    receive: Receive,
    limit: int,
    upload_limit: int = DEFAULT_MAX_UPLOAD_BYTES,
) -> Receive:
    """Read and check a POST body; a ``receive`` that replays it to the app."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    multipart = content_type.lower() == _MULTIPART
    if multipart:
        limit = upload_limit
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    if not multipart and content_type.lower() not in _JSON_TYPES:
        raise Refusal(
            415,
            ErrorCode.INVALID_INPUT.value,
            "Send the GraphQL request as JSON (Content-Type: application/json), "
            "or a file upload as multipart/form-data.",
        )
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if not multipart:
        check_request(parse_json(body, "request body"), "request body")
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
