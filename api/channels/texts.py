"""Message texts per kind and language; Vietnamese first. Dates are dd/mm/yyyy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

SUBJECTS = {
    "vi": {
        "task_opened": "Nhiệm vụ mới: {title}",
        "reminder": "Nhắc việc: {title} đến hạn ngày {due}",
        "overdue": "Quá hạn: {title} (hạn ngày {due})",
        "parent": "Chuyển cấp ủy cấp trên: {committee} chưa hoàn thành {title}",
        "board": "Báo cáo Ban Tuyên giáo: {committee} chưa hoàn thành {title}",
        "task_extended": "Gia hạn: {title}, hạn mới ngày {due}",
        "task_waived": "Miễn thực hiện: {title}",
        "report_received": "Đã nhận báo cáo: {committee} gửi {title}",
        "cycle_finished": "Kết thúc năm công tác: {committee}",
    },
    "en": {
        "task_opened": "New task: {title}",
        "reminder": "Reminder: {title} is due on {due}",
        "overdue": "Overdue: {title} (due {due})",
        "parent": "Escalated to the parent committee: {committee} has not done {title}",
        "board": "Escalated to the Propaganda Board: {committee} has not done {title}",
        "task_extended": "Extended: {title}, now due {due}",
        "task_waived": "Waived: {title}",
        "report_received": "Report received: {committee} sent {title}",
        "cycle_finished": "Year closed: {committee}",
    },
}
RUNGS = {
    "vi": {"task_opened": "mở", "reminder": "nhắc việc", "overdue": "quá hạn",
           "parent": "cấp ủy cấp trên", "board": "Ban Tuyên giáo",
           "task_extended": "gia hạn", "task_waived": "miễn thực hiện",
           "report_received": "đã nhận báo cáo", "cycle_finished": "kết thúc năm"},
    "en": {"task_opened": "opened", "reminder": "reminder", "overdue": "overdue",
           "parent": "parent committee", "board": "Propaganda Board",
           "task_extended": "extended", "task_waived": "waived",
           "report_received": "report received", "cycle_finished": "year closed"},
}
LABELS = {
    "vi": {"committee": "Cấp ủy", "task": "Nhiệm vụ", "due": "Hạn", "rung": "Mức",
           "link": "Xem nhiệm vụ"},
    "en": {"committee": "Committee", "task": "Task", "due": "Due", "rung": "Rung",
           "link": "Open the task"},
}


def dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


@dataclass(frozen=True)
class Facts:
    kind: str
    committee: str
    title: str
    due: date | None
    link: str


def subject(language: str, facts: Facts) -> str:
    lang = language if language in SUBJECTS else "vi"
    template = SUBJECTS[lang].get(facts.kind, "{title}")
    return template.format(
        title=facts.title, committee=facts.committee, due=dmy(facts.due) if facts.due else ""
    )


def lines(language: str, facts: Facts) -> list[tuple[str, str]]:
    """(label, value) rows of the body, the same in the text and the HTML part."""
    lang = language if language in LABELS else "vi"
    label = LABELS[lang]
    rows = [(label["committee"], facts.committee), (label["task"], facts.title)]
    if facts.due is not None:
        rows.append((label["due"], dmy(facts.due)))
    rows.append((label["rung"], RUNGS[lang].get(facts.kind, facts.kind)))
    rows.append((label["link"], facts.link))
    return rows


DIGEST = {
    "vi": {"subject": "Tóm tắt ngày {day}: {count} thông báo",
           "intro": "Các thông báo gửi đến đồng chí trong 24 giờ đến {time} ngày {day}:"},
    "en": {"subject": "Digest for {day}: {count} notifications",
           "intro": "Your notifications in the 24 hours to {time} on {day}:"},
}


def digest_subject(language: str, day: date, count: int) -> str:
    lang = language if language in DIGEST else "vi"
    return DIGEST[lang]["subject"].format(day=dmy(day), count=count)


def digest_intro(language: str, day: date, hour: int) -> str:
    lang = language if language in DIGEST else "vi"
    return DIGEST[lang]["intro"].format(day=dmy(day), time=f"{hour:02d}:00")
