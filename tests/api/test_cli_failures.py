"""The CLI as a newcomer meets it, run as a real process: `migrate` and `user create` on a fresh
database with nothing but YEARWHEEL_DATABASE_URL, and every failure one line on stderr saying
what to do (API down, bad token, unknown committee, database behind), never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn

from api.app import create_app
from api.migrate import upgrade_async
from tests.api.conftest import make_settings
from tests.api.factories import Factory
from tests.conftest import free_port


async def yearwheel(*args: str, **env: str) -> tuple[int, str, str]:
    """Run `yearwheel ARGS` with only the YEARWHEEL_* variables given; (exit code, out, err)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("YEARWHEEL_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "yearwheel", *args, env={**clean, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def one_line_error(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


async def test_user_create_then_migrate_on_a_fresh_database_need_only_its_url(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new-folder' / 'yearwheel.db'}"
    code, out, err = await yearwheel(
        "user", "create", "--name", "Quản trị", "--role", "admin", YEARWHEEL_DATABASE_URL=url
    )
    assert code == 0, err
    assert len(out.strip()) >= 40 and "Traceback" not in err
    assert "was new: migrated it to the latest schema" in err
    code, out, err = await yearwheel("migrate", YEARWHEEL_DATABASE_URL=url)
    assert (code, err) == (0, ""), err
    assert out.strip().endswith("is up to date")
    # A second user on the same, now current, database: no migration notice.
    code, _, err = await yearwheel(
        "user", "create", "--name", "Kiểm tra", "--role", "auditor", YEARWHEEL_DATABASE_URL=url
    )
    assert code == 0 and "migrated" not in err, err


async def test_migrate_first_on_a_fresh_database_needs_no_service_token(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'state' / 'yearwheel.db'}"
    code, out, err = await yearwheel("migrate", YEARWHEEL_DATABASE_URL=url)
    assert code == 0, err
    assert out == f"database {url} is up to date\n"
    code, _, err = await yearwheel(
        "user", "create", "--name", "A", "--role", "admin", YEARWHEEL_DATABASE_URL=url
    )
    assert code == 0 and "migrated" not in err, err


async def test_a_database_behind_the_schema_is_one_line_naming_the_command_to_run(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade_async(url, "0001")
    code, out, err = await yearwheel(
        "user", "create", "--name", "A", "--role", "admin", YEARWHEEL_DATABASE_URL=url
    )
    assert (code, out) == (1, "")
    line = one_line_error(err)
    command = f"YEARWHEEL_DATABASE_URL='{url}' "
    assert "at revision 0001" in line and command in line and line.endswith(" migrate"), line
    code, _, err = await yearwheel("migrate", YEARWHEEL_DATABASE_URL=url)
    assert code == 0, err
    code, _, err = await yearwheel(
        "user", "create", "--name", "A", "--role", "admin", YEARWHEEL_DATABASE_URL=url
    )
    assert code == 0, err


async def test_an_unreachable_database_is_one_line() -> None:
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none"
    for args in (["migrate"], ["user", "create", "--name", "A", "--role", "admin"]):
        code, _, err = await yearwheel(*args, YEARWHEEL_DATABASE_URL=url)
        line = one_line_error(err)
        assert code == 1 and "cannot be used" in line and "YEARWHEEL_DATABASE_URL" in line, line


async def test_every_api_command_with_the_api_down_is_one_line_saying_what_to_do() -> None:
    api_url = f"http://127.0.0.1:{free_port()}"
    commands = [
        ["start-year", "2025"], ["audit", "verify"], ["audit", "replay", "--year", "2025"],
        ["audit", "export", "--committee", "GR", "--year", "2025"],
    ]
    for args in commands:
        code, out, err = await yearwheel(
            *args, YEARWHEEL_API_URL=api_url, YEARWHEEL_TOKEN="some-token"
        )
        line = one_line_error(err)
        assert code != 0 and out == "", (args, out)
        assert line.startswith("error: the API at http://127.0.0.1:"), line
        assert "did not answer" in line and "YEARWHEEL_API_URL" in line, line


@contextlib.asynccontextmanager
async def serving(database_url: str) -> AsyncIterator[str]:
    """The API on a free port in this event loop (Temporal unreachable); yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        create_app(make_settings(database_url)), host="127.0.0.1", port=port,
        log_level="warning", lifespan="on",
    ))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_bad_token_unknown_committee_and_nothing_to_replay_are_one_line(
    factory: Factory, database_url: str
) -> None:
    await factory.tree()
    auditor = await factory.token("auditor")
    async with serving(database_url) as api_url:
        for args in (["audit", "verify"], ["start-year", "2025"]):
            code, out, err = await yearwheel(
                *args, YEARWHEEL_API_URL=api_url, YEARWHEEL_TOKEN="not-a-token"
            )
            line = one_line_error(err)
            assert code != 0 and out == "", args
            assert "401" in line and "YEARWHEEL_TOKEN" in line, line

        code, out, err = await yearwheel(
            "audit", "export", "--committee", "NOPE", "--year", "2025",
            YEARWHEEL_API_URL=api_url, YEARWHEEL_TOKEN=auditor,
        )
        assert code != 0 and out == ""
        assert one_line_error(err) == "error: no cycle of NOPE for 2025 (or not yours to see)"

        code, out, err = await yearwheel(
            "audit", "replay", "--year", "2025", YEARWHEEL_API_URL=api_url,
            YEARWHEEL_TOKEN=auditor,
        )
        assert (code, out) == (1, "")
        assert one_line_error(err) == "nothing to replay: no cycle of 2025 that this token can see"
