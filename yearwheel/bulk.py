"""Start a whole year's cycles through the API, with a progress bar.

`POST /years/{year}/cycles` starts every active non-root committee's cycle in one request and
answers when all are started. While it runs, this module polls `GET /cycles?year=` for the
number of cycle rows and shows it against the number of committees that owe a cycle: the API
writes each row (status `starting`) at most one batch of YEARWHEEL_START_CONCURRENCY ahead of
its workflow's start, so the count runs a little ahead of the starts.

Starting is idempotent: a run that counted failures (Temporal went away midway) leaves those
cycles `starting` or unwritten, and running it again starts them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.schemas import YearCyclesStarted

ProgressCallback = Callable[[int, int], None]


class BulkStartError(RuntimeError):
    """The API refused or failed the bulk start; `problem` is its problem+json body if any."""

    def __init__(self, message: str, problem: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.problem = problem


def _problem(response: httpx.Response) -> BulkStartError:
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    hint = "; check YEARWHEEL_TOKEN (or --token)" if response.status_code == 401 else ""
    return BulkStartError(
        f"{response.request.method} {response.request.url.path}: {response.status_code} "
        f"{detail or response.text[:300]}{hint}",
        body if isinstance(body, dict) else None,
    )


def unreachable(api_url: str, error: httpx.HTTPError) -> str:
    """One line: the API did not answer, and what to do about it."""
    return (
        f"the API at {api_url} did not answer ({type(error).__name__}: {error or 'no reply'}); "
        "start it (`make run`, or `yearwheel dev`) or set YEARWHEEL_API_URL (--api-url)"
    )


async def _count(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    if response.status_code != 200:
        raise _problem(response)
    return response.json()


async def owing_committees(client: httpx.AsyncClient) -> int:
    """How many active committees below a root the caller can see: those that owe a cycle."""
    body = await _count(client, "/committees")
    return sum(1 for c in body["items"] if c["active"] and c["level"] != "root")


async def cycle_rows(client: httpx.AsyncClient, year: int) -> int:
    """How many cycles of `year` the caller can see."""
    return int((await _count(client, "/cycles", year=year, limit=1))["total"])


async def start_year_async(
    api_url: str,
    token: str,
    year: int,
    time_scale: float | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    poll_interval: float = 0.5,
) -> YearCyclesStarted:
    """Start `year`'s cycles; `on_progress(done, total)` is called as cycle rows appear."""
    try:
        return await _start_year(api_url, token, year, time_scale, on_progress=on_progress,
                                 poll_interval=poll_interval)
    except httpx.HTTPError as error:
        raise BulkStartError(unreachable(api_url, error)) from None


async def _start_year(
    api_url: str, token: str, year: int, time_scale: float | None, *,
    on_progress: ProgressCallback | None, poll_interval: float,
) -> YearCyclesStarted:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api_url.rstrip("/"), headers=headers,
                                 timeout=30) as client:
        total = await owing_committees(client)
        before = await cycle_rows(client, year)
        body = {"time_scale": time_scale} if time_scale is not None else None
        request = asyncio.create_task(
            client.post(f"/years/{year}/cycles", json=body, timeout=None)
        )
        done = before
        while not request.done():
            if on_progress is not None:
                on_progress(min(done, total), total)
            await asyncio.wait({request}, timeout=poll_interval)
            if not request.done():
                done = await cycle_rows(client, year)
        response = request.result()
        if response.status_code != 200:
            raise _problem(response)
        outcome = YearCyclesStarted.model_validate(response.json())
        if on_progress is not None:
            on_progress(outcome.started + outcome.existing, outcome.committees)
        return outcome


def start_year(
    api_url: str,
    token: str,
    year: int,
    time_scale: float | None = None,
    *,
    progress: bool = True,
    console: Console | None = None,
) -> YearCyclesStarted:
    """Start `year`'s cycles through the API and return what happened; with `progress`, show a
    bar of cycles started out of committees that owe one. Raises BulkStartError if refused."""
    if not progress:
        return asyncio.run(start_year_async(api_url, token, year, time_scale))
    columns = (
        TextColumn(f"cycles {year}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
    )
    # transient: the summary line says what happened, an error stays the one line it is.
    with Progress(*columns, console=console or Console(stderr=True), transient=True) as bar:
        task = bar.add_task("start", total=None)

        def show(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return asyncio.run(start_year_async(api_url, token, year, time_scale, on_progress=show))
