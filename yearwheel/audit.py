"""`yearwheel audit`: export a cycle's history, replay histories, verify the audit log.

The command talks to the API with the caller's own token (an auditor's, usually), never to the
database or Temporal directly: the API decides who may read what, so an auditor needs no
database password or Temporal access, and every export goes through the same door as the web
UI. Set YEARWHEEL_API_URL and YEARWHEEL_TOKEN (or pass --api-url and --token).

Replays run *here*, against the workflow code of this checkout, not on the server: an auditor
(or CI, or a release candidate) proves the code in hand still replays what production recorded.
`replay --file` needs no server at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from yearwheel.bulk import unreachable

if TYPE_CHECKING:
    from temporalio.client import WorkflowHistory

audit_app = typer.Typer(no_args_is_help=True, help=__doc__.split("\n\n")[0])

ApiUrl = Annotated[str, typer.Option(envvar="YEARWHEEL_API_URL", help="The API's base URL.")]
Token = Annotated[str, typer.Option(envvar="YEARWHEEL_TOKEN", help="Your bearer token.")]
DEFAULT_API = "http://127.0.0.1:8000"


class AuditCommandError(RuntimeError):
    """The API refused or failed a request; the message says what it answered."""


def _client(api_url: str, token: str) -> httpx.AsyncClient:
    if not token:
        raise AuditCommandError("no token: set YEARWHEEL_TOKEN or pass --token")
    return httpx.AsyncClient(base_url=api_url.rstrip("/"), timeout=120,
                             headers={"Authorization": f"Bearer {token}"})


async def _get(client: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    try:
        response = await client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise AuditCommandError(unreachable(str(client.base_url), exc)) from None
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text[:300]
        hint = "; check YEARWHEEL_TOKEN (or --token)" if response.status_code == 401 else ""
        raise AuditCommandError(f"GET {path}: {response.status_code} {detail}{hint}")
    return response


async def cycles_of(client: httpx.AsyncClient, *, year: int,
                    committee: str | None = None) -> list[dict[str, Any]]:
    """Every cycle of `year` the caller can see (of one committee, if given)."""
    found: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"year": year, "limit": 500, "offset": len(found)}
        if committee:
            params["committee"] = committee
        page = (await _get(client, "/cycles", **params)).json()
        found += page["items"]
        if len(found) >= page["total"] or not page["items"]:
            return found


async def export_history(api_url: str, token: str, *, committee: str, year: int) -> str:
    """The cycle's history JSON, exactly as the API gives it."""
    async with _client(api_url, token) as client:
        cycles = await cycles_of(client, year=year, committee=committee)
        if not cycles:
            raise AuditCommandError(f"no cycle of {committee} for {year} (or not yours to see)")
        return (await _get(client, f"/cycles/{cycles[0]['id']}/history")).text


@dataclass
class Replayed:
    name: str
    replays: bool
    agrees: bool
    events: int
    problem: str = ""


async def replay_one(name: str, history: WorkflowHistory) -> Replayed:
    from api.services.replay import replay

    report = await replay(history)
    problem = report.error or "; ".join(
        f"{d.key} {d.field}: recorded {d.recorded}, re-derived {d.rederived}"
        for d in report.differences
    )
    return Replayed(name=name, replays=report.replays, agrees=report.agrees,
                    events=report.events, problem=problem)


async def histories_from_files(files: list[Path]) -> AsyncIterator[tuple[str, WorkflowHistory]]:
    from api.services.history import load

    for path in files:
        yield str(path), load(await asyncio.to_thread(path.read_text))


async def histories_of_year(
    api_url: str, token: str, year: int, on_total: Callable[[int], None]
) -> AsyncIterator[tuple[str, WorkflowHistory]]:
    from api.services.history import load

    async with _client(api_url, token) as client:
        cycles = await cycles_of(client, year=year)
        on_total(len(cycles))
        for cycle in cycles:
            text = (await _get(client, f"/cycles/{cycle['id']}/history")).text
            yield cycle["workflow_id"], load(text, cycle["workflow_id"])


