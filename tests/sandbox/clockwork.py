"""A workflow that reads the machine's clock: exactly what the sandbox must refuse.

Used only by the sandbox tests; no worker of the product registers it.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow


@workflow.defn(name="ReadsTheWallClock")
class ReadsTheWallClock:
    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()  # not workflow.now(): a replay would differ
