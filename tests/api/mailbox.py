"""A real SMTP server on loopback (aiosmtpd) that keeps what it accepts, and can refuse."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """Accepts every message, after refusing the first `refusals` with a 451."""

    def __init__(self, refusals: int = 0) -> None:
        self.refusals = refusals
        self.refused = 0
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refused < self.refusals:
            self.refused += 1
            return "451 4.3.0 Try again later"
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(parsed)
        return "250 OK"


@contextlib.contextmanager
def smtp_server(mailbox: Mailbox, *, port: int | None = None) -> Iterator[int]:
    port = port or free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
