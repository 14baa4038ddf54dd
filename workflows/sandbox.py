"""The sandbox our workflows run in, on the worker and in every replay.

Temporal's sandbox re-imports a workflow's modules for every workflow instance it creates, so
that module state can never leak between runs. Ours hold no state (constants only) and do
nothing non-deterministic at import, so `workflows` and `domain` are imported once and passed
through: a new cycle (a start, or a cache eviction's replay) then costs about a third of the
CPU. The sandbox still refuses non-deterministic calls (clocks, randomness, I/O) at run time.
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

PASSED_THROUGH = ("workflows", "domain")


def workflow_runner(*modules: str) -> SandboxedWorkflowRunner:
    """The sandboxed runner, with our modules (and any `modules` named) passed through."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH, *modules)
    return SandboxedWorkflowRunner(restrictions=restrictions)
