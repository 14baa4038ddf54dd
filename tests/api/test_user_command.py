"""`yearwheel user create | revoke` against the test database.

A token on stdout and nothing else (create's one-time web password link goes to stderr); every
refusal one line on stderr and exit code 2. The
happy path runs the real process; the refusals run the same Typer app in a thread (0.5 s less
each).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys

import httpx
from typer.testing import CliRunner

from api.services.signin import link_user
from api.services.users import PRINCIPAL_CACHE_SECONDS
from tests.api.factories import Factory, bearer
from yearwheel.cli import app


async def yearwheel(database_url: str, *args: str) -> tuple[int, str, str]:
    """Run the CLI as a user would; returns (exit code, stdout, stderr)."""
    env = {**os.environ, "YEARWHEEL_DATABASE_URL": database_url}
    env.pop("YEARWHEEL_SERVICE_TOKEN", None)  # user commands need only the database
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "yearwheel", "user", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def in_thread(database_url: str, *args: str) -> tuple[int, str, str]:
    """The CLI's Typer app in a worker thread (it runs its own event loop)."""
    env = {"YEARWHEEL_DATABASE_URL": database_url, "YEARWHEEL_SERVICE_TOKEN": ""}
    result = await asyncio.to_thread(CliRunner().invoke, app, ["user", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


async def test_create_prints_a_working_token_and_revoke_stops_it(
    api: httpx.AsyncClient, factory: Factory, database_url: str
) -> None:
    await factory.tree()
    code, out, err = await yearwheel(
        database_url, "create", "--name", "Nguyễn Văn A", "--role", "staff", "--committee", "GR",
        "--expires-days", "30",
    )
    assert code == 0
    link = re.fullmatch(
        r"web password, set once within 72 h: \S+/web/password/(\S+)\n", err
    )
    assert link is not None, err
    async with factory.sessions() as session:
        user = await link_user(session=session, token=link.group(1))
    assert user is not None and user.name == "Nguyễn Văn A"
    token = out.strip()
    assert out == token + "\n" and len(token) >= 40
    mine = await api.get("/committees", headers=bearer(token))
    assert [c["code"] for c in mine.json()["items"]] == ["GR"]

    code, out, err = await yearwheel(database_url, "revoke", "--name", "Nguyễn Văn A")
    assert (code, out, err) == (0, "revoked the token of Nguyễn Văn A\n", "")
    # Revoked in another process: the API may trust the token it looked up for this long.
    await asyncio.sleep(PRINCIPAL_CACHE_SECONDS)
    assert (await api.get("/committees", headers=bearer(token))).status_code == 401


async def test_refusals_are_one_line_and_exit_2(factory: Factory, database_url: str) -> None:
    await factory.tree()
    await factory.token("admin", name="taken")
    before = await factory.counts()
    cases = [
        (["create", "--name", "x", "--role", "chief"],
         "error: unknown role 'chief'; choose one of: staff, supervisor, board, auditor, admin"),
        (["create", "--name", "x", "--role", "service"],
         "error: unknown role 'service'; choose one of: staff, supervisor, board, auditor, "
         "admin"),
        (["create", "--name", "x", "--role", "staff", "--committee", "NOPE"],
         "error: committee 'NOPE' not found"),
        (["create", "--name", "x", "--role", "supervisor"],
         "error: a supervisor user needs a committee"),
        (["create", "--name", "taken", "--role", "auditor"],
         "error: a user named 'taken' already exists"),
        (["create", "--name", "x", "--role", "auditor", "--expires-days", "0"],
         "error: --expires-days must be at least 1"),
        (["revoke", "--name", "nobody"], "error: no user is called 'nobody'"),
    ]
    for args, message in cases:
        code, out, err = await in_thread(database_url, *args)
        assert (code, out, err) == (2, "", message + "\n"), args
    assert await factory.counts() == before


async def test_revoke_on_an_unmigrated_database_names_the_command_to_run(
    tmp_path: object,
) -> None:
    """(`create` migrates a new, empty database: tests/api/test_cli_failures.py.)"""
    url = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    code, out, err = await in_thread(url, "revoke", "--name", "x")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "no such table: users" in err
    assert f"YEARWHEEL_DATABASE_URL='{url}' " in err and err.endswith(" migrate\n")
