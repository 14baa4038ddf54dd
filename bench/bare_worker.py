"""`python -m bench.bare_worker`: a worker process for the bare baseline workflows.

Configured like the product's worker (YEARWHEEL_TEMPORAL_ADDRESS, cache size, activity slots),
so both sides of each ratio run as separate processes against the same dev server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from bench.bare import BARE_ACTIVITIES, BARE_TASK_QUEUE, BARE_WORKFLOWS
from workflows.sandbox import workflow_runner


async def main() -> None:
    client = await Client.connect(
        os.environ.get("YEARWHEEL_TEMPORAL_ADDRESS", "127.0.0.1:7233"),
        namespace=os.environ.get("YEARWHEEL_TEMPORAL_NAMESPACE", "default"),
        data_converter=pydantic_data_converter,
    )
    worker = Worker(
        client,
        task_queue=os.environ.get("BENCH_BARE_TASK_QUEUE", BARE_TASK_QUEUE),
        workflows=BARE_WORKFLOWS,
        activities=BARE_ACTIVITIES,
        workflow_runner=workflow_runner("bench"),
        max_cached_workflows=int(os.environ.get("YEARWHEEL_MAX_CACHED_WORKFLOWS", "1000")),
        max_concurrent_activities=int(os.environ.get("YEARWHEEL_MAX_CONCURRENT_ACTIVITIES", "100")),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)  # the SDK's native runtime can abort at interpreter exit (TEMPORAL.md)
