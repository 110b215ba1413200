"""Fixtures for API tests that need a served process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

SALESOPS = str(Path(sys.executable).parent / "salesops")


def free_port() -> int:
    """A loopback port nobody listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn_server(
    database_url: str,
    workers: int = 1,
    *,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    stderr: Any = subprocess.DEVNULL,
) -> tuple[subprocess.Popen, str]:
    """Start `salesops serve` on a free loopback port (``env`` and ``args``
    added; ``stderr`` where its log goes); do not wait for it."""
    port = free_port()
    process = subprocess.Popen(
        [SALESOPS, "serve", "--port", str(port), "--workers", str(workers), *args],
        env={**os.environ, "DATABASE_URL": database_url, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    return process, f"http://127.0.0.1:{port}"


def wait_ready(process: subprocess.Popen, base: str) -> None:
    """Wait until the server's /readyz answers 200 (fail if it exits or never does)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with status {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    pytest.fail("the server did not become ready")


def start_server(
    database_url: str,
    workers: int = 1,
    *,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    stderr: Any = subprocess.DEVNULL,
) -> tuple[subprocess.Popen, str]:
    """`salesops serve` on a free loopback port, once it is ready."""
    process, base = spawn_server(
        database_url, workers, env=env, args=args, stderr=stderr
    )
    wait_ready(process, base)
    return process, base


def spawn_worker(
    database_url: str, *args: str, stderr: Any = subprocess.DEVNULL
) -> subprocess.Popen:
    """Start `salesops worker` (webhook delivery) with ``args``; do not wait."""
    return subprocess.Popen(
        [SALESOPS, "worker", *args],
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "SALESOPS_LOG_FORMAT": "console",
        },
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


def run_worker_once(database_url: str, *args: str) -> None:
    """`salesops worker --once`: deliver what is due, then exit (it must succeed)."""
    done = subprocess.run(
        [SALESOPS, "worker", "--once", *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def server(database_url):
    """`salesops serve --workers 2` (two processes behind one port)."""
    process, base = start_server(database_url, workers=2)
    yield base
    process.terminate()
    process.wait(15)


@pytest.fixture(scope="module")
def two_servers(database_url):
    """Two separate `salesops serve` processes on one database."""
    started = [start_server(database_url) for _ in range(2)]
    yield [base for _, base in started]
    for process, _ in started:
        process.terminate()
        process.wait(15)


@dataclass
class Observed:
    """`salesops serve --workers 2` with its log file and metrics directory."""

    base: str
    log: Path
    metrics_dir: Path

    def log_lines(self) -> list[str]:
        """Every line the server logged so far."""
        return self.log.read_text().splitlines()

    def samples(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        """The /metrics samples by (name, labels)."""
        text = httpx.get(f"{self.base}/metrics", timeout=30).text
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }


@pytest.fixture(scope="module")
def observed(database_url, tmp_path_factory) -> Iterator[Observed]:
    """Two workers, JSON logs to a file, a known metrics directory."""
    folder = tmp_path_factory.mktemp("observed")
    log = folder / "serve.log"
    metrics_dir = folder / "metrics"
    with open(log, "w") as handle:
        process, base = start_server(
            database_url,
            workers=2,
            env={
                "SALESOPS_LOG_FORMAT": "json",
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            },
            stderr=handle,
        )
        try:
            yield Observed(base, log, metrics_dir)
        finally:
            process.terminate()
            process.wait(15)
