"""A CLI that speaks, not crashes (issue 16, item 7): every expected mistake is
one line on stderr and exit status 1; a traceback only with --debug."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from domain.db import is_sqlite
from tests.api.conftest import start_server
from tests.fresh import fresh_database

SALESOPS = str(Path(sys.executable).parent / "salesops")


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with ``env`` on top of ours (outside the repository folder)."""
    return subprocess.run(
        [SALESOPS, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a refused command (exit 1, no traceback)."""
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("salesops: ")
    return done.stderr.strip()


def _postgres(database_url: str) -> tuple[str, int]:
    """Where the test PostgreSQL listens (the CI default when testing SQLite)."""
    if is_sqlite(database_url):
        return "127.0.0.1", 5432
    url = make_url(database_url)
    return url.host or "127.0.0.1", url.port or 5432


def add_admin(url: str) -> None:
    """One user (an ADMIN) in the database at ``url``."""
    made = cli(
        "users",
        "create",
        "--email",
        "a@example.com",
        "--name",
        "A",
        "--role",
        "ADMIN",
        DATABASE_URL=url,
    )
    assert made.returncode == 0, made.stderr


def test_a_bad_setting_is_one_line_naming_the_variable():
    line = one_line(cli("db", "upgrade", SALESOPS_LOG_LEVEL="LOUD"))

    assert line == (
        "salesops: invalid setting SALESOPS_LOG_LEVEL='LOUD': "
        "Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"
    )
    assert one_line(cli("db", "upgrade", SALESOPS_CORS_ORIGINS="*")).endswith(
        "'*' cannot be used with credentials: list the origins"
    )


def test_a_missing_postgres_database_gives_the_createdb_command(database_url):
    host, port = _postgres(database_url)
    url = f"postgresql+psycopg://postgres@{host}:{port}/so_nowhere_4242"

    line = one_line(cli("db", "upgrade", DATABASE_URL=url))

    assert line == (
        f'salesops: database "so_nowhere_4242" does not exist on {host}:{port}: '
        f"create it with `createdb -h {host} -p {port} -U postgres so_nowhere_4242`"
    )


def test_an_unreachable_server_and_an_unopenable_sqlite_file_are_one_line():
    closed = "postgresql+psycopg://postgres:pw@127.0.0.1:9/db"
    line = one_line(cli("db", "upgrade", DATABASE_URL=closed))
    assert line.startswith("salesops: cannot reach PostgreSQL at 127.0.0.1:9 (")
    assert ":pw@" not in line

    nowhere = "sqlite:////no/such/folder/salesops.db"
    assert one_line(cli("db", "current", DATABASE_URL=nowhere)) == (
        "salesops: cannot open the SQLite database '/no/such/folder/salesops.db': "
        "does its folder exist and may this user write there?"
    )


def test_debug_shows_the_traceback():
    done = cli("--debug", "db", "upgrade", DATABASE_URL="sqlite:////no/such/x.db")

    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr


def test_an_unknown_role_lists_the_api_names_and_api_names_are_taken(database_url):
    with fresh_database(database_url) as url:
        refused = cli(
            "users",
            "create",
            "--email",
            "w@example.com",
            "--name",
            "W",
            "--role",
            "WIZARD",
            DATABASE_URL=url,
        )
        assert one_line(refused) == (
            "salesops: unknown role 'WIZARD': use one of SDR, BDR, AE, SAL, AM, RD, "
            "CUSTOMER_ADVOCATE, CUSTOMER_SUCCESS, MARKETING_OPS, SALES_OPS, "
            "SALES_ADMIN, ADMIN"
        )
        made = cli(
            "users",
            "create",
            "--email",
            "b@example.com",
            "--name",
            "B",
            "--role",
            "BDR",
            "--region",
            "EMEA",
            DATABASE_URL=url,
        )
        assert made.returncode == 0, made.stderr
        assert "Created BDR B <b@example.com>." in made.stderr


def test_demo_data_refuses_a_database_that_is_not_empty(database_url):
    with fresh_database(database_url) as url:
        cli(
            "users",
            "create",
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--role",
            "ADMIN",
            DATABASE_URL=url,
        )

        line = one_line(cli("demo-data", DATABASE_URL=url))

    assert line.startswith(
        "salesops: the database is not empty (1 users, 0 leads): demo-data loads "
        "into an empty database only"
    )


def test_serve_on_a_port_in_use_is_one_line(database_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        line = one_line(cli("serve", "--port", str(port), DATABASE_URL=database_url))

    assert line == (
        f"salesops: cannot listen on 127.0.0.1:{port}: Address already in use — "
        "stop what holds it or choose another port with --port"
    )


def test_serve_demo_on_users_without_demo_data_says_why_and_serves(
    database_url, tmp_path
):
    log = tmp_path / "serve.log"
    with fresh_database(database_url) as url:
        cli(
            "users",
            "create",
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--role",
            "ADMIN",
            DATABASE_URL=url,
        )
        with open(log, "w") as handle:
            process, base = start_server(
                url,
                args=("--demo",),
                env={"SALESOPS_LOG_FORMAT": "console"},
                stderr=handle,
            )
        try:
            assert httpx.get(f"{base}/readyz").status_code == 200
            time.sleep(0.2)
            text = log.read_text()
        finally:
            process.terminate()
            process.wait(15)

    assert (
        "Demo data not loaded: the database already has 1 users and 0 leads but "
        "no demo data, and the demo set loads into an empty database only"
    ) in text
    assert f"salesops serving GraphQL at {base}/graphql (1 worker, " in text
    assert "Traceback" not in text
