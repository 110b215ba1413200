"""An even spread of client connections over the workers of one `salesops serve`.

uvicorn's workers share one listening socket, and the worker the kernel wakes
first accepts every connection waiting: keep-alive clients that connect at
once land unevenly. Measured with 16 wrk connections on `serve --workers 2`
(PostgreSQL, `transitionLead`): spreads from 8/8 to 16/0 in nine runs, p99
94-133 ms with at most 10 on a worker and 186-199 ms with 12 or more.
Accepting one connection per wake-up is not enough (16/0 twice in five runs:
the worker already on a CPU wins every race).

Here every worker of a `serve` accepts a waiting connection only while it holds
no more open connections than the least loaded live worker — least
connections, as a balancing proxy would do it. The counts are shared through a
small file every worker maps (``SpreadBoard``: a slot per worker, claimed with a
byte-range lock, refreshed ten times a second; a slot not refreshed for a
second is a worker that is gone). A worker that has let a connection wait for
``PATIENCE`` seconds accepts it anyway, so a stalled worker cannot hold up new
connections.

uvicorn runs each worker on ``SpreadLoop`` (its ``--loop`` accepts an import
string): uvloop's loop whose ``create_server`` for the shared socket serves it
this way; everything else is uvloop's own. `serve` turns it on with more than
one worker (``spread_options``).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import mmap
import os
import select
import socket
import struct
import tempfile
import time
from asyncio import (
    AbstractEventLoop,
    AbstractServer,
    BaseTransport,
    Protocol,
    Task,
    TimerHandle,
)
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvloop

# The environment variable naming the board's file (set by `serve`).
BOARD_ENV = "SALESOPS_SPREAD_BOARD"
# A slot: the worker's pid, its open connections, when it last wrote (the
# system-wide monotonic clock, comparable between processes).
_SLOT = struct.Struct("=qqd")
# How often a worker writes its count, and how old a slot may be to count.
REFRESH_SECONDS = 0.1
STALE_SECONDS = 1.0
# How long a worker lets a connection wait for a less loaded one to take it.
PATIENCE = 0.02
# How often a worker that let a connection wait looks again.
RECHECK_SECONDS = 0.002
# After an accept failed for want of descriptors or memory (asyncio's delay).
ACCEPT_RETRY_SECONDS = 1.0

log = logging.getLogger(__name__)


class SpreadBoard:
    """The workers' open-connection counts, one slot each, in a shared file."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "r+b")  # noqa: SIM115 (held for the process's life)
        size = os.fstat(self._file.fileno()).st_size
        self.slots = size // _SLOT.size
        self._map = mmap.mmap(self._file.fileno(), size)
        self.slot = self._claim()

    @staticmethod
    def create(folder: str, workers: int) -> str:
        """A fresh board for ``workers`` workers (room for their replacements
        while the old ones finish); its path."""
        path = Path(folder, "spread-board")
        path.write_bytes(bytes(_SLOT.size * (2 * workers + 2)))
        return str(path)

    def _claim(self) -> int:
        """The first slot no live worker holds (its lock ends with the process)."""
        for slot in range(self.slots):
            try:
                fcntl.lockf(
                    self._file,
                    fcntl.LOCK_EX | fcntl.LOCK_NB,
                    _SLOT.size,
                    slot * _SLOT.size,
                )
            except OSError:
                continue
            return slot
        raise RuntimeError("every slot of the spread board is taken")

    def publish(self, count: int) -> None:
        """Write this worker's open connections."""
        _SLOT.pack_into(
            self._map, self.slot * _SLOT.size, os.getpid(), count, time.monotonic()
        )

    def least_other(self) -> int | None:
        """The fewest open connections of another live worker (None: none)."""
        others = (count for slot, _, count in _live(self._map) if slot != self.slot)
        return min(others, default=None)


