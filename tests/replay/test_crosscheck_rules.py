"""The cross-check's comparison of three records, fact by fact, on hand-made facts."""

from __future__ import annotations

from datetime import datetime, timedelta

from api.services.crosscheck import Fact, Facts, Source, compare
from domain.calendar import HCM

AT = datetime(2027, 2, 2, 10, tzinfo=HCM)


def facts(*found: Fact) -> Facts:
    return {(f.key, f.name): f for f in found}


def test_a_fact_one_record_lacks_is_missing_unless_it_is_still_in_flight() -> None:
    done = Fact("plan", "completed", AT, "staff")
    records: dict[Source, Facts] = {"history": facts(done), "audit": facts(done),
                                    "tasks": facts()}
    [found] = compare(records, [])
    assert (found.key, found.fact, found.problem) == ("plan", "completed", "missing")
    assert "not in tasks" in found.detail
    early: dict[Source, Facts] = {"history": facts(), "audit": facts(done),
                                  "tasks": facts(done)}
    assert compare(early, ["plan completed"]) == []


def test_times_are_compared_to_the_millisecond_and_actors_exactly() -> None:
    records: dict[Source, Facts] = {
        "history": facts(Fact("plan", "completed", AT, "staff")),
        "audit": facts(Fact("plan", "completed", AT + timedelta(microseconds=400), "staff")),
        "tasks": facts(Fact("plan", "completed", AT.astimezone(HCM), "staff")),
    }
    assert compare(records, []) == []
    records["tasks"] = facts(Fact("plan", "completed", AT + timedelta(seconds=1), "mallory"))
    assert [(d.problem, d.history, d.tasks) for d in compare(records, [])] == [
        ("time", AT.isoformat(), (AT + timedelta(seconds=1)).isoformat()),
        ("actor", "staff", "mallory"),
    ]
