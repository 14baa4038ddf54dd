"""Helpers for the live tests: waiting for the workflow's recordings, starting a cycle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tests.api.conftest import Live
from tests.api.factories import Factory, bearer

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, within: float = 15.0, interval: float = 0.03
) -> T:
    """The probe's first truthy answer; fails after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"{probe.__name__} did not hold within {within} s"
        await asyncio.sleep(interval)


class Year:
    """One committee's cycle on the live stack, with its people's tokens."""

    def __init__(
        self, live: Live, factory: Factory, committee: str = "GR", *, year: int | None = None,
        parent: str | None = None,
    ) -> None:
        """`parent`: create `committee` under it (a code of its own keeps the workflow id
        unique on the shared dev server when `year` is not the test's own)."""
        self.live = live
        self.factory = factory
        self.committee = committee
        self.year = year or live.year
        self.parent = parent
        self.admin = self.staff = self.supervisor = self.board = {"": ""}
        self.cycle: dict[str, Any] = {}

    async def start(self, *, time_scale: float) -> Year:
        await self.factory.tree()
        if self.parent is not None:
            await self.factory.committee(self.committee, parent=self.parent)
        self.admin = bearer(await self.factory.token("admin"))
        self.staff = bearer(await self.factory.token("staff", self.committee))
        self.supervisor = bearer(await self.factory.token("supervisor", "UP"))
        self.board = bearer(await self.factory.token("board", "BLOC"))
        response = await self.live.client.post(
            "/cycles",
            json={"committee": self.committee, "year": self.year, "time_scale": time_scale},
            headers=self.admin,
        )
        assert response.status_code == 201, response.text
        self.cycle = response.json()
        return self

    async def task(self, key: str, *, state: str | tuple[str, ...] = ()) -> dict[str, Any]:
        """The task row once it exists (and is in `state` or one of them, if given)."""
        wanted = (state,) if isinstance(state, str) else state

        async def probe() -> dict[str, Any] | None:
            response = await self.live.client.get(
                "/tasks", params={"committee": self.committee, "limit": 100},
                headers=self.board,
            )
            for task in response.json()["items"]:
                if task["key"] == key and (not wanted or task["state"] in wanted):
                    return dict(task)
            return None

        probe.__name__ = f"task {key} {'/'.join(wanted)}".strip()
        return await eventually(probe)

    async def open_in_workflow(self, key: str) -> None:
        """Wait until the workflow itself holds the task open: its row is written a moment
        before the workflow hears back from the activity, and an action in between is 409."""

        async def probe() -> bool:
            response = await self.live.client.get(
                f"/cycles/{self.cycle['id']}", headers=self.board
            )
            body = response.json()
            return body["source"] == "workflow" and any(
                i["key"] == key and i["state"] in ("open", "overdue", "escalated")
                for i in body["items"]
            )

        probe.__name__ = f"{key} open in the workflow"
        await eventually(probe)

    async def post(self, task: dict[str, Any], action: str, body: dict[str, Any],
                   headers: dict[str, str]) -> Any:
        """Act on a task as `headers` say. Unless they carry If-Match, act as a person would:
        read the task's ETag first, and read it again if the ladder moved it meanwhile (412)."""
        url = f"/tasks/{task['id']}/{action}"
        if "If-Match" in headers:
            return await self.live.client.post(url, json=body, headers=headers)
        current = await self.live.client.get(f"/tasks/{task['id']}", headers=self.board)
        etag = current.headers.get("etag", '"0"')
        for _ in range(3):
            response = await self.live.client.post(
                url, json=body, headers={**headers, "If-Match": etag}
            )
            if response.status_code != 412:
                break
            etag = response.headers["etag"]
        return response
