"""`yearwheel audit export | replay | verify` against a served API, and on saved files alone."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner, Result

from api.services.history import load
from api.services.replay import replay
from tests.api.tampering import around_the_triggers
from tests.replay.conftest import short_cycle
from tests.replay.scenarios import Stand
from tests.replay.test_histories import SAVED
from yearwheel.cli import app


def _env(system: Stand) -> dict[str, str]:
    token = system.tokens["auditor"]["Authorization"].removeprefix("Bearer ")
    return {"YEARWHEEL_API_URL": str(system.http.base_url), "YEARWHEEL_TOKEN": token}


async def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    """The command as typed, on a thread of its own: it runs its own event loop."""
    # Wide enough that the failures table never folds a history's path across lines.
    wide = {"COLUMNS": "400", **(env or {})}
    return await asyncio.to_thread(CliRunner().invoke, app, ["audit", *args], env=wide)


async def test_export_replay_and_verify_through_the_api(system: Stand, tmp_path: Path) -> None:
    run = await short_cycle(system)
    env = _env(system)
    out = tmp_path / "aud.json"
    exported = await _run("export", "--committee", "AUD", "--year", str(run.year),
                          "--out", str(out), env=env)
    assert exported.exit_code == 0, exported.output
    history = load(await asyncio.to_thread(out.read_text))
    assert history.workflow_id == run.workflow_id
    assert (await replay(history)).agrees

    replayed = await _run("replay", "--year", str(run.year), env=env)
    assert replayed.exit_code == 0, replayed.output
    assert "all 1 histories replay and re-derive their recorded outcome" in replayed.output

    verified = await _run("verify", env=env)
    assert verified.exit_code == 0, verified.output
    assert "the audit log verifies" in verified.output

    async with around_the_triggers(system.sessions) as session:
        seq = await session.scalar(text(
            "SELECT min(seq) FROM audit_events WHERE action = 'task.waived'"))
        await session.execute(text(
            "UPDATE audit_events SET payload = '{}' WHERE seq = :seq"), {"seq": seq})
    broken = await _run("verify", env=env)
    assert broken.exit_code == 1
    assert f"BROKEN at event {seq} (hash does not match content): task.waived" in broken.output


async def test_the_saved_histories_replay_from_files_and_a_forged_one_is_listed(
    tmp_path: Path,
) -> None:
    good = await _run("replay", *[arg for path in SAVED for arg in ("--file", str(path))])
    assert good.exit_code == 0, good.output
    assert f"all {len(SAVED)} histories replay" in good.output

    forged = json.loads(SAVED[0].read_text())
    scheduled = next(e for e in forged["events"]
                     if "activityTaskScheduledEventAttributes" in e)
    scheduled["activityTaskScheduledEventAttributes"]["activityType"]["name"] = "open_tasks"
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))
    result = await _run("replay", "--file", str(SAVED[1]), "--file", str(path))
    assert result.exit_code == 1
    assert "1 of 2 histories do not agree" in result.output
    assert "forged.json" in result.output and "NO" in result.output


async def test_a_bad_call_says_what_is_wrong(tmp_path: Path) -> None:
    neither = await _run("replay")
    assert neither.exit_code == 2
    missing = await _run("verify", env={"YEARWHEEL_TOKEN": ""})
    assert missing.exit_code == 2 and "no token" in missing.output
