"""How the command line speaks of mistakes: one line on stderr, exit status 1.

An expected mistake — bad settings, a database that is missing, unreachable,
read-only or not empty, an unknown role, a port in use, an unknown revision —
is explained in one line that says what to do; anything else is one line too,
naming the error and ``--debug``, which shows the full traceback instead.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

PROGRAM = "salesops"
DEBUG_FLAG = "--debug"


class CliError(Exception):
    """An expected mistake, already worded for the user."""


def hide_password(url: str) -> str:
    """The URL with its password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _database_error(exc: DBAPIError, url: str) -> str:
    """Words for the database errors people meet when they start."""
    message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    try:
        u = make_url(url)
    except ArgumentError:
        return f"database error: {message}"
    if u.get_backend_name() == "sqlite":
        if "unable to open database file" in message:
            return (
                f"cannot open the SQLite database {u.database!r}: does its folder "
                "exist and may this user write there?"
            )
        if "readonly" in message:
            return f"the SQLite database {u.database!r} is read-only"
        return f"SQLite error on {u.database!r}: {message}"
    where = f"{u.host or 'localhost'}:{u.port or 5432}"
    missing = re.search(r'database "([^"]+)" does not exist', message)
    if missing:
        user = f" -U {u.username}" if u.username else ""
        port = f" -p {u.port}" if u.port else ""
        return (
            f'database "{missing.group(1)}" does not exist on {where}: create it '
            f"with `createdb -h {u.host or 'localhost'}{port}{user} {missing.group(1)}`"
        )
    if "password authentication failed" in message or "no password" in message:
        return f"PostgreSQL at {where} refused user {u.username!r}: {message}"
    if any(
        words in message
        for words in ("Connection refused", "could not connect", "timeout", "resolve")
    ):
        return (
            f"cannot reach PostgreSQL at {where} ({message}): is it running, and "
            f"is the URL right? ({hide_password(url)})"
        )
    return f"database error on {where}: {message}"


def explain(exc: BaseException, url: str) -> str:
    """One line for an error, without a traceback."""
    from alembic.util.exc import CommandError
    from pydantic import ValidationError

    from api.settings import describe_error

    if isinstance(exc, CliError):
        return str(exc)
    if isinstance(exc, ValidationError):
        return describe_error(exc)
    if isinstance(exc, DBAPIError):
        return _database_error(exc, url)
    if isinstance(exc, CommandError):
        return f"migrations: {exc}"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return (
        f"unexpected error: {type(exc).__name__}: {first} "
        f"(run `{PROGRAM} {DEBUG_FLAG} …` for the traceback)"
    )


def run_cli(app: Callable[[], object], argv: list[str] | None = None) -> None:
    """Run the command line; expected mistakes end in one line and exit 1."""
    import os

    args = sys.argv[1:] if argv is None else argv
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if DEBUG_FLAG in args:
            raise
        url = os.environ.get("DATABASE_URL", "")
        sys.stderr.write(f"{PROGRAM}: {explain(exc, url)}\n")
        sys.exit(1)
