"""Metrics in Prometheus text format: count and latency per route template and status, and
what operators must act on, read from the database at each scrape: stuck cycles and
notification deliveries by channel and status.

Each app has its own registry, so several apps in one process (tests) never share counters.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.models import Channel, DeliveryStatus, NotificationDelivery, StuckCycle

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "yearwheel_http_requests", "HTTP requests answered.",
            ("method", "route", "status"), registry=self.registry,
        )
        self.latency = Histogram(
            "yearwheel_http_request_seconds", "Time to answer an HTTP request.",
            ("method", "route"), buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.stuck_cycles = Gauge(
            "yearwheel_stuck_cycles",
            "Cycles whose last recording the API refused (GET /cycles/stuck lists them).",
            registry=self.registry,
        )
        self.deliveries = Gauge(
            "yearwheel_notification_deliveries",
            "Notification deliveries by channel and status (failed ones wait for an admin).",
            ("channel", "status"), registry=self.registry,
        )

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


def _route_template(scope: Scope) -> str:
    """The matched route's path template (`/tasks/{task_id}`), never the raw path.

    The router leaves the route it matched in the scope (routes of included routers too,
    which the app's own route list does not show); nothing matched is "unmatched".
    """
    path = getattr(scope.get("route"), "path", None)
    return str(path) if path else "unmatched"


class MetricsMiddleware:
    """Counts every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp, *, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            self.metrics.observe(
                method=scope["method"], route=_route_template(scope),
                status=status, seconds=time.perf_counter() - started,
            )


def install_metrics(app: FastAPI) -> RequestMetrics:
    """Add the middleware and `GET /metrics` to an app; returns its metrics."""
    metrics = RequestMetrics()
    router = APIRouter(tags=["operations"])

    @router.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        """Request counts and latencies, stuck cycles and deliveries, in Prometheus format."""
        await _read_state(request, metrics)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.state.metrics = metrics
    return metrics


async def _read_state(request: Request, metrics: RequestMetrics) -> None:
    """Set the gauges from the database; a database that does not answer leaves them as they
    were (GET /health says the database is down)."""
    sessions = getattr(request.app.state, "sessions", None)
    if sessions is None:
        return
    try:
        async with sessions() as session:
            stuck = await session.scalar(select(func.count()).select_from(StuckCycle))
            rows = (await session.execute(
                select(NotificationDelivery.channel, NotificationDelivery.status, func.count())
                .group_by(NotificationDelivery.channel, NotificationDelivery.status)
            )).tuples().all()
    except Exception:
        return
    metrics.stuck_cycles.set(int(stuck or 0))
    counted = {(channel, status): n for channel, status, n in rows}
    for channel in Channel:
        for status in DeliveryStatus:
            metrics.deliveries.labels(channel.value, status.value).set(
                counted.get((channel.value, status.value), 0)
            )
