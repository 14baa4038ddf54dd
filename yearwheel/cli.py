"""`yearwheel`: run the system, its parts, and its chores."""

from __future__ import annotations

import asyncio
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import httpx
import typer
from pydantic import ValidationError

from yearwheel.audit import audit_app

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
user_app = typer.Typer(no_args_is_help=True, help="Users and their tokens.")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")


@app.command()
def dev(
    demo: Annotated[bool, typer.Option(help="Seed a demo tree and play a whole year.")] = False,
    state_dir: Annotated[Path, typer.Option(help="Where the SQLite files and logs live.")] = Path(
        ".yearwheel"
    ),
    year_seconds: Annotated[
        float, typer.Option(help="With --demo: how many seconds one calendar year lasts.")
    ] = 120.0,
    seed: Annotated[int, typer.Option(help="With --demo: the simulated staff's random seed.")] = 30,
) -> None:
    """Start Temporal (dev server), the API and a worker on this machine; Ctrl-C stops them all."""
    from yearwheel.dev import run_dev

    run_dev(state_dir=state_dir, demo=demo, year_seconds=year_seconds, seed=seed)


@app.command("api")
def api_command(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Serve the HTTP API (configured by YEARWHEEL_* variables)."""
    import uvicorn

    from api.app import create_app
    from api.settings import load_settings

    uvicorn.run(create_app(load_settings()), host=host, port=port, log_level="warning")


@app.command()
def worker() -> None:
    """Run a worker for the cycle workflows and their activities."""
    from yearwheel.settings import load_worker_settings
    from yearwheel.worker import run_worker

    asyncio.run(run_worker(load_worker_settings()))


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic). Needs only YEARWHEEL_DATABASE_URL; a
    new SQLite file is created with its folder."""
    from yearwheel.schema import SchemaError, shown
    from yearwheel.schema import migrate as migrate_database
    from yearwheel.users import DatabaseSettings

    database_url = DatabaseSettings().database_url
    try:
        asyncio.run(migrate_database(database_url))
    except SchemaError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"database {shown(database_url)} is up to date")


@app.command()
def schedule() -> None:
    """Create (or update) the Schedule that opens every committee's cycle on 1 January."""
    from yearwheel.schedule import ensure_yearly_schedule
    from yearwheel.settings import load_worker_settings
    from yearwheel.worker import connect

    async def go() -> str:
        settings = load_worker_settings()
        client = await connect(settings)
        return await ensure_yearly_schedule(client, task_queue=settings.task_queue)

    schedule_id = asyncio.run(go())
    typer.echo(f"schedule {schedule_id}: 1 January 00:00 Asia/Ho_Chi_Minh, overlap ALLOW_ALL")


@app.command("start-year")
def start_year_command(
    year: Annotated[int, typer.Argument(help="The cycle year.")],
    token: Annotated[
        str, typer.Option(envvar="YEARWHEEL_TOKEN", help="A board or admin bearer token.")
    ],
    api_url: Annotated[
        str, typer.Option(envvar="YEARWHEEL_API_URL", help="The API's base URL.")
    ] = "http://127.0.0.1:8000",
    time_scale: Annotated[
        float | None, typer.Option(help="Seconds per calendar day, for rehearsals.")
    ] = None,
) -> None:
    """Start every active committee's cycle for a year through the API, with a progress bar."""
    from yearwheel.bulk import BulkStartError, start_year

    try:
        result = start_year(api_url, token, year, time_scale, progress=True)
    except BulkStartError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{year}: {result.started} started, {result.existing} already running, "
        f"{result.failed} failed"
    )
    if result.failed:
        raise typer.Exit(1)


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Option(help="Who the user is.")],
    role: Annotated[str, typer.Option(help="staff, supervisor, board, auditor or admin.")],
    committee: Annotated[
        str | None, typer.Option(help="The committee code (staff and supervisors).")
    ] = None,
    expires_days: Annotated[int | None, typer.Option(help="Token lifetime in days.")] = None,
) -> None:
    """Create a user: its API token on stdout, and on stderr a one-time link that sets its
    web password (both shown once). Needs only YEARWHEEL_DATABASE_URL (and
    YEARWHEEL_PUBLIC_URL for the link's address)."""
    from yearwheel.schema import SchemaError, ensure_schema, shown
    from yearwheel.users import (
        DatabaseSettings,
        UserCommandError,
        create_user_with_link,
        password_url,
    )

    settings = DatabaseSettings()
    try:
        if asyncio.run(ensure_schema(settings.database_url)):
            typer.echo(f"the database {shown(settings.database_url)} was new: migrated it to the "
                       "latest schema", err=True)
    except SchemaError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    try:
        token, link = asyncio.run(
            create_user_with_link(
                settings.database_url,
                name=name,
                role=role,
                committee=committee,
                expires_days=expires_days,
            )
        )
    except UserCommandError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(error.code) from None
    typer.echo(token)
    typer.echo(
        f"web password, set once within 72 h: {password_url(settings.public_url, link)}",
        err=True,
    )


@user_app.command("password-link")
def user_password_link(
    name: Annotated[str, typer.Option(help="The user whose web password is to be (re)set.")],
) -> None:
    """Print a new one-time link that sets a user's web password (valid 72 h)."""
    from yearwheel.users import DatabaseSettings, UserCommandError, password_link, password_url

    settings = DatabaseSettings()
    try:
        link = asyncio.run(password_link(settings.database_url, name=name))
    except UserCommandError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(error.code) from None
    typer.echo(password_url(settings.public_url, link))


@user_app.command("revoke")
def user_revoke(
    name: Annotated[str, typer.Option(help="The user whose token stops working.")],
    reason: Annotated[str | None, typer.Option(help="Why, for the audit log.")] = None,
) -> None:
    """Revoke a user's token for good (the API's POST /users/{id}/revoke, without a token)."""
    from yearwheel.users import DatabaseSettings, UserCommandError, revoke_user_token

    try:
        asyncio.run(revoke_user_token(DatabaseSettings().database_url, name=name, reason=reason))
    except UserCommandError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(error.code) from None
    typer.echo(f"revoked the token of {name}")


def describe_failure(error: BaseException) -> str:
    """One line for a failure no command turned into its own message."""
    text = (str(error).strip().splitlines() or [""])[0]
    if isinstance(error, RuntimeError) and "client connect" in text.lower():
        return (f"Temporal did not answer ({text}); start it (`make run`, or `yearwheel dev`) "
                "or set YEARWHEEL_TEMPORAL_ADDRESS")
    if isinstance(error, httpx.HTTPError):
        return (f"the API did not answer ({type(error).__name__}: {text or 'no reply'}); start "
                "it (`make run`, or `yearwheel dev`) or set YEARWHEEL_API_URL (--api-url)")
    return (f"{type(error).__name__}: {text or 'no message'} "
            "(YEARWHEEL_TRACEBACK=1 shows where it failed)")


def main() -> None:
    code = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        code = 130
    except ValidationError as error:
        # Settings fail fast: say which variable is wrong, not a traceback.
        for problem in error.errors():
            field = ".".join(str(part) for part in problem["loc"])
            name = f"YEARWHEEL_{field.upper()}" if field else "settings"
            typer.echo(f"error: {name}: {problem['msg']}", err=True)
        code = 2
    except Exception as error:  # the last resort: one line that says what failed, no traceback
        if os.environ.get("YEARWHEEL_TRACEBACK"):
            traceback.print_exc()
        typer.echo(f"error: {describe_failure(error)}", err=True)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # The SDK's native runtime can abort at interpreter exit; leave without finalisers.
    os._exit(code)
