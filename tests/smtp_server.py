"""A real SMTP server for the tests and bench/mail.py: aiosmtpd on 127.0.0.1 and a free port, in its own thread (the
Controller), keeping every message it accepts. It can answer the next deliveries with a temporary (451) or permanent
(550) refusal, to test retries. No fake client anywhere: the portal's worker talks SMTP to it."""

from __future__ import annotations

import email
import socket
import time
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class MailCatcher:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse_next: list[str] = []  # SMTP answers for the next DATA commands, e.g. '451 …' or '550 …'
        self.port = free_port()
        self._controller = Controller(self, hostname='127.0.0.1', port=self.port)
        self.running = False

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_next:
            return self.refuse_next.pop(0)
        assert isinstance(envelope.content, bytes)  # aiosmtpd decodes nothing unless told to (decode_data)
        message = email.message_from_bytes(envelope.content, policy=default)
        self.messages.append(message)
        return '250 Message accepted for delivery'

    def start(self) -> MailCatcher:
        self._controller.start()
        self.running = True
        return self

    def stop(self) -> None:
        """Idempotent: a test may have stopped it already to play an outage."""
        if self.running:
            self._controller.stop()
            self.running = False

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message['To'] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15.0) -> list[EmailMessage]:
        """The messages to `address` once there are `count` of them (bounded wait, for the browser journeys)."""
        deadline = time.monotonic() + timeout
        while len(found := self.to(address)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f'{count} mail(s) to {address} expected, got {len(found)}')
            time.sleep(0.1)
        return found


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=('plain',))
    assert part is not None
    return part.get_content()


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=('html',))
    assert part is not None
    return part.get_content()
