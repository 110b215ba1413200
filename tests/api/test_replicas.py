"""Replicas that start together (issue 16, item 5): migrations under a lock,
`salesops db current|history|downgrade`, and a /readyz that means it."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import httpx
from sqlalchemy import func, select

from api.app import create_app
from domain.db import head_revision, make_sync_engine
from domain.records import User
from tests.api.conftest import spawn_server, wait_ready
from tests.fresh import fresh_database
from tools.demo import DEMO_ADMIN_EMAIL

SALESOPS = str(Path(sys.executable).parent / "salesops")
# The users of one demo data set (scale 1).
DEMO_USERS = 31


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
        servers = [spawn_server(url) for _ in range(3)]
        try:
            for process, base in servers:
                wait_ready(process, base)
        finally:
            for process, _ in servers:
                process.terminate()
            for process, _ in servers:
                process.wait(15)


def test_three_demo_replicas_at_once_load_the_demo_set_once(database_url, tmp_path):
    # Each replica migrates, then takes the demo lock and looks again: the first
    # loads, the two others find the demo set under the lock and serve it.
    logs = [tmp_path / f"serve-{n}.log" for n in range(3)]
    with fresh_database(database_url) as url, ExitStack() as stack:
        handles = [stack.enter_context(open(log, "w")) for log in logs]
        servers = [
            spawn_server(
                url,
                args=("--demo",),
                env={"SALESOPS_LOG_FORMAT": "console"},
                stderr=handle,
            )
            for handle in handles
        ]
        try:
            for process, base in servers:
                wait_ready(process, base)
            engine = make_sync_engine(url)
            try:
                with engine.connect() as conn:
                    admins = conn.execute(
                        select(func.count())
                        .select_from(User)
                        .where(User.email == DEMO_ADMIN_EMAIL)  # type: ignore[arg-type]
                    ).scalar_one()
                    users = conn.execute(
                        select(func.count()).select_from(User)
                    ).scalar_one()
            finally:
                engine.dispose()
        finally:
            for process, _ in servers:
                process.terminate()
            for process, _ in servers:
                process.wait(15)

    text = [log.read_text() for log in logs]
    assert sum(t.count("loading the demo data set") for t in text) == 1
    assert not any("Traceback" in t for t in text), text
    assert (admins, users) == (1, DEMO_USERS)


async def _readyz(url: str) -> httpx.Response:
    """/readyz of an app on ``url``."""
    app = create_app(url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/readyz")
    await app.state.engine.dispose()
    return response


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
    response = await _readyz(database_url)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "migration": head_revision()}


async def test_readyz_is_not_ready_on_a_read_only_sqlite_file(tmp_path):
    # Opened read-only (root may write any file, so no chmod): the database
    # answers and is at head, but refuses the write.
    path = tmp_path / "ro.db"
    url = f"sqlite:///{path}"
    assert finished(salesops(url, "db", "upgrade"))[0] == 0
    response = await _readyz(f"sqlite:///file:{path}?mode=ro&uri=true")
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
        response = await _readyz(url)
    assert response.status_code == 503
    assert response.json()["migration"] == "0009_customer_since"
