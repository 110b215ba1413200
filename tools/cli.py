"""The ``salesops`` command line (A7): serve, db upgrade|current|history|downgrade,
users create, export (CSV), export-schema, demo-data, worker (webhook delivery,
jobs and timeouts), tick (the timeouts once, for cron).

Expected mistakes (bad settings, a database that is missing, unreachable or
not empty, an unknown role or region, a port in use) end with one line on
stderr and exit status 1 (``tools.cli_errors``); ``salesops --debug …`` shows
the traceback instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from api.settings import MULTIPROC_ENV, Settings, load_settings
from domain.db import (
    alembic_config,
    database_lock,
    make_async_engine,
    make_sync_engine,
    upgrade_to_head,
)
from domain.enums import ExportKind, Region, Role
from domain.rules.webhooks import DEFAULT_MAX_ATTEMPTS
from domain.services.sessions import make_sessions
from domain.services.timeouts import TickReport, TimeoutKind
from tools.cli_errors import CliError, hide_password, run_cli

app = typer.Typer(
    help="salesops: the sales-operations core as a GraphQL API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Users and API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
duplicates_app = typer.Typer(help="Duplicate leads and contacts.", no_args_is_help=True)
app.add_typer(duplicates_app, name="duplicates")
err = Console(stderr=True, soft_wrap=True)
# serve speaks through the log (JSON or console, as configured).
log = logging.getLogger("salesops.cli")

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


_loaded: list[Settings] = []


def settings() -> Settings:
    """The settings the callback read (every command runs after it)."""
    if not _loaded:
        _loaded.append(load_settings())
    return _loaded[-1]


@app.callback()
def main_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of errors.")
    ] = False,
) -> None:
    """Read the settings once (SALESOPS_* variables, .env, DATABASE_URL)."""
    _loaded.append(load_settings())
    # Commands and the worker processes they start read the one database URL.
    os.environ["DATABASE_URL"] = _loaded[-1].database_url


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to head (replicas doing it at once queue on a lock)."""
    url = settings().database_url
    upgrade_to_head(url)
    err.print(f"[green]Database at head:[/green] {hide_password(url)}")


@db_app.command("current")
def db_current() -> None:
    """Print the revision the database is at."""
    from alembic import command

    command.current(alembic_config(settings().database_url))


@db_app.command("history")
def db_history() -> None:
    """List the migrations shipped with this version, newest first."""
    from alembic import command

    command.history(alembic_config(settings().database_url), indicate_current=True)


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[
        str,
        typer.Argument(
            help="Target revision: an id (`db history`), or `-- -1` for one step."
        ),
    ],
) -> None:
    """Migrate the database down to REVISION (under the migration lock)."""
    from alembic import command

    url = settings().database_url
    command.downgrade(alembic_config(url), revision)
    err.print(f"[green]Database at {revision}:[/green] {hide_password(url)}")


def _choice(kind: str, value: str, names: list[str]) -> str:
    """The API's name for ``value`` (any case), or a one-line refusal."""
    for name in names:
        if value.upper() == name:
            return name
    raise CliError(f"unknown {kind} {value!r}: use one of {', '.join(names)}")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Work email (unique).")],
    name: Annotated[str, typer.Option(help="Full name.")],
    role: Annotated[
        str, typer.Option(help=f"Role, as the API names it: {', '.join(Role)}.")
    ],
    region: Annotated[
        str | None,
        typer.Option(help=f"Region, as the API names it: {', '.join(Region)}."),
    ] = None,
) -> None:
    """Create a user and print its new API token alone on the last line."""
    the_role = Role(_choice("role", role, [r.value for r in Role]))
    the_region = (
        Region(_choice("region", region, [r.value for r in Region]))
        if region is not None
        else None
    )
    upgrade_to_head(settings().database_url)
    token = asyncio.run(_create_user(email, name, the_role, the_region))
    err.print(f"[green]Created {the_role.value} {name} <{email}>.[/green] API token:")
    typer.echo(token)


async def _create_user(email: str, name: str, role: Role, region: Region | None) -> str:
    from domain.db import write_transaction
    from domain.errors import Refused, plain_refs
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
                raise CliError(
                    "; ".join(
                        f"{r.code.value}: {plain_refs(r.message)}"
                        for r in refused.refusals
                    )
                ) from None
        return token
    finally:
        await engine.dispose()


