"""The ``salesops`` command line (A7): serve, db upgrade, users create, export-schema,
demo-data."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from domain.db import (
    database_url,
    make_async_engine,
    make_sync_engine,
    upgrade_to_head,
)
from domain.enums import Region, Role
from domain.services.sessions import make_sessions

app = typer.Typer(
    help="salesops: the sales-operations core as a GraphQL API.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Users and API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
err = Console(stderr=True)

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database (DATABASE_URL, default ./salesops.db) to head."""
    upgrade_to_head()
    err.print(f"[green]Database at head:[/green] {database_url()}")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Work email (unique).")],
    name: Annotated[str, typer.Option(help="Full name.")],
    role: Annotated[Role, typer.Option(help="Role.", case_sensitive=False)],
    region: Annotated[
        Region | None, typer.Option(help="Region.", case_sensitive=False)
    ] = None,
) -> None:
    """Create a user and print its new API token alone on the last line."""
    upgrade_to_head()
    token = asyncio.run(_create_user(email, name, role, region))
    err.print(f"[green]Created {role.value} {name} <{email}>.[/green] API token:")
    typer.echo(token)


async def _create_user(email: str, name: str, role: Role, region: Region | None) -> str:
    from domain.db import write_transaction
    from domain.errors import Refused
    from domain.services.users import create_user, issue_token

    engine = make_async_engine()
    try:
        async with (
            make_sessions(engine)() as session,
            write_transaction(session),
        ):
            try:
                user = await create_user(
                    {"email": email, "name": name, "role": role, "region": region},
                    session=session,
                    actor=None,
                )
                _, token = await issue_token(
                    user.id, session=session, actor=None, label="cli"
                )
            except Refused as refused:
                for r in refused.refusals:
                    err.print(f"[red]{r.code.value}[/red]: {r.message}")
                raise typer.Exit(1) from None
        return token
    finally:
        await engine.dispose()


@app.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL SDL (equal to schema.graphql)."""
    from api.schema import schema

    typer.echo(schema.as_str())


@app.command("demo-data")
def demo_data(
    scale: Annotated[
        float, typer.Option(help="Multiply the demo set (1 = ~2,000 leads).")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
) -> None:
    """Load the deterministic demo data set into an empty database."""
    upgrade_to_head()
    summary = _load_demo(scale, seed)
    err.print(f"[green]Demo data loaded:[/green] {summary}")


def _load_demo(scale: float, seed: int) -> object:
    from tools.demo import generate

    engine = make_sync_engine()
    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
        ) as bar:
            tasks: dict[str, int] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=total)
                bar.update(tasks[phase], completed=done, total=total)

            return generate(engine, scale=scale, seed=seed, progress=progress)
    finally:
        engine.dispose()


def _database_is_empty() -> bool:
    from sqlalchemy import func, select

    from domain.records import Lead, User

    engine = make_sync_engine()
    try:
        with engine.connect() as conn:
            users = conn.execute(select(func.count()).select_from(User)).scalar_one()
            leads = conn.execute(select(func.count()).select_from(Lead)).scalar_one()
            return users == 0 and leads == 0
    finally:
        engine.dispose()


async def _demo_token() -> str:
    """A fresh token for the demo admin; earlier demo tokens are revoked."""
    from sqlalchemy import select, update

    from domain.db import write_transaction
    from domain.records import ApiToken, User
    from domain.services.users import issue_token
    from domain.sqltypes import utcnow
    from tools.demo import DEMO_ADMIN_EMAIL

    engine = make_async_engine()
    try:
        async with (
            make_sessions(engine)() as session,
            write_transaction(session),
        ):
            admin = (
                await session.execute(
                    select(User).where(User.email == DEMO_ADMIN_EMAIL)
                )
            ).scalar_one()
            await session.execute(
                update(ApiToken)
                .where(ApiToken.label == "graphiql-demo", ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
                .values(revoked_at=utcnow())
            )
            _, token = await issue_token(
                admin.id, session=session, actor=None, label="graphiql-demo"
            )
        return token
    finally:
        await engine.dispose()


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Load the demo data when the database is empty.")
    ] = False,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Migrate to head, then serve GraphQL at http://HOST:PORT/graphql."""
    import uvicorn

    from api.app import DEMO_TOKEN_ENV

    upgrade_to_head()
    if demo:
        if _database_is_empty():
            err.print("Empty database: loading the demo data set…")
            _load_demo(1.0, 7)
        if host in LOOPBACK_HOSTS:
            os.environ[DEMO_TOKEN_ENV] = asyncio.run(_demo_token())
            err.print(
                f"[green]Demo mode:[/green] open http://{host}:{port}/graphql — "
                "GraphiQL "
                "is signed in as the demo admin (loopback only)."
            )
        else:
            err.print(
                "[yellow]Demo data loaded, but GraphiQL is not pre-authenticated: "
                f"{host} is not a loopback address.[/yellow]"
            )
    uvicorn.run(
        "api.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


def main() -> None:
    """Entry point."""
    app()
