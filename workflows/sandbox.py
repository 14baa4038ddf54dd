"""The sandbox our workflows run in: strict in every test and replay, a choice on the worker.

Temporal's sandbox re-imports a workflow's modules for every workflow instance it creates and
refuses, in the code it imports itself, anything that would make a replay differ: clocks
(`datetime.now`), randomness, I/O, environment variables. Code imported from outside the
sandbox ("passed through") is not watched at all: a `datetime.now()` in it runs silently.

Strict (the default): `workflows` and `domain` are imported inside the sandbox for each new
cycle, so the sandbox checks every line of them. Passing them through imports them once and
makes each new cycle (a start, or a replay after a cache eviction) cheaper, at the cost of
that check; only the production worker may choose it (`YEARWHEEL_SANDBOX_PASS_THROUGH_OWN`),
once the same code has passed the strict tests and replays.
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

OWN_MODULES = ("workflows", "domain")
# A ZoneInfo made inside the sandbox would be a restricted proxy that `astimezone` refuses,
# because the class is watched for its cache-clearing and file-reading methods; our code
# only names a zone (domain.calendar.HCM), so the class is left unwatched.
_MEMBERS = SandboxRestrictions.invalid_module_members_default.with_child_unrestricted(
    "zoneinfo", "ZoneInfo"
)


def workflow_runner(
    *modules: str, pass_through_own: bool = False
) -> SandboxedWorkflowRunner:
    """The sandboxed runner, passing through `modules` (third-party code only, e.g. a
    benchmark's helpers) and, with `pass_through_own`, our workflow and domain modules."""
    own = OWN_MODULES if pass_through_own else ()
    restrictions = SandboxRestrictions(
        passthrough_modules=SandboxRestrictions.passthrough_modules_default,
        invalid_modules=SandboxRestrictions.default.invalid_modules,
        invalid_module_members=_MEMBERS,
    ).with_passthrough_modules(*own, *modules)
    return SandboxedWorkflowRunner(restrictions=restrictions)
