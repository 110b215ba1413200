"""Replicas that start together (issue 16, item 5): migrations under a lock,
`salesops db current|history|downgrade`, and a /readyz that means it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from domain.db import head_revision
from tests.api.conftest import start_server
from tests.fresh import fresh_database

SALESOPS = str(Path(sys.executable).parent / "salesops")


def salesops(database_url: str, *args: str) -> subprocess.Popen[str]:
    """Start one CLI process on ``database_url``."""
    return subprocess.Popen(
        [SALESOPS, *args],
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Wait for a process: its exit status, stdout and stderr."""
    out, err = process.communicate(timeout=180)
    return process.returncode, out, err


def test_three_db_upgrades_at_once_on_an_empty_database_all_end_at_head(
    database_url,
):
    with fresh_database(database_url) as url:
        started = [salesops(url, "db", "upgrade") for _ in range(3)]
        results = [finished(p) for p in started]

        assert [code for code, _, _ in results] == [0, 0, 0], results
        code, out, _ = finished(salesops(url, "db", "current"))
        assert code == 0
        assert out.split() == [head_revision(), "(head)"]


def test_three_replicas_serving_at_once_on_an_empty_database_all_become_ready(
    database_url,
):
    with fresh_database(database_url) as url:
        servers = []
        try:
            # start_server waits for each; start all three first.
            processes = [
                subprocess.Popen(
                    [SALESOPS, "serve", "--port", str(port)],
                    env={**os.environ, "DATABASE_URL": url},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for port in _ports(3)
            ]
            servers = list(zip(processes, _bases(processes), strict=True))
            for process, base in servers:
                _wait_ready(process, base)
        finally:
            for process, _ in servers:
                process.terminate()
            for process, _ in servers:
                process.wait(15)


def _ports(n: int) -> list[int]:
    from tests.api.conftest import free_port

    ports = [free_port() for _ in range(n)]
    assert len(set(ports)) == n
    return ports


def _bases(processes: list[subprocess.Popen[str]]) -> list[str]:
    return [f"http://127.0.0.1:{p.args[3]}" for p in processes]  # type: ignore[index]


def _wait_ready(process: subprocess.Popen[str], base: str) -> None:
    import time

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"a replica exited {process.returncode}: {process.stderr.read()}"
            )  # type: ignore[union-attr]
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"replica {base} never became ready")


def test_db_history_lists_the_revisions_and_downgrade_goes_back_one_step(
    database_url,
):
    with fresh_database(database_url) as url:
        assert finished(salesops(url, "db", "upgrade"))[0] == 0

        code, history, _ = finished(salesops(url, "db", "history"))
        assert code == 0
        assert f"-> {head_revision()} (head) (current)" in history
        assert history.splitlines()[-1] == "<base> -> 0001, initial schema"

        code, _, err = finished(salesops(url, "db", "downgrade", "0009_customer_since"))
        assert code == 0, err
        code, out, _ = finished(salesops(url, "db", "current"))
        assert out.split() == ["0009_customer_since"]

        code, _, err = finished(salesops(url, "db", "downgrade", "nonsense"))
        assert code == 1
        assert err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith("salesops: migrations: ")


async def test_readyz_is_ready_on_a_writable_database_at_head(database_url):
    app = create_app(database_url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/readyz")
    await app.state.engine.dispose()
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "migration": head_revision()}


async def test_readyz_is_not_ready_on_a_read_only_sqlite_file(tmp_path):
    # Opened read-only (root may write any file, so no chmod): the database
    # answers and is at head, but refuses the write.
    path = tmp_path / "ro.db"
    url = f"sqlite:///{path}"
    assert finished(salesops(url, "db", "upgrade"))[0] == 0
    app = create_app(f"sqlite:///file:{path}?mode=ro&uri=true")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/readyz")
    await app.state.engine.dispose()
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "read-only",
        "migration": head_revision(),
    }


async def test_readyz_is_not_ready_behind_head(database_url):
    with fresh_database(database_url) as url:
        assert finished(salesops(url, "db", "upgrade"))[0] == 0
        assert finished(salesops(url, "db", "downgrade", "0009_customer_since"))[0] == 0
        app = create_app(url)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            response = await c.get("/readyz")
        await app.state.engine.dispose()
    assert response.status_code == 503
    assert response.json()["migration"] == "0009_customer_since"


_ = start_server  # the served fixtures' helper, for readers of this module
