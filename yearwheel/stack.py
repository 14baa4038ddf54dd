"""The embedded stack: Temporal dev server, API and worker as child processes on one machine."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from yearwheel.binaries import temporal_cli
from yearwheel.processes import (
    ProcessGroup,
    free_port,
    temporal_dev_server_argv,
    wait_for_http,
    wait_for_port,
    yearwheel_argv,
)


@dataclass
class Stack:
    """Addresses and secrets of a running embedded stack."""

    state_dir: Path
    temporal_port: int
    api_port: int
    ui_port: int | None
    database_url: str
    task_queue: str = "yearwheel"
    service_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    cycle_template: str | None = None  # None: the API's default (the in-force 1751 calendar)

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def mail_dir(self) -> Path:
        """Where email goes as .eml files when no SMTP host is set."""
        return Path(os.environ.get("YEARWHEEL_MAIL_DIR") or self.state_dir / "mail")

    @property
    def ui_url(self) -> str | None:
        return f"http://127.0.0.1:{self.ui_port}" if self.ui_port else None

    def env(self) -> dict[str, str]:
        """The environment the api and worker processes are configured by."""
        return {
            "YEARWHEEL_DATABASE_URL": self.database_url,
            "YEARWHEEL_TEMPORAL_ADDRESS": self.temporal_address,
            "YEARWHEEL_TEMPORAL_NAMESPACE": "default",
            "YEARWHEEL_TASK_QUEUE": self.task_queue,
            "YEARWHEEL_SERVICE_TOKEN": self.service_token,
            "YEARWHEEL_API_URL": self.api_url,
            "YEARWHEEL_NOTIFY_DISPATCH": "1",
            "YEARWHEEL_SEARCH_ATTRIBUTES": "1",  # the dev server registers them
            "YEARWHEEL_MAIL_DIR": str(self.mail_dir),
            "YEARWHEEL_PUBLIC_URL": self.api_url,
        } | ({"YEARWHEEL_CYCLE_TEMPLATE": self.cycle_template} if self.cycle_template else {})


def plan_stack(
    state_dir: Path,
    *,
    temporal_port: int | None = 7233,
    api_port: int | None = 8000,
    ui_port: int | None = 8233,
    ui: bool = True,
    database_url: str | None = None,
    task_queue: str = "yearwheel",
) -> Stack:
    """Choose ports (the preferred ones when free) and files under `state_dir`."""
    state_dir = state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    return Stack(
        state_dir=state_dir,
        temporal_port=free_port(temporal_port),
        api_port=free_port(api_port),
        ui_port=free_port(ui_port) if ui else None,
        database_url=database_url or f"sqlite+aiosqlite:///{state_dir / 'yearwheel.db'}",
        task_queue=task_queue,
    )


def start_temporal(group: ProcessGroup, stack: Stack) -> None:
    proc = group.start(
        "temporal",
        temporal_dev_server_argv(
            cli=temporal_cli(),
            port=stack.temporal_port,
            db_file=stack.state_dir / "temporal.db",
            ui_port=stack.ui_port,
        ),
    )
    wait_for_port(stack.temporal_port, timeout=60, proc=proc)


def start_api(
    group: ProcessGroup, stack: Stack, *, name: str = "api", port: int | None = None
) -> None:
    port = port or stack.api_port
    proc = group.start(name, yearwheel_argv("api", "--port", str(port)), env=stack.env())
    wait_for_http(f"http://127.0.0.1:{port}/health", timeout=60, proc=proc)


def start_worker(group: ProcessGroup, stack: Stack, *, name: str = "worker") -> None:
    group.start(name, yearwheel_argv("worker"), env=stack.env())


def migrate(stack: Stack) -> None:
    from api.migrate import upgrade

    upgrade(stack.database_url)


def start_stack(group: ProcessGroup, stack: Stack) -> None:
    """Temporal, then the migrated database, the API and one worker."""
    start_temporal(group, stack)
    migrate(stack)
    start_api(group, stack)
    start_worker(group, stack)
