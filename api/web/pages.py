"""Rendering: the Jinja2 environment, Vietnamese labels, and dates as dd/mm/yyyy in
Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from domain.calendar import HCM

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")

STATE_LABELS = {
    "pending": "Chưa mở", "open": "Đang mở", "overdue": "Quá hạn",
    "escalated": "Đã báo lên cấp trên", "completed": "Đã hoàn thành", "waived": "Được miễn",
}
RUNG_LABELS = {
    "reminder": "Đã nhắc việc", "overdue": "Đã báo quá hạn",
    "parent": "Đã báo cấp ủy cấp trên", "board": "Đã báo Ban Tuyên giáo Đảng ủy Khối",
}
KIND_LABELS = {
    "plan": "Kế hoạch", "dissemination": "Phổ biến", "roster": "Danh sách báo cáo viên",
    "conference": "Hội nghị", "review": "Sơ kết, tổng kết", "report": "Báo cáo",
}
STATUS_TITLES = {
    400: "Yêu cầu không hợp lệ", 403: "Không được phép", 404: "Không tìm thấy",
    409: "Không thể thay đổi", 412: "Công việc đã thay đổi", 422: "Dữ liệu chưa hợp lệ",
    428: "Thiếu phiên bản", 429: "Thử lại sau", 502: "Quy trình không thực hiện được",
    503: "Hệ thống tạm thời không sẵn sàng", 504: "Quy trình chưa trả lời",
}
STATUS_HINTS = {
    403: "Tài khoản của bạn không có quyền thực hiện thao tác này, hoặc biểu mẫu đã hết hạn.",
    404: "Trang hoặc công việc này không có, hoặc không thuộc phạm vi của bạn.",
    409: "Công việc đã đóng hoặc chu kỳ đã kết thúc.",
    412: "Công việc đã thay đổi từ khi bạn mở trang. Hãy tải lại trang và kiểm tra trước khi gửi.",
    504: "Thao tác có thể vẫn được thực hiện. Hãy tải lại trang sau ít phút.",
}


def vn_date(value: date | None) -> str:
    """A day as dd/mm/yyyy."""
    return value.strftime("%d/%m/%Y") if value is not None else ""


def vn_datetime(value: datetime | None) -> str:
    """An instant as dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh."""
    return value.astimezone(HCM).strftime("%d/%m/%Y %H:%M") if value is not None else ""


def today() -> date:
    """Today's date in Asia/Ho_Chi_Minh."""
    return datetime.now(HCM).date()


TEMPLATES.env.filters["vn_date"] = vn_date
TEMPLATES.env.filters["vn_datetime"] = vn_datetime
TEMPLATES.env.globals.update(
    STATE_LABELS=STATE_LABELS, RUNG_LABELS=RUNG_LABELS, KIND_LABELS=KIND_LABELS,
)


def render(
    request: Request, template: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page; `context` goes to the template beside the request."""
    response = TEMPLATES.TemplateResponse(request, template, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response
