"""schemathesis against the API's own OpenAPI, on real processes (dev server, API, worker), with
a valid token for each role: no 5xx, every error problem+json, every answer as documented.

Every check schemathesis has runs, but one: positive_data_acceptance ("a request the schema
allows must succeed") cannot hold for business rules a schema does not express (a root
committee has no parent, a task opens on its day); those are 4xx problems by design.

The stack holds a committee tree and a running rehearsal cycle, so ids the fuzzer tries hit
real tasks and cycles now and then. The number of examples per operation is bounded
(FUZZ_EXAMPLES; schemathesis adds its own boundary cases), and the examples take turns with
the six roles' tokens, so each operation is tried by every role.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from tests.api.conftest import fresh_database, make_settings
from tests.conftest import database_params
from tests.reliability.rehearsal import rehearsal
from tests.reliability.rig import running_stack
from yearwheel.users import create_user_with_token

pytestmark = pytest.mark.reliability

FUZZ_EXAMPLES = int(os.environ.get("YEARWHEEL_FUZZ_EXAMPLES", "6"))
PROBLEM = "application/problem+json"
ROLES = ("staff", "supervisor", "board", "auditor", "admin", "service")
_turns = itertools.count()


@dataclass
class Target:
    url: str
    tokens: dict[str, str]


@pytest.fixture(scope="module", params=database_params())
async def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Target]:
    """The real stack, with a cycle under way and a token for every role."""
    tmp = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    async with contextlib.AsyncExitStack() as stack:
        database = None
        if request.param == "postgres":
            database = await stack.enter_async_context(fresh_database("postgres", tmp))
        rig = await stack.enter_async_context(running_stack(tmp, database_url=database))
        db, api = rig.stack.database_url, rig.stack.api_url
        run = await stack.enter_async_context(rehearsal(api, db))
        people = run.staff.people
        auditor = await create_user_with_token(db, name="auditor", role="auditor")
        tokens = {
            "staff": people.staff, "supervisor": people.supervisor, "board": people.board,
            "auditor": auditor, "admin": people.admin, "service": rig.stack.service_token,
        }
        yield Target(url=api, tokens=tokens)


# The document the running API serves is the one create_app builds; built here, at collection,
# so each operation becomes its own test.
schema = schemathesis.openapi.from_dict(
    create_app(make_settings("sqlite+aiosqlite:///unused.db")).openapi()
)


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
def test_hostile_requests_get_no_5xx_and_every_error_is_a_problem(
    case: Case, target: Target
) -> None:
    role = ROLES[next(_turns) % len(ROLES)]  # each example as the next role in turn
    response = case.call_and_validate(
        base_url=target.url, headers={"Authorization": f"Bearer {target.tokens[role]}"},
        timeout=60, excluded_checks=[positive_data_acceptance],
    )
    _assert_problem(response, role)


def _assert_problem(response: Response, role: str) -> None:
    assert response.status_code < 500, f"{role}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type == PROBLEM, f"{role}: {response.status_code} {content_type}"

