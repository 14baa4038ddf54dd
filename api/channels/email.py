"""Email: one message per delivery, plain text plus HTML, with a Message-ID fixed by the
delivery key, so a resend after a crash is recognisably the same message.

With no SMTP host configured, the message is written as an .eml file under the mail folder.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import aiosmtplib

from api.channels.texts import Facts, lines, subject
from api.settings import Settings


def message_id(delivery_key: str, domain: str) -> str:
    digest = hashlib.sha256(delivery_key.encode()).hexdigest()[:32]
    return f"<yearwheel.{digest}@{domain}>"


def compose(
    *, settings: Settings, to: str, language: str, facts: Facts, msg_id: str, at: datetime
) -> EmailMessage:
    rows = lines(language, facts)
    message = EmailMessage()
    message["Subject"] = subject(language, facts)
    message["From"] = settings.mail_from
    message["To"] = to
    message["Message-ID"] = msg_id
    message["Date"] = format_datetime(at)
    message.set_content("\n".join(f"{label}: {value}" for label, value in rows) + "\n")
    cells = "".join(
        f"<tr><th align=\"left\">{html.escape(label)}</th><td>"
        + (f"<a href=\"{html.escape(value)}\">{html.escape(value)}</a>"
           if value == facts.link else html.escape(value))
        + "</td></tr>"
        for label, value in rows
    )
    message.add_alternative(
        f"<!doctype html><html lang=\"{language}\"><meta charset=\"utf-8\">"
        f"<body><table>{cells}</table></body></html>\n",
        subtype="html",
    )
    return message


def _write(folder: Path, name: str, data: bytes) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.eml"
    path.write_bytes(data)  # the same name again: the same message, once
    return str(path)


async def send(settings: Settings, message: EmailMessage) -> str:
    """Send over SMTP, or write an .eml file; answers where it went."""
    if not settings.smtp_host:
        name = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:24]
        return await asyncio.to_thread(_write, Path(settings.mail_dir), name, bytes(message))
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        use_tls=settings.smtp_security == "tls",
        start_tls=True if settings.smtp_security == "starttls" else False,
        timeout=settings.smtp_timeout_seconds,
    )
    return f"smtp://{settings.smtp_host}:{settings.smtp_port}"
