"""Settings (issue 16, item 1): one object from SALESOPS_* variables and .env,
documented in the README by a table generated from the class."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from api.settings import Settings, settings_table

ROOT = Path(__file__).resolve().parents[2]
SALESOPS = str(Path(sys.executable).parent / "salesops")


def test_the_readme_table_is_generated_from_the_settings_class():
    readme = (ROOT / "README.md").read_text()
    shown = re.search(
        r"<!-- settings:start -->\n(.*?)\n<!-- settings:end -->", readme, re.S
    )

    assert shown is not None
    assert shown.group(1).strip() == settings_table()


@pytest.mark.parametrize(
    ("workers", "each", "total"),
    [(1, (30, 0), 30), (2, (30, 0), 60), (4, (20, 0), 80), (8, (10, 0), 80)],
)
def test_default_pools_of_every_worker_fit_postgresql_s_100_connections(
    workers, each, total
):
    settings = Settings(database_url="postgresql+psycopg://u@h/db", workers=workers)

    pool = settings.pool()

    assert (pool["pool_size"], pool["max_overflow"]) == each
    assert workers * sum(pool.values()) == total <= 80


def test_explicit_pool_sizes_win_and_sqlite_gets_no_pool_options():
    pg = Settings(
        database_url="postgresql+psycopg://u@h/db", db_pool_size=3, db_max_overflow=0
    )
    assert pg.engine_options() == {
        "pool_size": 3,
        "max_overflow": 0,
        "hide_parameters": True,
    }
    assert Settings(database_url="sqlite:///x.db").engine_options() == {
        "hide_parameters": True
    }


def test_salesops_database_url_wins_over_database_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///plain.db")
    assert Settings().database_url == "sqlite:///plain.db"

    monkeypatch.setenv("SALESOPS_DATABASE_URL", "sqlite:///prefixed.db")
    assert Settings().database_url == "sqlite:///prefixed.db"


def test_origins_are_read_from_commas_or_json(monkeypatch):
    monkeypatch.setenv(
        "SALESOPS_CORS_ORIGINS", "https://a.example, http://b.example:8080/"
    )
    assert Settings().cors_origins == ["https://a.example", "http://b.example:8080"]
    monkeypatch.setenv("SALESOPS_CORS_ORIGINS", '["https://c.example"]')
    assert Settings().cors_origins == ["https://c.example"]


def test_a_dotenv_file_in_the_working_folder_is_read(tmp_path):
    database = tmp_path / "from-dotenv.db"
    (tmp_path / ".env").write_text(f"SALESOPS_DATABASE_URL=sqlite:///{database}\n")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    done = subprocess.run(
        [SALESOPS, "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stderr
    assert database.exists()
    assert f"Database at head: sqlite:///{database}" in done.stderr