@duplicates_app.command("scan")
def duplicates_scan(
    kind: Annotated[str, typer.Option(help="LEAD or CONTACT.")] = "LEAD",
    top: Annotated[int, typer.Option(help="How many pairs to print.")] = 20,
) -> None:
    """Run a full duplicate scan (a job, as startDuplicateScan runs it): its id,
    status and pair count, then the best pairs (id, other id, score, reasons)."""
    the_kind = _choice("kind", kind, ["LEAD", "CONTACT"])
    upgrade_to_head(settings().database_url)
    lines = asyncio.run(_scan(the_kind, top))
    for line in lines:
        typer.echo(line)


async def _scan(kind: str, top: int) -> list[str]:
    from domain.db import write_transaction
    from domain.enums import MergeKind
    from domain.records import DuplicateScan
    from domain.services.possible_duplicates import (
        run_duplicate_scan,
        scan_result,
        start_duplicate_scan,
    )

    engine = make_async_engine()
    try:
        async with make_sessions(engine)() as session:
            async with write_transaction(session):
                scan = await start_duplicate_scan(
                    MergeKind(kind), session=session, actor=None
                )
                scan_id = scan.id
            assert scan_id is not None
            await run_duplicate_scan(
                scan_id, session=session, worker=f"cli:{os.getpid()}"
            )
            done = await session.get(DuplicateScan, scan_id, populate_existing=True)
            assert done is not None
            pairs = "pair" if done.pair_count == 1 else "pairs"
            head = f"scan {scan_id}: {done.status.value}, {done.pair_count:,} {pairs}"
            if done.error:
                head += f" ({done.error})"
            return [head] + [
                f"{a}\t{b}\t{score}\t{','.join(r.value for r in why)}"
                for a, b, score, why in scan_result(done, top)
            ]
    finally:
        await engine.dispose()


@app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="The CSV file to write.")],
    kind: Annotated[str, typer.Option(help="lead, contact, account or opportunity.")],
    filter: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="The list query's filter (LeadFilter…): a JSON object, or "
            "key=value (status=MQL,ACCEPTED; scoreAtLeast=50); repeatable.",
        ),
    ] = None,
) -> None:
    """Export the leads, contacts, accounts or opportunities the list query
    shows with this filter to FILE (CSV, UTF-8; columns: README, Export)."""
    the_kind = ExportKind(_choice("kind", kind, [k.value for k in ExportKind]))
    if file.exists() and file.is_dir():
        raise CliError(f"{file} is a folder: name the CSV file to write")
    if not file.parent.is_dir():
        raise CliError(f"the folder {file.parent} does not exist: create it first")
    upgrade_to_head(settings().database_url)
    rows = asyncio.run(_export(the_kind, filter or [], file))
    err.print(f"[green]Exported {rows:,} {the_kind.value.lower()} rows to {file}.")


async def _export(kind: ExportKind, given: list[str], file: Path) -> int:
    from api.exports import parse_filter
    from domain.errors import Refused
    from tools.exports import filter_from_args, write_export

    try:
        query = parse_filter(kind, filter_from_args(kind, given))
    except Refused as refused:
        raise CliError(
            "; ".join(
                f"{r.code.value} {'.'.join(r.field)}: {r.message}"
                for r in refused.refusals
            )
        ) from None
    engine = make_async_engine()
    try:
        with progress_bar() as bar:
            task = bar.add_task(f"{kind.value.lower()}s", total=None)

            async def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return await write_export(
                kind, query, file, sessions=make_sessions(engine), progress=progress
            )
    finally:
        await engine.dispose()


