"""A real webhook receiver for tests: a Starlette app served by uvicorn on a
loopback port (in a thread of the test process).

Paths: ``/hooks/<name>`` answers 200, or 500 for the first ``fail_first[name]``
requests; ``/silent`` never answers (a target that hangs). Every request is
recorded with whether its signature verified against ``secrets[name]``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.rules.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, verify_signature


@dataclass
class Received:
    """One request the receiver got."""

    name: str
    event_id: int
    body: dict[str, Any]
    signed: bool
    answered: int
    at: float


@dataclass
class Receiver:
    """What the receiver knows and got; ``url(name)`` is where to point a hook."""

    base: str = ""
    secrets: dict[str, str] = field(default_factory=dict)
    fail_first: dict[str, int] = field(default_factory=dict)
    got: list[Received] = field(default_factory=list)
    # (name, event id) of every accepted request: counted without a scan.
    accepted: set[tuple[str, int]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, name: str) -> str:
        """The hook URL of ``name``."""
        return f"{self.base}/hooks/{name}"

    def of(self, name: str, *, answered: int | None = 200) -> list[Received]:
        """What ``name`` got (by default: what it accepted), in arrival order."""
        with self.lock:
            return [
                r
                for r in self.got
                if r.name == name and (answered is None or r.answered == answered)
            ]

    def wait_for(self, name: str, count: int, timeout: float = 30.0) -> None:
        """Block until ``name`` accepted ``count`` distinct events (or fail)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len({r.event_id for r in self.of(name)}) >= count:
                return
            time.sleep(0.02)
        got = len({r.event_id for r in self.of(name)})
        raise AssertionError(f"{name} accepted {got} events, not {count}")

    async def hook(self, request: Request) -> Response:
        """Verify, record, answer (200, or 500 while failing on purpose)."""
        name = request.path_params["name"]
        body = await request.body()
        secret = self.secrets.get(name, "")
        signed = verify_signature(
            secret, request.headers.get(SIGNATURE_HEADER), body, now=time.time()
        )
        with self.lock:
            left = self.fail_first.get(name, 0)
            if left:
                self.fail_first[name] = left - 1
            status = 500 if left else 200
            event_id = int(request.headers.get(EVENT_ID_HEADER, "0"))
            if status == 200:
                self.accepted.add((name, event_id))
            self.got.append(
                Received(
                    name=name,
                    event_id=event_id,
                    body=json.loads(body),
                    signed=signed,
                    answered=status,
                    at=time.time(),
                )
            )
        return Response(status_code=status)

    async def silent(self, request: Request) -> Response:
        """Never answer (the worker's timeout ends it)."""
        await asyncio.sleep(3600)
        return Response(status_code=200)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A receiver listening on a free loopback port until the block ends."""
    receiver = Receiver()
    app = Starlette(
        routes=[
            Route("/hooks/{name}", receiver.hook, methods=["POST"]),
            Route("/silent", receiver.silent, methods=["POST"]),
        ]
    )
    port = _free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="critical",
        access_log=False,
        timeout_graceful_shutdown=1,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the receiver did not start")
        time.sleep(0.01)
    receiver.base = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        server.should_exit = True
        thread.join(5)
