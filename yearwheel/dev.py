"""`yearwheel dev`: the whole system on one machine, optionally playing a demo year."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from domain.calendar import HCM
from yearwheel.demo import (
    DEMO_TREE,
    Calendar,
    DemoPeople,
    SimulatedStaff,
    list_tasks,
    seed_tree,
    start_year,
)
from yearwheel.demo_registers import RegisterKeeper
from yearwheel.processes import ProcessGroup
from yearwheel.stack import Stack, plan_stack, start_stack
from yearwheel.users import create_user_with_token, set_passwords

console = Console()


def run_dev(*, state_dir: Path, demo: bool, year_seconds: float, seed: int) -> None:
    if demo:
        # The demo plays one fresh year each time; the plain system keeps its state.
        state_dir = state_dir / "demo"
        shutil.rmtree(state_dir, ignore_errors=True)
    stack = plan_stack(state_dir)
    with ProcessGroup(stack.state_dir / "logs") as group:
        console.print(f"[bold]Yearwheel[/] starting under {stack.state_dir} …")
        start_stack(group, stack)
        try:
            asyncio.run(_serve(stack, group, demo=demo, year_seconds=year_seconds, seed=seed))
        except KeyboardInterrupt:
            pass
        console.print("stopping every process …")


async def _serve(
    stack: Stack, group: ProcessGroup, *, demo: bool, year_seconds: float, seed: int
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The plain system keeps its database across runs: each run gets an admin of its own.
    started = datetime.now(HCM).strftime("%Y%m%d-%H%M%S")
    admin = await create_user_with_token(
        stack.database_url, name=f"dev-admin-{started}", role="admin"
    )
    _print_urls(stack, admin)
    if not demo:
        await stop.wait()
        return
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        levels = await seed_tree(client, admin)
        people = await _demo_people(stack, admin)
        _print_tokens(people)
        await _print_web_sign_in(stack)
        year = datetime.now(HCM).year
        seconds_per_day = year_seconds / 365
        await start_year(client, admin, year=year, seconds_per_day=seconds_per_day)
        calendar = Calendar(year, seconds_per_day)
        staff = SimulatedStaff(client, people, levels, calendar, seed=seed)
        offices = RegisterKeeper(client, people.staff, seed=seed)
        with Live(console=console, refresh_per_second=4) as live:
            while not stop.is_set():
                tasks = await list_tasks(client, people.board)
                await staff.step(tasks)
                await offices.keep(calendar.today(), real_today=datetime.now(HCM).date())
                staff.errors.extend(offices.errors)
                offices.errors.clear()
                escalations = await _open_escalations(client, people.board)
                closed = await _closed_cycles(client, people.board, year)
                live.update(_view(tasks, escalations, closed, calendar, staff, group))
                try:
                    await asyncio.wait_for(stop.wait(), timeout=0.5)
                except TimeoutError:
                    pass


async def _demo_people(stack: Stack, admin: str) -> DemoPeople:
    url = stack.database_url
    people = DemoPeople(
        admin=admin,
        board=await create_user_with_token(url, name="demo-board", role="board", committee="BLOC"),
    )
    for code, _, level, _ in DEMO_TREE:
        if level == "root":
            continue
        people.staff[code] = await create_user_with_token(
            url, name=f"staff-{code}", role="staff", committee=code
        )
        if level == "upper":
            people.supervisors[code] = await create_user_with_token(
                url, name=f"supervisor-{code}", role="supervisor", committee=code
            )
    return people


async def _open_escalations(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    response = await client.get(
        "/escalations",
        params={"status": "open", "limit": 500},
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code != 200:
        return []
    body = response.json()
    return list(body["items"] if isinstance(body, dict) else body)


async def _closed_cycles(client: httpx.AsyncClient, token: str, year: int) -> tuple[int, int]:
    """How many of the year's cycles have closed, of how many."""
    response = await client.get(
        "/cycles", params={"year": year, "limit": 200}, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code != 200:
        return 0, 0
    cycles = response.json()["items"]
    return sum(c["status"] == "closed" for c in cycles), len(cycles)


def _print_urls(stack: Stack, admin: str) -> None:
    console.print(f"Web          {stack.api_url}/web")
    console.print(f"API docs     {stack.api_url}/docs")
    if stack.ui_url:
        console.print(f"Temporal UI  {stack.ui_url}")
    console.print(f"Temporal     {stack.temporal_address} (namespace default)")
    console.print(f"Logs         {stack.state_dir / 'logs'}")
    smtp = os.environ.get("YEARWHEEL_SMTP_HOST")
    console.print(f"Email        {'SMTP ' + smtp if smtp else f'.eml files in {stack.mail_dir}'}")
    console.print(f"admin token  {admin}")


async def _print_web_sign_in(stack: Stack) -> None:
    """Give the demo's people one fresh password for this run, and say how they sign in."""
    names = ["demo-board"]
    for code, _, level, _ in DEMO_TREE:
        if level != "root":
            names.append(f"staff-{code}")
        if level == "upper":
            names.append(f"supervisor-{code}")
    password = secrets.token_urlsafe(12)
    await set_passwords(stack.database_url, names=names, password=password)
    console.print(
        f"Web sign-in  {stack.api_url}/web/sign-in as staff-<CODE>, supervisor-<CODE> or "
        f"demo-board, password {password} (this run's; each user's own: "
        "yearwheel user password-link --name NAME)"
    )


def _print_tokens(people: DemoPeople) -> None:
    table = Table(title="Demo tokens (shown once)", show_lines=False)
    table.add_column("who")
    table.add_column("token")
    table.add_row("board (BLOC)", people.board)
    for code, token in people.supervisors.items():
        table.add_row(f"supervisor {code}", token)
    for code, token in people.staff.items():
        table.add_row(f"staff {code}", token)
    console.print(table)


def _view(
    tasks: list[dict[str, Any]],
    escalations: list[dict[str, Any]],
    closed: tuple[int, int],
    calendar: Calendar,
    staff: SimulatedStaff,
    group: ProcessGroup,
) -> Group:
    done, total = closed
    heading = (
        f"Year complete: {done}/{total} cycles closed"
        if total and done == total
        else f"Calendar {calendar.today().isoformat()} (one year ≈ "
        f"{calendar.seconds_per_day * 365:.0f} s), cycles closed {done}/{total}"
    )
    table = Table(title=heading)
    for column in ("committee", "opened", "completed", "late", "overdue", "escalated", "waived"):
        table.add_column(column, justify="left" if column == "committee" else "right")
    counts: dict[str, Counter[str]] = {code: Counter() for code, *_ in DEMO_TREE[1:]}
    for task in tasks:
        c = counts.setdefault(task["committee"], Counter())
        c["opened"] += 1
        c[task["state"]] += 1
        if task["state"] == "completed" and task.get("late"):
            c["late"] += 1
    for code, c in counts.items():
        table.add_row(
            code,
            *(str(c[k]) for k in ("opened", "completed", "late", "overdue", "escalated", "waived")),
        )
    by_rung = Counter(e.get("rung", "?") for e in escalations)
    lines = [
        Text(
            f"open escalations: {len(escalations)} "
            + " ".join(f"{rung}={n}" for rung, n in sorted(by_rung.items()))
        ),
    ]
    dead = [name for name, proc in group.procs.items() if proc.poll() is not None]
    if dead:
        lines.append(Text(f"stopped unexpectedly: {', '.join(dead)} (see logs)", style="red"))
    if staff.errors:
        lines.append(Text(f"last refusal: {staff.errors[-1]}", style="yellow"))
    lines.append(Text("Ctrl-C stops every process", style="dim"))
    return Group(table, *lines)
