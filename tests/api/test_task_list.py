"""GET /tasks page by page: every page's total is how many match in all, whatever the page."""

from __future__ import annotations

from typing import Any

import httpx

from domain.calendar import obligations
from domain.template import DEFAULT_TEMPLATE, Rung
from tests.api.factories import YEAR, Factory, bearer, ladder, opened, record

COMMITTEES = ("GR", "GR2", "GR3")


async def _open_every_obligation(api: httpx.AsyncClient, factory: Factory) -> int:
    """Every obligation of the year open in GR, GR2 and GR3 (ties on due dates included)."""
    await factory.tree()
    keys = [o.key for o in obligations(DEFAULT_TEMPLATE, YEAR)]
    for committee in COMMITTEES:
        for key in keys:
            response = await record(api, "tasks/opened", opened(committee, key))
            assert response.status_code in (200, 201), response.text
    await record(api, "ladder", ladder("GR2", rung=Rung.OVERDUE))
    return len(COMMITTEES) * len(keys)


async def _everything(
    api: httpx.AsyncClient, headers: dict[str, str], filters: dict[str, Any]
) -> list[dict[str, Any]]:
    page = await api.get("/tasks", params={**filters, "limit": 500}, headers=headers)
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == len(body["items"])
    items: list[dict[str, Any]] = body["items"]
    return items


async def test_every_page_carries_the_whole_total(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    opened_count = await _open_every_obligation(api, factory)
    readers = {
        "board": (bearer(await factory.token("board")), opened_count),
        "supervisor": (bearer(await factory.token("supervisor", "UP")), 20),
        "staff": (bearer(await factory.token("staff", "GR3")), 10),
    }
    filter_sets: list[dict[str, Any]] = [
        {}, {"state": "open"}, {"state": "overdue"}, {"committee": "GR"},
        {"due_before": f"{YEAR}-07-01"}, {"committee": "GR2", "state": "open",
                                          "due_before": f"{YEAR}-12-01"},
    ]
    for reader, (headers, visible) in readers.items():
        assert len(await _everything(api, headers, {})) == visible, reader
        for filters in filter_sets:
            everything = await _everything(api, headers, filters)
            matching = len(everything)
            for limit in (1, 3, 4, 7, 10, 100):
                seen: list[dict[str, Any]] = []
                for offset in range(0, matching + 2 * limit, limit):
                    response = await api.get(
                        "/tasks", params={**filters, "limit": limit, "offset": offset},
                        headers=headers,
                    )
                    assert response.status_code == 200, response.text
                    page = response.json()
                    case = (reader, filters, limit, offset)
                    assert (page["total"], page["limit"], page["offset"]) == (
                        matching, limit, offset
                    ), case
                    assert len(page["items"]) == max(0, min(limit, matching - offset)), case
                    seen += page["items"]
                assert seen == everything, (reader, filters, limit)


async def test_nothing_in_reach_is_an_empty_page_on_every_offset(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await _open_every_obligation(api, factory)
    await factory.committee("EMPTY", parent="UP2")
    headers = bearer(await factory.token("staff", "EMPTY"))
    supervisor = bearer(await factory.token("supervisor", "UP"))
    for params, who in (
        ({}, headers), ({"committee": "GR"}, headers), ({"committee": "GR3"}, supervisor),
        ({"state": "waived"}, supervisor),
    ):
        for offset in (0, 1, 50):
            response = await api.get("/tasks", params={**params, "offset": offset}, headers=who)
            assert response.status_code == 200, response.text
            assert response.json() == {"items": [], "total": 0, "limit": 50, "offset": offset}
