"""Alembic: an empty database migrates to head, matches the models, and goes back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from domain.db import alembic_config, is_sqlite, make_sync_engine


@pytest.fixture
def fresh_database(database_url: str, tmp_path) -> Iterator[str]:
    """A brand-new empty database of the same kind as the test database."""
    if is_sqlite(database_url):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    # Named after the test database, so runs on different databases never collide.
    name = f"{make_url(database_url).database}_migration_test"
    admin = make_sync_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield (
            make_url(database_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_migrating_an_fresh_database_to_head_matches_the_models(fresh_database):
    command.upgrade(alembic_config(fresh_database), "head")

    engine = make_sync_engine(fresh_database)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}),
            SQLModel.metadata,
        )
    engine.dispose()

    assert diff == []


def test_downgrading_to_base_removes_every_table(fresh_database):
    command.upgrade(alembic_config(fresh_database), "head")

    command.downgrade(alembic_config(fresh_database), "base")

    engine = make_sync_engine(fresh_database)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert tables == set()
