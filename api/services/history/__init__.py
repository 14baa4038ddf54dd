"""A cycle's Temporal history read alone: who did what, when, in the order the workflow decided.

Pure functions over a `WorkflowHistory`, importing neither FastAPI nor the database nor the
workflow code, so the API and the command line read histories the same way, and what they
read is independent of the code that a replay runs. Inputs are decoded with the project's
pydantic data converter: the cycle's input from the start event, the people's commands from
WORKFLOW_EXECUTION_UPDATE_ACCEPTED events, the workflow's decisions from the inputs of its
activities (ACTIVITY_TASK_SCHEDULED), and its waits from its timers.

Every entry carries two times in Asia/Ho_Chi_Minh: `at`, the calendar instant the workflow
recorded (for a time-scaled rehearsal this is the rehearsed calendar), and `event_time`, when
the Temporal server wrote the event.
"""

from __future__ import annotations

from api.services.history.models import EntryKind, Outcome, Timeline, TimelineEntry
from api.services.history.payloads import (
    Calendar,
    cycle_input,
    decode,
    event_time,
    load,
    workflow_id_of,
)
from api.services.history.reader import timeline
from api.services.history.state import HistoricState, state_as_of

__all__ = [
    "Calendar", "EntryKind", "HistoricState", "Outcome", "Timeline", "TimelineEntry",
    "cycle_input", "decode", "event_time", "load", "state_as_of", "timeline", "workflow_id_of",
]
