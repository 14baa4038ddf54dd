"""The worker: CommitteeCycle and OpenYear workflows plus the backend activities on one queue."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker

from activities import BackendActivities
from api.temporal import connect_temporal
from workflows import WORKFLOWS
from workflows.sandbox import workflow_runner
from yearwheel.settings import WorkerSettings


async def connect(settings: WorkerSettings) -> Client:
    """The worker's Temporal client, serving Prometheus metrics when a port is set."""
    runtime = None
    if settings.metrics_port is not None:
        runtime = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=f"0.0.0.0:{settings.metrics_port}")
            )
        )
    return await connect_temporal(settings, runtime=runtime)


def build_worker(
    client: Client, *, settings: WorkerSettings, backend: BackendActivities
) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(pass_through_own=settings.sandbox_pass_through_own),
        activities=backend.all(),
        max_cached_workflows=settings.max_cached_workflows,
        max_concurrent_activities=settings.max_concurrent_activities,
        graceful_shutdown_timeout=timedelta(seconds=30),
    )


async def run_worker(settings: WorkerSettings) -> None:
    """Run until SIGINT or SIGTERM; running activities get time to finish before exit."""
    client = await connect(settings)
    backend = BackendActivities(
        api_url=settings.api_url, service_token=settings.service_token,
        refusal_retry_cap=timedelta(seconds=settings.refusal_retry_cap),
    )
    worker = build_worker(client, settings=settings, backend=backend)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with worker:
            await stop.wait()
    finally:
        await backend.aclose()
