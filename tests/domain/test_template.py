"""Template validation: keys, prerequisites and the shape of dates and ladders."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError

from domain.template import (
    DEFAULT_TEMPLATE,
    EvidenceKind,
    LadderStep,
    MonthDay,
    Rung,
    Stage,
    Template,
    TemplateItem,
)


def item(key: str, *prerequisites: str) -> TemplateItem:
    return TemplateItem(
        key=key, stage=Stage.PLAN, evidence=EvidenceKind.PLAN, title_vi=key, title_en=key,
        due=MonthDay(month=6, day=30), prerequisites=prerequisites,
    )


def test_the_default_template_is_valid_and_round_trips() -> None:
    assert len(DEFAULT_TEMPLATE.items) == 7
    assert Template.model_validate_json(DEFAULT_TEMPLATE.model_dump_json()) == DEFAULT_TEMPLATE
    assert DEFAULT_TEMPLATE.item("roster").prerequisites == ("plan",)
    with pytest.raises(KeyError):
        DEFAULT_TEMPLATE.item("nope")


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="repeated: a"):
        Template(items=(item("a"), item("b"), item("a")))


def test_unknown_prerequisites_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"'b' has unknown prerequisites: \['ghost'\]"):
        Template(items=(item("a"), item("b", "a", "ghost")))


@pytest.mark.parametrize(
    "items",
    [
        (item("a", "b"), item("b", "a")),
        (item("a", "c"), item("b", "a"), item("c", "b")),
        (item("a", "a"),),
    ],
    ids=["two", "three", "self"],
)
def test_prerequisite_cycles_are_refused(items: tuple[TemplateItem, ...]) -> None:
    with pytest.raises(ValidationError, match="prerequisites form a cycle"):
        Template(items=items)


@pytest.mark.parametrize(
    "build",
    [
        lambda: MonthDay(month=13, day=1),
        lambda: MonthDay(month=2, day=0),
        lambda: MonthDay(month=2, day=1, year_offset=2),
        lambda: item("Bad Key"),
        lambda: LadderStep(rung=Rung.BOARD, offset_days=400),
        lambda: Template(code="x", items=(), version=0),
    ],
    ids=["month", "day", "offset", "key", "ladder", "version"],
)
def test_out_of_range_fields_are_refused(build: Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        build()


def test_templates_are_frozen_and_ignore_fields_a_newer_release_added() -> None:
    with pytest.raises(ValidationError):
        DEFAULT_TEMPLATE.code = "other"
    assert MonthDay.model_validate({"month": 1, "day": 1, "hour": 9}) == MonthDay(month=1, day=1)
    body = DEFAULT_TEMPLATE.model_dump(mode="json")
    body["items"][0]["channel"] = "zalo"
    assert Template.model_validate(body) == DEFAULT_TEMPLATE
    # The API's edge holds a template sent to it to the known fields.
    with pytest.raises(ValidationError, match="Extra inputs"):
        Template.model_validate(body, extra="forbid")