@app.command("import")
def import_list(
    file: Annotated[Path, typer.Argument(help="A CSV or XLSX file.")],
    kind: Annotated[
        str,
        typer.Option(help="lead, contact, account, user, opportunity or activity."),
    ],
    mapping: Annotated[
        str | None,
        typer.Option(
            help="A mapping JSON file or a saved mapping's name (default: the "
            "mapping suggested from the header)."
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="The list's source: initial source of the records it "
            "creates (unless a row maps one)."
        ),
    ] = None,
    campaign: Annotated[
        str | None, typer.Option(help="The list's campaign (a Campaign global id).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would happen; write nothing.")
    ] = False,
    atomic: Annotated[
        bool,
        typer.Option(
            "--atomic", help="All rows or none: one rejected row writes nothing."
        ),
    ] = False,
    report: Annotated[
        Path | None, typer.Option(help="Write the row report (CSV) here.")
    ] = None,
    as_email: Annotated[
        str | None,
        typer.Option(
            "--as", help="The importing user's email (default: the first active ADMIN)."
        ),
    ] = None,
    historical: Annotated[
        bool,
        typer.Option(
            "--historical",
            help="A CRM's history (opportunity): deals past 0-Pending "
            "Acceptance, won or lost, with their days; SALES_OPS or ADMIN only.",
        ),
    ] = False,
) -> None:
    """Import leads, contacts, accounts, users, opportunities or activities from
    a file (D12, issue 13): one line per row in the report, a summary line at
    the end."""
    from domain.enums import ImportKind
    from tools.imports import ImportRequest

    the_kind = _choice("kind", kind.upper(), [k.value for k in ImportKind])
    if not file.is_file():
        raise CliError(f"no file {file}")
    request = ImportRequest(
        path=file,
        kind=ImportKind(the_kind),
        mapping=mapping,
        source=source,
        campaign=campaign,
        dry_run=dry_run,
        atomic=atomic,
        report=report,
        as_email=as_email,
        historical=historical,
    )
    upgrade_to_head(settings().database_url)
    typer.echo(asyncio.run(_import(request)))


async def _import(request: object) -> str:
    from domain.services.import_files import count_rows
    from tools.imports import ImportRequest, run_import, summary

    assert isinstance(request, ImportRequest)
    engine = make_async_engine()
    try:
        with progress_bar(transient=True) as bar:
            task = bar.add_task(
                f"importing {request.path.name}", total=count_rows(request.path)
            )
            async with make_sessions(engine)() as session:
                tally, unmapped = await run_import(
                    request,
                    session,
                    progress=lambda n: bar.advance(task, n),
                    say=lambda line: err.print(line),
                )
        return summary(tally, request, unmapped)
    finally:
        await engine.dispose()


@app.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL SDL (equal to schema.graphql)."""
    from api.schema import schema

    typer.echo(schema.as_str())


# The lock the demo load takes (beside the migrations' own).
DEMO_LOCK = "demo-data"


@app.command("demo-data")
def demo_data(
    scale: Annotated[
        float, typer.Option(help="Multiply the demo set (1 = ~2,000 leads).")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
) -> None:
    """Load the deterministic demo data set into an empty database."""
    upgrade_to_head(settings().database_url)
    with database_lock(settings().database_url, DEMO_LOCK):
        users, leads = _counts()
        if users or leads:
            raise CliError(
                f"the database is not empty ({users} users, {leads} leads): "
                "demo-data loads into an empty database only — point "
                "SALESOPS_DATABASE_URL at a new one (createdb …, or a new SQLite "
                "file)"
            )
        summary = _load_demo(scale, seed)
    err.print(f"[green]Demo data loaded:[/green] {summary}")


def progress_bar(*, transient: bool = False) -> Progress:
    """A progress bar on stderr: description, bar, done/total, time."""
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=transient,
    )


def _load_demo(scale: float, seed: int) -> object:
    from tools.demo import generate

    engine = make_sync_engine()
    try:
        with progress_bar() as bar:
            tasks: dict[str, int] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=total)
                bar.update(tasks[phase], completed=done, total=total)

            return generate(engine, scale=scale, seed=seed, progress=progress)
    finally:
        engine.dispose()


def _counts() -> tuple[int, int]:
    """How many users and leads the database holds."""
    from sqlalchemy import func, select

    from domain.records import Lead, User

    engine = make_sync_engine()
    try:
        with engine.connect() as conn:
            users = conn.execute(select(func.count()).select_from(User)).scalar_one()
            leads = conn.execute(select(func.count()).select_from(Lead)).scalar_one()
            return users, leads
    finally:
        engine.dispose()


def _has_demo_admin() -> bool:
    """Whether the demo data set is loaded (its admin exists)."""
    from sqlalchemy import func, select

    from domain.records import User
    from tools.demo import DEMO_ADMIN_EMAIL

    engine = make_sync_engine()
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(func.count())
                .select_from(User)
                .where(User.email == DEMO_ADMIN_EMAIL)  # type: ignore[arg-type]
            ).scalar_one()
            return bool(found)
    finally:
        engine.dispose()


async def _demo_token() -> str:
    """A fresh token for the demo admin; earlier demo tokens are revoked."""
    from sqlalchemy import select, update

    from domain.db import write_transaction
    from domain.records import ApiToken, User
    from domain.services.users import bump_auth_generation, issue_token
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
            await bump_auth_generation(session)
            _, token = await issue_token(
                admin.id, session=session, actor=None, label="graphiql-demo"
            )
        return token
    finally:
        await engine.dispose()


def _port_free(host: str, port: int) -> None:
    """Refuse at once, in one line, a port another process holds."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CliError(
                f"cannot listen on {host}:{port}: {exc.strerror} — stop what holds "
                "it or choose another port with --port"
            ) from None


