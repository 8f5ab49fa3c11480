"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, collecting parsed messages."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port nobody listens on right now (aiosmtpd cannot pick one itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class Mailbox:
    """The aiosmtpd handler: keeps every message, parsed with the email package."""

    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    #: Recipient address → SMTP reply that refuses it, e.g. "550 5.1.1 no such user".
    refuse: dict[str, str] = field(default_factory=dict)
    _lock: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self.refuse.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw,
                                          message))  # type: ignore[arg-type]
            self._lock.notify_all()
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        """The parsed messages, in arrival order."""
        with self._lock:
            return [r.message for r in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to ``address``."""
        with self._lock:
            return [r.message for r in self.received if address in r.rcpt_tos]

    def wait_for(self, address: str | None = None, timeout: float = 30.0) -> bool:
        """Wait until a message (to ``address``) has arrived; False if none did in time."""
        with self._lock:
            return self._lock.wait_for(
                lambda: any(address is None or address in r.rcpt_tos for r in self.received),
                timeout)

    def clear(self) -> None:
        """Forget what arrived so far."""
        with self._lock:
            self.received.clear()


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """Run an SMTP server on a free port of 127.0.0.1 for the duration of the block."""
    mailbox = Mailbox(port=free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def text_of(message: EmailMessage) -> str:
    """The plain-text part of a message."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def html_of(message: EmailMessage) -> str:
    """The HTML part of a message."""
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]
