"""An operator finds a committee's cycle in Temporal by its committee, level and year, with a
Vietnamese summary: the dev server `yearwheel dev` runs registers the search attributes and the
API starts each cycle with them."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from yearwheel.binaries import temporal_cli
from yearwheel.processes import ProcessGroup
from yearwheel.stack import Stack, plan_stack, start_stack
from yearwheel.users import create_user_with_token

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    stack = plan_stack(tmp_path / "state", temporal_port=None, api_port=None, ui=False)
    with ProcessGroup(tmp_path / "logs") as group:
        start_stack(group, stack)
        yield stack


def listed(stack: Stack, query: str) -> list[str]:
    """Workflow ids `temporal workflow list --query` prints, as an operator would run it."""
    out = subprocess.run(
        [temporal_cli(), "workflow", "list", "--address", stack.temporal_address,
         "--query", query, "--output", "json"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout
    rows = json.loads(out) if out.strip().startswith("[") else [
        json.loads(line) for line in out.splitlines() if line.strip()
    ]
    return sorted(row["execution"]["workflowId"] for row in rows)


async def test_cycles_are_found_by_committee_and_year_and_read_in_vietnamese(
    stack: Stack,
) -> None:
    admin = await create_user_with_token(stack.database_url, name="admin", role="admin")
    headers = {"Authorization": f"Bearer {admin}"}
    year = date.today().year
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        for code, level, parent in (("BLOC", "root", None), ("UP", "upper", "BLOC"),
                                    ("GR", "grassroots", "UP"), ("GR2", "grassroots", "UP")):
            created = await client.post("/committees", headers=headers, json={
                "code": code, "name": f"Chi bộ {code}", "level": level, "parent": parent})
            assert created.status_code == 201, created.text
        for code in ("GR", "GR2"):
            started = await client.post("/cycles", headers=headers,
                                        json={"committee": code, "year": year})
            assert started.status_code == 201, started.text

    async def seen(query: str, want: list[str]) -> list[str]:
        """What the query lists once it lists `want` (visibility follows a start shortly)."""
        found: list[str] = []
        for _ in range(100):
            found = await asyncio.to_thread(listed, stack, query)
            if found == want:
                break
            await asyncio.sleep(0.1)
        return found

    gr, gr2 = f"cycle/GR/{year}", f"cycle/GR2/{year}"
    assert await seen(f"CommitteeId='GR' AND CycleYear={year}", [gr]) == [gr]
    assert await seen("CommitteeLevel='grassroots'", [gr, gr2]) == [gr, gr2]
    assert await seen("CommitteeLevel='upper'", []) == []
    client = await Client.connect(stack.temporal_address)
    described = await client.get_workflow_handle(f"cycle/GR/{year}").describe()
    assert await described.static_summary() == f"Chi bộ GR: năm công tác {year}"
    details = await described.static_details()
    assert details is not None and details.startswith(f"Chu kỳ năm {year} của Chi bộ GR")
