"""The demo's registers: reporters give sessions through the year, recorded in the register of
reporter activities, and report tasks are submitted from their drafts, so reports carry the
figures the register holds.

A register records work done, so an activity's day is never after the real today: a demo year
played faster than the calendar dates what runs ahead on the real today.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import httpx

PLACES = (
    "Chi bộ Văn phòng", "Chi bộ Vụ Tổng hợp", "Chi bộ Phòng Hành chính",
    "Hội trường cơ quan", "Chi bộ Ban Biên tập", "Đoàn Thanh niên cơ quan",
)
TOPICS = (
    "Chỉ thị 30-CT/TW về công tác tuyên truyền miệng",
    "Nghị quyết Hội nghị Trung ương",
    "Tình hình thời sự trong nước và quốc tế",
    "Chủ quyền biển, đảo Việt Nam",
    "Chuyển đổi số trong cơ quan Đảng",
    "Phòng, chống tham nhũng, tiêu cực",
    "Đấu tranh phản bác quan điểm sai trái trên không gian mạng",
)
CONCERNS = (
    "",
    "Đảng viên mong được cung cấp tài liệu sớm hơn trước buổi sinh hoạt",
    "Đề nghị tăng thời lượng trao đổi, đối thoại",
    "Quan tâm đến chế độ, chính sách đối với cán bộ khi sắp xếp tổ chức bộ máy",
    "Mong muốn được tuyên truyền thêm về chuyển đổi số",
)
FORMS = ("in_person", "in_person", "in_person", "online", "both")
SESSION_CHANCE = 0.06  # per committee per calendar day: a session every few weeks


def activity_for(reporters: list[int], on: date, rng: random.Random) -> dict[str, Any]:
    """A plausible session given on `on` by one or two of `reporters`."""
    speakers = rng.sample(reporters, k=min(len(reporters), rng.choice((1, 1, 2))))
    form = rng.choice(FORMS)
    return {
        "held_on": on.isoformat(), "reporters": speakers, "place": rng.choice(PLACES),
        "topic": rng.choice(TOPICS), "form": form,
        "audience": rng.randint(20, 80) if form == "in_person" else rng.randint(40, 300),
        "concerns": rng.choice(CONCERNS),
        "materials": ["Đề cương tuyên truyền"] if rng.random() < 0.5 else [],
    }


class RegisterKeeper:
    """Each committee's office, recording its reporters' sessions day by day."""

    def __init__(self, client: httpx.AsyncClient, staff: dict[str, str], *, seed: int) -> None:
        self.client = client
        self.staff = staff  # committee code -> its staff's token
        self.seed = seed
        self.kept_until: dict[str, date] = {}
        self.errors: list[str] = []

    def _headers(self, code: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.staff[code]}"}

    async def _reporters(self, code: str, on: date) -> list[int]:
        response = await self.client.get(f"/committees/{code}/reporters",
                                         headers=self._headers(code))
        if response.status_code != 200:
            return []
        return [r["id"] for r in response.json()["items"]
                if date.fromisoformat(r["term_start"]) <= on]

    async def keep(self, today: date, *, real_today: date) -> int:
        """Record the sessions of every day since the last call, up to `today`; how many."""
        recorded = 0
        for code in self.staff:
            since = self.kept_until.get(code)
            self.kept_until[code] = today
            if since is None or since >= today:
                continue
            rng = random.Random(f"{self.seed}/{code}/{since.isoformat()}/{today.isoformat()}")
            days = (today - since).days
            sessions = sum(rng.random() < SESSION_CHANCE for _ in range(days))
            if not sessions:
                continue
            on = min(today, real_today)
            reporters = await self._reporters(code, on)
            if not reporters:
                continue
            for _ in range(sessions):
                response = await self.client.post(
                    f"/committees/{code}/registers/activities",
                    json=activity_for(reporters, on, rng), headers=self._headers(code),
                )
                if response.status_code == 201:
                    recorded += 1
                else:
                    self.errors.append(f"{code} activity: {response.status_code} "
                                       f"{response.text[:200]}")
        return recorded


async def report_from_draft(
    client: httpx.AsyncClient, task_id: int, headers: dict[str, str]
) -> dict[str, Any] | None:
    """A report task's evidence as its draft offers it, with a word on difficulties."""
    response = await client.get(f"/tasks/{task_id}/draft", headers=headers)
    if response.status_code != 200:
        return None
    evidence: dict[str, Any] = response.json()["evidence"]
    evidence["difficulties"] = "Một số báo cáo viên kiêm nhiệm nhiều việc, ít thời gian"
    evidence["proposals"] = "Đề nghị Ban Tuyên giáo cung cấp tài liệu định hướng sớm hơn"
    return evidence