def _live(board: Any) -> Iterator[tuple[int, int, int]]:
    """(slot, pid, open connections) of every live worker in a board's bytes."""
    now = time.monotonic()
    for slot in range(len(board) // _SLOT.size):
        pid, count, written = _SLOT.unpack_from(board, slot * _SLOT.size)
        if pid and now - written < STALE_SECONDS:
            yield slot, pid, count


def live_workers(path: str) -> dict[int, int]:
    """The live workers on the board at ``path``: pid -> open connections."""
    return {pid: count for _, pid, count in _live(Path(path).read_bytes())}


class SpreadServer(AbstractServer):
    """The shared listening socket served by least connections: the server
    ``create_server`` answers (uvicorn closes it and waits for it to close)."""

    def __init__(
        self,
        loop: AbstractEventLoop,
        protocol_factory: Callable[[], Protocol],
        sock: socket.socket,
        board: SpreadBoard,
        backlog: int,
        ssl: Any = None,
    ) -> None:
        self._loop = loop
        self._factory = protocol_factory
        self._sock = sock
        self._board = board
        self._ssl = ssl
        self._transports: set[BaseTransport] = set()
        self._opening: set[Task[Any]] = set()
        self._waiting_since: float | None = None
        # The next count refresh, and the next look at the socket after a pause.
        self._timers: dict[str, TimerHandle] = {}
        self._closed = loop.create_future()
        sock.setblocking(False)
        sock.listen(backlog)
        loop.add_reader(sock.fileno(), self._readable)
        self._refresh()

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return (self._sock,)

    def is_serving(self) -> bool:
        return not self._closed.done()

    def get_loop(self) -> AbstractEventLoop:
        return self._loop

    def close(self) -> None:
        """Stop accepting (the open connections are uvicorn's to finish)."""
        if not self.is_serving():
            return
        self._loop.remove_reader(self._sock.fileno())
        for timer in self._timers.values():
            timer.cancel()
        self._closed.set_result(None)

    async def start_serving(self) -> None:
        """Nothing to do: the server accepts from the moment it is made."""

    async def serve_forever(self) -> None:
        """Wait until the server is closed."""
        await asyncio.shield(self._closed)

    async def wait_closed(self) -> None:
        """Wait until the server is closed."""
        await asyncio.shield(self._closed)

    def open_connections(self) -> int:
        """The connections this worker holds (those being set up included)."""
        self._transports = {t for t in self._transports if not t.is_closing()}
        return len(self._transports) + len(self._opening)

    def _refresh(self) -> None:
        """Write the count now and every ``REFRESH_SECONDS``."""
        if self.is_serving():
            self._board.publish(self.open_connections())
            self._timers["refresh"] = self._loop.call_later(
                REFRESH_SECONDS, self._refresh
            )

    def _readable(self) -> None:
        """A connection waits: take it, or leave it to a less loaded worker."""
        mine, least = self.open_connections(), self._board.least_other()
        now = time.monotonic()
        if least is not None and mine > least:
            if self._waiting_since is None:
                self._waiting_since = now
            if now - self._waiting_since < PATIENCE:
                self._pause(RECHECK_SECONDS)
                return
        self._waiting_since = None
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # another worker took it
        except OSError as error:
            # Out of descriptors or memory: asyncio's own answer, try again later.
            log.error("accepting a connection failed: %s", error)
            self._pause(ACCEPT_RETRY_SECONDS)
            return
        self._board.publish(mine + 1)
        conn.setblocking(False)
        task = self._loop.create_task(self._connect(conn))
        self._opening.add(task)
        task.add_done_callback(self._opening.discard)

    def _pause(self, seconds: float) -> None:
        """Stop watching the socket for ``seconds``."""
        self._loop.remove_reader(self._sock.fileno())
        self._timers["watch"] = self._loop.call_later(seconds, self._watch)

    def _watch(self) -> None:
        """Watch the socket again; a connection no longer waiting (another
        worker took it) ends the wait."""
        if not self.is_serving():
            return
        if not select.select([self._sock], [], [], 0)[0]:
            self._waiting_since = None
        self._loop.add_reader(self._sock.fileno(), self._readable)

    async def _connect(self, conn: socket.socket) -> None:
        try:
            transport, _ = await self._loop.connect_accepted_socket(
                self._factory, conn, ssl=self._ssl
            )
        except OSError as error:  # the client left meanwhile, or TLS failed
            log.info("a connection ended before it was served: %s", error)
            conn.close()
            return
        self._transports.add(transport)


class SpreadLoop(uvloop.Loop):  # type: ignore[misc]
    """uvloop's loop whose server on a passed socket (uvicorn's workers) spreads
    connections by least connections over the workers of a `serve`."""

    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: Callable[[], Protocol],
        host: Any = None,
        port: Any = None,
        *,
        sock: socket.socket | None = None,
        backlog: int = 100,
        ssl: Any = None,
        **kwargs: Any,
    ) -> Any:
        board = os.environ.get(BOARD_ENV)
        if sock is None or not board or kwargs:
            return await super().create_server(
                protocol_factory,
                host,
                port,
                sock=sock,
                backlog=backlog,
                ssl=ssl,
                **kwargs,
            )
        return SpreadServer(
            self, protocol_factory, sock, SpreadBoard(board), backlog, ssl
        )


@contextmanager
def spread_options(workers: int) -> Iterator[dict[str, Any]]:
    """uvicorn's options for ``workers`` workers that spread connections evenly
    (none for one worker), with the board's file for as long as they serve."""
    if workers < 2:
        yield {}
        return
    with tempfile.TemporaryDirectory(prefix="salesops-serve-") as folder:
        os.environ[BOARD_ENV] = SpreadBoard.create(folder, workers)
        try:
            yield {"loop": f"{__name__}:SpreadLoop"}
        finally:
            os.environ.pop(BOARD_ENV, None)
