"""Sending e-mail over SMTP (settings SMTP_*). Without SMTP_HOST nothing is sent and nothing fails: the portal shows
the link to the person who created it, who passes it on.

smtplib blocks, so the send runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from enum import StrEnum

from services.settings import Settings, get_settings

log = logging.getLogger(__name__)


class MailResult(StrEnum):
    SENT = 'sent'
    NOT_CONFIGURED = 'not_configured'
    FAILED = 'failed'


def _connect(settings: Settings, context: ssl.SSLContext) -> smtplib.SMTP:
    """An encrypted connection unless SMTP_SECURITY is exactly 'none'; an unknown mode fails closed (the settings
    refuse one at start; this is the second lock, so no future caller can log in in plain text by accident)."""
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_seconds
    if settings.smtp_security == 'ssl':
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    if settings.smtp_security not in ('starttls', 'none'):
        raise smtplib.SMTPException(f'SMTP_SECURITY {settings.smtp_security!r} ist nicht erlaubt')
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if settings.smtp_security == 'starttls':
        try:
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
    return smtp


def _send(settings: Settings, message: EmailMessage) -> None:
    with _connect(settings, ssl.create_default_context()) as smtp:
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


async def send_mail(to: str, subject: str, body: str) -> MailResult:
    """Send a plain-text mail; never raises: a failure is logged (without the body, which may hold a link)."""
    settings = get_settings()
    if not settings.smtp_host:
        return MailResult.NOT_CONFIGURED
    message = EmailMessage()
    message['From'] = settings.smtp_from
    message['To'] = to
    message['Subject'] = subject
    message.set_content(body)
    try:
        await asyncio.to_thread(_send, settings, message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning('E-Mail an %s nicht versendet: %s', to, error)
        return MailResult.FAILED
    return MailResult.SENT
