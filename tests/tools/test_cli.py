"""The `salesops` command line (A7), run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from api.app import create_app

ROOT = Path(__file__).resolve().parents[2]
SALESOPS = str(Path(sys.executable).parent / "salesops")


def run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI against the test database."""
    return subprocess.run(
        [SALESOPS, *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_users_create_prints_a_working_token_alone_on_the_last_line(
    database_url, empty_database
):
    args = "users create --email Ops@Example.com --name Ops --role SALES_OPS"
    args += " --region EMEA"
    done = run(database_url, *args.split())

    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    assert token.startswith("sops_") and " " not in token
    app = create_app(database_url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ viewer { email role region } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    await app.state.engine.dispose()
    assert response.json() == {
        "data": {
            "viewer": {
                "email": "ops@example.com",
                "role": "SALES_OPS",
                "region": "EMEA",
            }
        },
        "extensions": {"cost": {"requested": 1, "budget": 10_000}},
    }


def test_users_create_refuses_a_taken_email_and_prints_no_token(
    database_url, empty_database
):
    args = (
        "users",
        "create",
        "--email",
        "a@example.com",
        "--name",
        "A",
        "--role",
        "AE",
    )
    assert run(database_url, *args).returncode == 0

    again = run(database_url, *args)

    assert again.returncode == 1
    assert again.stdout == ""
    assert "DUPLICATE_RECORD" in again.stderr
    assert "\u27e6" not in again.stderr  # record references are rendered


def test_export_schema_prints_the_committed_sdl(database_url):
    done = run(database_url, "export-schema")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (ROOT / "schema.graphql").read_text().strip()


def test_db_upgrade_is_repeatable(database_url):
    first = run(database_url, "db", "upgrade")
    second = run(database_url, "db", "upgrade")

    assert (first.returncode, second.returncode) == (0, 0)


async def test_duplicates_scan_runs_a_scan_job_and_prints_its_best_pairs(
    database_url, make
):
    ops = await make.user()
    await make.lead(by=ops, email="pat@acme.example", phone="+1 415 555 0100")
    await make.lead(by=ops, email="kim@other.example", phone="415-555-0100")

    done = run(database_url, "duplicates", "scan", "--kind", "lead")
    wrong = run(database_url, "duplicates", "scan", "--kind", "account")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["scan 1: DONE, 1 pair", "1\t2\t60\tSAME_PHONE"]
    assert wrong.returncode != 0
    assert "unknown kind 'account'" in wrong.stderr