def _metrics_directory() -> None:
    """A fresh PROMETHEUS_MULTIPROC_DIR shared by this serve's workers.

    Set before anything imports prometheus_client, so every process (one or
    many) writes its samples there and /metrics sums them.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
    else:
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="salesops-metrics-")


def _demo(host: str, port: int) -> None:
    """Demo mode: load the demo set into an empty database, sign GraphiQL in."""
    from api.app import DEMO_TOKEN_ENV

    # Replicas starting together queue here, as on the migrations' lock: the
    # first loads, the others find the demo set under the lock and go on.
    with database_lock(settings().database_url, DEMO_LOCK):
        if not _has_demo_admin():
            users, leads = _counts()
            if users or leads:
                log.warning(
                    "Demo data not loaded: the database already has %d users and "
                    "%d leads but no demo data, and the demo set loads into an "
                    "empty database only; serving it as it is (GraphiQL not signed "
                    "in). For the demo, use an empty database.",
                    users,
                    leads,
                )
                return
            log.info("Empty database: loading the demo data set")
            _load_demo(1.0, 7)
    if host in LOOPBACK_HOSTS:
        os.environ[DEMO_TOKEN_ENV] = asyncio.run(_demo_token())
        log.info("Demo mode: GraphiQL is signed in as the demo admin.")
    else:
        log.warning(
            "Demo data loaded, but GraphiQL is not pre-authenticated: %s is not "
            "a loopback address.",
            host,
        )


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Load the demo data when the database is empty.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes (default SALESOPS_WORKERS, 1)."),
    ] = None,
) -> None:
    """Migrate to head, then serve GraphQL at http://HOST:PORT/graphql."""
    config = settings()
    workers = workers or config.workers
    if workers < 1:
        raise CliError(f"--workers must be at least 1, not {workers}")
    demo = demo or config.demo
    # Every worker process reads its settings from the environment.
    os.environ["SALESOPS_WORKERS"] = str(workers)
    if config.metrics:
        _metrics_directory()
    _port_free(host, port)
    from api.observability import configure_logging

    configure_logging(config.log_format, config.log_level)
    upgrade_to_head(config.database_url)
    if demo:
        _demo(host, port)
    import uvicorn

    shown = "[::1]" if host == "::1" else host
    url = f"http://{shown}:{port}/graphql"
    log.info(
        "salesops serving GraphQL at %s (%d worker%s, %s)",
        url,
        workers,
        "s" if workers > 1 else "",
        hide_password(config.database_url),
        extra={"url": url, "workers": workers},
    )
    from tools.serving import spread_options

    # Workers accept by least connections, not whoever wakes first.
    with spread_options(workers) as spread:
        uvicorn.run(
            "api.app:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
            # A worker imports the whole schema before it answers the supervisor's
            # health check: on a busy machine that takes longer than uvicorn's 5 s.
            timeout_worker_healthcheck=60,
            **spread,
        )


