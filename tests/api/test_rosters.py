"""Reporters as records and the roster rules at the API, without a reachable workflow."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.models import AuditEvent, PendingSignal, Reporter, Submission
from domain.contracts import SIGNAL_ROSTER_CHANGED, cycle_workflow_id
from tests.api.factories import Factory, bearer, opened, record
from tests.api.records import at, complete, open_task, person, roster

NEW = {"name": "Nguyễn Văn A", "position": "Phó Bí thư", "committee_member": True,
       "decision_number": "15-QĐ/ĐU", "decision_date": "2025-02-01"}


async def add(api: httpx.AsyncClient, code: str, headers: dict[str, str],
              **fields: Any) -> httpx.Response:
    return await api.post(f"/committees/{code}/reporters", json={**NEW, **fields},
                          headers=headers)


async def test_reporters_are_added_listed_and_marked_as_left(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR"))
    first = await add(api, "GR", staff)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["reporter"]["status"], body["reporter"]["term_start"]) == ("active", "2025-02-01")
    assert body["roster"]["holds"] and body["signalled"] == []
    second = (await add(api, "GR", staff, name="Trần Thị B", committee_member=False)).json()

    listed = (await api.get("/committees/GR/reporters", headers=staff)).json()
    assert [r["name"] for r in listed["items"]] == ["Nguyễn Văn A", "Trần Thị B"]
    assert (listed["roster"]["active"], listed["roster"]["committee_members"]) == (2, 1)

    leave = {"left_on": "2025-05-01", "reason": "Chuyển công tác"}
    gone = await api.post(f"/reporters/{second['reporter']['id']}/leave", json=leave,
                          headers=staff)
    assert gone.status_code == 200, gone.text
    assert (gone.json()["reporter"]["status"], gone.json()["roster"]["holds"]) == ("left", True)
    again = await api.post(f"/reporters/{second['reporter']['id']}/leave", json=leave,
                           headers=staff)
    assert again.status_code == 409
    left = (await api.get("/committees/GR/reporters", params={"status": "left"},
                          headers=staff)).json()
    assert [r["left_reason"] for r in left["items"]] == ["Chuyển công tác"]
    async with factory.sessions() as session:
        actions = (await session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("reporter.%"))
        )).all()
    assert actions == ["reporter.added", "reporter.added", "reporter.left"]


async def test_who_may_see_and_change_a_roster(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    headers = {who: bearer(await factory.token(role, committee)) for who, role, committee in (
        ("staff", "staff", "GR"), ("other", "staff", "GR2"), ("supervisor", "supervisor", "UP"),
        ("board", "board", "BLOC"), ("auditor", "auditor", None), ("admin", "admin", None))}
    statuses = {who: (await add(api, "GR", h)).status_code for who, h in headers.items()}
    assert statuses == {"staff": 201, "other": 404, "supervisor": 403, "board": 403,
                        "auditor": 403, "admin": 201}
    reads = {who: (await api.get("/committees/GR/reporters", headers=h)).status_code
             for who, h in headers.items()}
    assert reads == {"staff": 200, "other": 404, "supervisor": 200, "board": 200,
                     "auditor": 200, "admin": 200}


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"name": ""}, ["name"]),
        ({"level": "ward"}, ["level"]),
        ({"committee_member": "yes"}, ["committee_member"]),
        ({"decision_date": "soon"}, ["decision_date"]),
        ({"term_end": "2024-01-01"}, ["body"]),
        ({"replaces": 999}, ["replaces"]),
        ({"colour": "red"}, ["colour"]),
    ],
    ids=["name", "level", "flag", "date", "term", "replaces", "extra"],
)
async def test_an_invalid_reporter_is_422_with_fields_and_writes_nothing(
    api: httpx.AsyncClient, factory: Factory, fields: dict[str, Any], errors: list[str]
) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR"))
    before = await factory.counts()
    response = await add(api, "GR", staff, **fields)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == errors
    assert await factory.counts() == before


async def _roster_task(api: httpx.AsyncClient, factory: Factory, committee: str) -> int:
    await factory.tree()
    return await open_task(api, committee, "roster")


async def test_a_grassroots_roster_without_a_committee_member_is_refused_before_any_update(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    task = await _roster_task(api, factory, "GR")
    staff = {**bearer(await factory.token("staff", "GR")), "If-Match": '"1"'}
    evidence = roster(person("Trần Thị B"), person("Lê Văn C"))
    before = await factory.counts()
    response = await api.post(f"/tasks/{task}/complete", json={"evidence": evidence},
                              headers=staff)
    assert response.status_code == 422, response.text  # not 503: Temporal was never asked
    problem = response.json()
    assert problem["rule"] == "grassroots-committee-member-reporter"
    assert "committee member" in problem["detail"] and "(1 short)" in problem["detail"]
    assert [(v["required"], v["actual"], v["shortfall"]) for v in problem["violations"]] == [
        (1, 0, 1)
    ]
    assert [e["field"] for e in problem["errors"]] == ["evidence.reporters"]
    assert await factory.counts() == {**before, "audit_events": before["audit_events"] + 1}
    [refusal] = await factory.refusals()
    assert refusal.payload["rejection"] == "RosterRuleBroken"


async def test_an_upper_roster_counts_the_team_it_joins(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    task = await _roster_task(api, factory, "UP")
    staff = bearer(await factory.token("staff", "UP"))
    for name in ("Nguyễn Văn A", "Trần Thị B"):
        assert (await add(api, "UP", staff, name=name)).status_code == 201
    conditional = {**staff, "If-Match": '"1"'}

    async def submit(*people: dict[str, Any]) -> httpx.Response:
        return await api.post(f"/tasks/{task}/complete",
                              json={"evidence": roster(*people)}, headers=conditional)

    same_people = await submit(person("nguyễn  văn a", member=True))
    assert same_people.status_code == 422
    assert same_people.json()["rule"] == "upper-team-size"
    assert "at least 3" in same_people.json()["detail"] and "(1 short)" in same_people.json()[
        "detail"]
    joined = await submit(person("Lê Văn C"))
    assert joined.status_code == 503, joined.text  # the rules hold; only Temporal is missing


async def test_a_leave_the_cycle_cannot_hear_of_yet_is_saved_and_its_signal_kept(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    """Commit, then signal: Temporal being away does not undo the change; the cycle is owed
    the signal until it takes it (test_live_roster_signals delivers one)."""
    await _roster_task(api, factory, "UP")  # UP's cycle is running
    staff = bearer(await factory.token("staff", "UP"))
    ids = [(await add(api, "UP", staff, name=name)).json()["reporter"]["id"]
           for name in ("A", "B", "C")]
    response = await api.post(f"/reporters/{ids[0]}/leave",
                              json={"left_on": "2025-05-01", "reason": "Nghỉ hưu"}, headers=staff)
    assert response.status_code == 200, response.text  # the rule breaks: the cycle must be told
    assert response.json()["signalled"] == [cycle_workflow_id("UP", 2025)]
    async with factory.sessions() as session:
        assert (await session.get(Reporter, ids[0])).status == "left"  # type: ignore[union-attr]
        [owed] = (await session.scalars(select(PendingSignal))).all()
    assert (owed.workflow_id, owed.name, owed.attempts) == (
        cycle_workflow_id("UP", 2025), SIGNAL_ROSTER_CHANGED, 1)
    assert owed.payload["change"] == "left" and owed.payload["team"]["total"] == 2
    assert owed.last_error is not None and "unreachable" in owed.last_error


async def test_an_accepted_roster_is_stored_as_reporter_records(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await _roster_task(api, factory, "GR")
    first = roster(person("Nguyễn Văn A", member=True), person("Trần Thị B"))
    await complete(api, "GR", "roster", first, when=at(2, 3))
    staff = bearer(await factory.token("staff", "GR"))
    listed = (await api.get("/committees/GR/reporters", headers=staff)).json()
    a, b = (r["id"] for r in listed["items"])
    assert listed["roster"]["holds"] and listed["roster"]["active"] == 2
    gone = await api.post(f"/reporters/{b}/leave",
                          json={"left_on": "2025-04-01", "reason": "Nghỉ hưu"}, headers=staff)
    assert gone.json()["signalled"] == []  # the rule still holds: the cycle need not hear

    consolidate = opened("GR", "roster").model_copy(
        update={"key": "consolidate-1", "item_key": "consolidate"}
    )
    assert (await record(api, "tasks/opened", consolidate)).status_code == 201
    second = roster(person("  nguyễn văn A ", member=True), person("Lê Văn C", replaces=b),
                    decided="2025-04-10", number="20-QĐ/ĐU")
    await complete(api, "GR", "consolidate-1", second, when=at(4, 12))
    async with factory.sessions() as session:
        stored = (await session.scalars(select(Reporter).order_by(Reporter.id))).all()
        refs = {s.submission_ref: s.id for s in (await session.scalars(select(Submission))).all()}
    assert [(r.id, r.name, r.status, r.decision_number, str(r.term_start), r.replaces_id,
             r.submission_id, r.created_by) for r in stored] == [
        (a, "Nguyễn Văn A", "active", "20-QĐ/ĐU", "2025-02-01", None, refs["GR-roster-2025"],
         "staff-GR"),
        (b, "Trần Thị B", "left", "15-QĐ/ĐU", "2025-02-01", None, refs["GR-roster-2025"],
         "staff-GR"),
        (b + 1, "Lê Văn C", "active", "20-QĐ/ĐU", "2025-04-10", b,
         refs["GR-consolidate-1-2025"], "staff-GR"),
    ]
