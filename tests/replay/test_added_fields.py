"""A cycle's input from a newer release, carrying fields this code does not know, replays.

The saved on-time history, its input given one added field at each level a release might add
one (the input, the template, an item, a ladder step, a due date), replays under the strict
sandbox and re-derives what it recorded.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from api.services.history import load
from api.services.replay import replay

SAVED = Path(__file__).parent / "histories" / "on-time.json"


def with_added_fields(text: str) -> str:
    history = json.loads(text)
    started = history["events"][0]["workflowExecutionStartedEventAttributes"]
    payload = started["input"]["payloads"][0]
    cycle: dict[str, Any] = json.loads(base64.b64decode(payload["data"]))
    cycle["priority"] = "high"
    template = cycle["template"]
    template["issued_by"] = "Ban Tuyên giáo Đảng ủy Khối"
    for item in template["items"]:
        item["channel"] = "zalo"
        item["due"]["hour"] = 17
        for step in item.get("ladder") or []:
            step["notify"] = ["email"]
    payload["data"] = base64.b64encode(json.dumps(cycle).encode()).decode()
    return json.dumps(history)


async def test_an_input_with_fields_this_code_does_not_know_replays() -> None:
    text = SAVED.read_text()
    added = with_added_fields(text)
    assert added != text
    report = await replay(load(added))
    assert report.replays, report.error
    assert report.agrees and report.differences == []
    assert report.recorded == (await replay(load(text))).recorded
