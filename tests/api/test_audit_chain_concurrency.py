"""The audit chain under many writers at once: every audited request lands, in one chain.

Two API instances serve one database, each with its own engine and pool as two processes
would have, over real HTTP. At once: the worker's recordings (each sent twice with its
Idempotency-Key, as a retried activity would), refused writes (403s, audited in their own
transaction after the request rolled back) and admins' audited writes. Afterwards the chain
verifies, no seq is missing or doubled, and it holds exactly one event per audited request.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest
from sqlalchemy import func, select

from api.models import AuditEvent
from api.services.audit import verify_chain
from api.settings import Settings
from domain.template import Rung
from tests.api.conftest import served
from tests.api.factories import SERVICE, Factory, bearer, ladder, opened, record

COMMITTEES = ("GR", "GR2", "GR3")
KEYS = ("plan", "disseminate", "review", "report-h1")
REFUSALS = 120
USERS = 20


@asynccontextmanager
async def two_apis(settings: Settings) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two instances of the app on the test's database, and a client for each."""
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(2):
            url = await stack.enter_async_context(served(settings, None))  # type: ignore[arg-type]
            limits = httpx.Limits(max_connections=200)
            clients.append(await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=120, limits=limits)
            ))
        yield clients


async def _events(factory: Factory) -> Counter[str]:
    async with factory.sessions() as session:
        rows = await session.execute(
            select(AuditEvent.action, func.count()).group_by(AuditEvent.action)
        )
        return Counter({action: count for action, count in rows.all()})


@pytest.mark.timeout(240)
async def test_concurrent_writers_lose_no_audit_event(
    factory: Factory, settings: Settings
) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR"))
    auditor = bearer(await factory.token("auditor"))
    admin = bearer(await factory.token("admin"))
    async with two_apis(settings) as clients:
        pick = itertools.cycle(clients)
        opens = [opened(c, k) for c in COMMITTEES for k in KEYS]
        first = await asyncio.gather(*(record(next(pick), "tasks/opened", e) for e in opens))
        assert {r.status_code for r in first} == {201}, [r.text for r in first]
        before = await _events(factory)

        steps = [ladder(c, k, rung) for c in COMMITTEES for k in KEYS for rung in Rung]
        refused = [
            ("/committees", {"code": "X", "name": "X", "level": "root"}, staff),
            ("/committees", {"code": "Y", "name": "Y", "level": "root"}, SERVICE),
            ("/users", {"name": "kẻ lạ", "role": "admin"}, auditor),
        ]
        calls = [
            *(("recording", record(next(pick), "ladder", step, key=f"run/{n}"))
              for n, step in enumerate(steps) for _ in range(2)),  # each attempt twice
            *(("refused", next(pick).post(path, json=body, headers=headers))
              for path, body, headers in itertools.islice(itertools.cycle(refused), REFUSALS)),
            *(("user", next(pick).post("/users", json={"name": f"Cán bộ {n}", "role": "auditor"},
                                       headers=admin)) for n in range(USERS)),
        ]
        random.Random(7).shuffle(calls)
        responses = await asyncio.gather(*(call for _, call in calls))

    answers: dict[str, Counter[int]] = {}
    for (kind, _), response in zip(calls, responses, strict=True):
        answers.setdefault(kind, Counter())[response.status_code] += 1
        if response.status_code == 409:  # a repeat while its first attempt ran: retried later
            assert response.json()["type"] == "/problems/idempotency-key-in-flight"
    unexpected = [r.text for r in responses if r.status_code not in (201, 403, 409, 503)]
    assert unexpected == []
    assert answers["refused"] == {403: REFUSALS}
    assert answers["recording"][201] >= len(steps) and 503 not in answers["recording"]
    # A user's write outside a unit of work is not retried: under this burst it may wait out
    # SQLite's busy timeout (503, nothing written). Each one that answered 201 is audited.
    users_created = answers["user"][201]
    assert users_created + answers["user"][503] == USERS
    after = await _events(factory)
    assert after - before == Counter({
        "request.refused": REFUSALS, "user.created": users_created,
        **{f"task.{rung.value}": len(COMMITTEES) * len(KEYS) for rung in Rung},
    })
    async with factory.sessions() as session:
        check = await verify_chain(session=session)
        seqs = (await session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq))).all()
    assert check.ok, check
    assert check.events == sum(after.values())
    assert list(seqs) == list(range(1, len(seqs) + 1))