@app.command("worker")
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due, then exit.")
    ] = False,
    poll_interval: Annotated[
        float, typer.Option(help="Seconds to wait when nothing is due.", min=0.01)
    ] = 1.0,
    max_attempts: Annotated[
        int, typer.Option(help="Attempts before a delivery is dead-lettered.", min=1)
    ] = DEFAULT_MAX_ATTEMPTS,
    timeout: Annotated[
        float, typer.Option(help="Seconds a target has to answer a POST.", min=0.01)
    ] = 10.0,
    backoff_base: Annotated[
        float, typer.Option(help="First retry delay in seconds (then doubled).", min=0)
    ] = 1.0,
    lease_seconds: Annotated[
        float,
        typer.Option(help="How long a claim lasts if this worker dies.", min=0.1),
    ] = 30.0,
    concurrency: Annotated[
        int, typer.Option(help="Subscriptions served at once.", min=1, max=64)
    ] = 4,
    tick_interval: Annotated[
        float,
        typer.Option(
            help="Seconds between two applications of the timeouts (salesops tick).",
            min=0.01,
        ),
    ] = 60.0,
) -> None:
    """Deliver the outbox to webhook subscriptions, write queued export jobs,
    run queued list imports and duplicate scans, and apply the timeouts every
    --tick-interval seconds (run one or several)."""
    from api.observability import configure_logging
    from tools.worker import WorkerOptions, run_worker

    if lease_seconds <= 2 * timeout:
        raise CliError(
            f"--lease-seconds ({lease_seconds:g}) must exceed twice --timeout "
            f"({timeout:g}): a slow target would outlive the lease"
        )
    config = settings()
    configure_logging(config.log_format, config.log_level)
    options = WorkerOptions(
        once=once,
        poll_interval=poll_interval,
        max_attempts=max_attempts,
        timeout=timeout,
        lease_seconds=lease_seconds,
        concurrency=concurrency,
        backoff_base=backoff_base,
        export_dir=config.export_dir,
        tick_interval=tick_interval,
    )
    engine = {"hide_parameters": True}
    if config.is_postgresql:
        # One more connection for the export task.
        engine.update(pool_size=concurrency + 2, max_overflow=2)
    asyncio.run(run_worker(config.database_url, options, engine_options=engine))


@app.command("tick")
def tick(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what the tick would do; write nothing."),
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(
            help="With --dry-run: rehearse at this moment (ISO 8601 with a time "
            "zone, e.g. 2026-12-10T09:00Z) instead of now."
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(help="At most this many timeouts of each kind.", min=1)
    ] = 500,
) -> None:
    """Apply the timeouts that fell due (issue 14: accepted leads nobody works,
    breached SLAs, stale opportunities) once — for cron; `salesops worker`
    does the same every --tick-interval seconds. Safe beside workers."""
    from domain.services.timeouts import TICK_LIMIT
    from domain.sqltypes import utcnow

    if at is not None and not dry_run:
        raise CliError("--at only rehearses: give --dry-run too")
    if limit > TICK_LIMIT:
        raise CliError(f"--limit is at most {TICK_LIMIT}")
    now = utcnow()
    if at is not None:
        try:
            now = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise CliError(f"--at {at!r} is not an ISO 8601 time") from None
        if now.tzinfo is None:
            raise CliError(f"--at {at!r} has no time zone: add Z or +00:00")
    upgrade_to_head(settings().database_url)
    for line in asyncio.run(_tick(now, limit, dry_run)):
        typer.echo(line)


async def _tick(now: datetime, limit: int, dry_run: bool) -> list[str]:
    from domain.services.timeouts import tick as run_tick

    engine = make_async_engine()
    try:
        async with make_sessions(engine)() as session:
            report = await run_tick(session, now=now, limit=limit, dry_run=dry_run)
    finally:
        await engine.dispose()
    return _report_lines(report, dry_run=dry_run)


def _report_lines(report: TickReport, *, dry_run: bool) -> list[str]:
    """A tick's report for a person: one line per timeout, then the counts."""
    verb = "would apply" if dry_run else "applied"
    lines = [
        f"{a.kind.value} {a.record_type.value.lower()} {a.record_id}: due "
        f"{a.due_at:%Y-%m-%d %H:%M} UTC"
        + (f", {a.from_state} -> {a.to_state}" if a.from_state != a.to_state else "")
        + (
            f", owner {a.previous_owner_id} -> {a.owner_id}"
            if a.previous_owner_id != a.owner_id
            else ""
        )
        for a in report.applied
    ]
    counts = ", ".join(f"{report.count(k)} {k.value}" for k in TimeoutKind)
    lines.append(f"tick at {report.now:%Y-%m-%d %H:%M:%S} UTC {verb}: {counts}")
    return lines


def main() -> None:
    """Entry point: expected mistakes in one line, tracebacks only with --debug."""
    run_cli(app)