async def replay_all(
    histories: AsyncIterator[tuple[str, WorkflowHistory]], done: Callable[[Replayed], None]
) -> list[Replayed]:
    results = []
    async for name, history in histories:
        result = await replay_one(name, history)
        results.append(result)
        done(result)
    return results


def _fail(error: Exception) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)  # one line, however wide the terminal
    return typer.Exit(2)


@audit_app.command("export")
def export(
    committee: Annotated[str, typer.Option(help="The committee's code.")],
    year: Annotated[int, typer.Option(help="The cycle's year.")],
    out: Annotated[Path | None, typer.Option(help="Where to write (default "
                                             "cycle-CODE-YEAR.json).")] = None,
    api_url: ApiUrl = DEFAULT_API,
    token: Token = "",
) -> None:
    """Write a cycle's Temporal history to a file that WorkflowHistory.from_json loads."""
    try:
        text = asyncio.run(export_history(api_url, token, committee=committee, year=year))
    except AuditCommandError as error:
        raise _fail(error) from None
    target = out or Path(f"cycle-{committee}-{year}.json")
    target.write_text(text)
    typer.echo(f"wrote {target} ({len(text)} bytes)")


@audit_app.command("replay")
def replay_command(
    year: Annotated[int | None, typer.Option(help="Replay every cycle of this year (via the "
                                             "API).")] = None,
    file: Annotated[list[Path] | None, typer.Option(help="A history file; repeat for more.")]
    = None,
    api_url: ApiUrl = DEFAULT_API,
    token: Token = "",
) -> None:
    """Replay histories through this checkout's workflow code; list those that do not agree
    (exit 1), or say there is nothing to replay (exit 1 too)."""
    if (year is None) == (not file):
        raise typer.BadParameter("give --year, or one or more --file, not both")
    console = Console(stderr=True)
    columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("replay", total=len(file) if file else None)

        def total(count: int) -> None:
            bar.update(task, total=count)

        histories = (histories_from_files(file) if file
                     else histories_of_year(api_url, token, year or 0, total))
        try:
            results = asyncio.run(replay_all(histories, lambda _: bar.advance(task)))
        except (AuditCommandError, OSError, ValueError) as error:
            raise _fail(error) from None
    if not results:
        typer.echo(f"nothing to replay: no cycle of {year} that this token can see"
                   if year is not None else "nothing to replay", err=True)
        raise typer.Exit(1)
    failures = [r for r in results if not r.agrees]
    out = Console()
    if failures:
        table = Table(title=f"{len(failures)} of {len(results)} histories do not agree")
        for column in ("history", "replays", "events", "problem"):
            table.add_column(column, overflow="fold")
        for r in failures:
            table.add_row(r.name, "yes" if r.replays else "NO", str(r.events), r.problem)
        out.print(table)
        raise typer.Exit(1)
    out.print(f"all {len(results)} histories replay and re-derive their recorded outcome")


@audit_app.command("verify")
def verify(api_url: ApiUrl = DEFAULT_API, token: Token = "") -> None:
    """Walk the audit log's hash chain; name the first broken row (exit 1 if there is one)."""

    async def go() -> dict[str, Any]:
        async with _client(api_url, token) as client:
            body: dict[str, Any] = (await _get(client, "/audit/verify")).json()
            return body

    try:
        result = asyncio.run(go())
    except AuditCommandError as error:
        raise _fail(error) from None
    if result["ok"]:
        typer.echo(f"the audit log verifies: {result['events']} events, chain unbroken")
        return
    row = result.get("broken_row") or {}
    typer.echo(
        f"the audit log is BROKEN at event {result['broken_at']} ({result['reason']}): "
        f"{row.get('action')} on {row.get('subject')} by {row.get('actor')} at {row.get('at')}; "
        f"the {result['events']} events before it verify"
    )
    raise typer.Exit(1)
