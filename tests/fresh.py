"""A fresh, empty database of the same kind as the test database.

SQLite: a new file in a temporary folder. PostgreSQL: a new database on the same
server (dropped afterwards). For tests of what happens from nothing: replicas
migrating together, the CLI's first run, demo mode.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from domain.db import is_sqlite, sync_url


@contextmanager
def fresh_database(database_url: str) -> Iterator[str]:
    """The URL of a new, empty database beside ``database_url``."""
    if is_sqlite(database_url):
        with tempfile.TemporaryDirectory(prefix="salesops-fresh-") as folder:
            yield f"sqlite:///{Path(folder) / 'fresh.db'}"
        return
    url = make_url(sync_url(database_url))
    name = f"{url.database}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
