"""Helpers shared by the page and the browser tests."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta

import pyotp
import pytest
from nicegui import background_tasks

from services.demo_data import DEMO_LOGINS

_last_step: dict[str, int] = {}


def fresh_totp_code(secret: str) -> str:
    """A code the portal has not seen yet: it accepts each time step once, the current one and the next (one step of
    clock drift). Two logins in one 30-s step take the next step; a third waits for the clock (bounded: < 30 s)."""
    totp = pyotp.TOTP(secret)
    while True:
        current = int(time.time() // totp.interval)
        step = max(current, _last_step.get(secret, -1) + 1)
        if step <= current + 1:
            _last_step[secret] = step
            return totp.generate_otp(step)
        time.sleep(0.5)


def forget_totp_codes() -> None:
    """A fresh database has seen no code: the page tests start each test with one."""
    _last_step.clear()


def totp_secret_of(email: str) -> str | None:
    """The demo login's enrolled second factor, if it has one (staff)."""
    return next((login.totp_secret for login in DEMO_LOGINS if login.email == email), None)


def link_token(text: str, path: str) -> str:
    """The token of the first one-time link to `path` in a mail's text."""
    match = re.search(re.escape(path) + r'([A-Za-z0-9_-]+)', text)
    assert match, f'no link to {path} in the mail'
    return match.group(1)


async def confirm_by_mail(email: str) -> None:
    """What the employee does after applying: open the confirmation link of the newest mail to `email` (read from the
    outbox, where it waits for the worker) — the Antrag then reaches the company."""
    from models import OutboxMail
    from services import employee_accounts

    mail = await OutboxMail.filter(kind='konto_bestaetigung', recipient=email).order_by('-id').first()
    assert mail is not None, f'no confirmation mail to {email}'
    await employee_accounts.confirm_email(link_token(mail.body_text, employee_accounts.LINK_PATH))


async def wait_until(condition: Callable[[], object], what: str = '', seconds: float = 5.0) -> None:
    """Events run as background tasks in the simulation: wait (bounded) for their outcome, not for a fixed time."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f'timed out waiting for {what or condition}')


def running() -> set[asyncio.Task]:
    """The background tasks running now: pass them to `settle` before an action."""
    return set(background_tasks.running_tasks)


async def settle(before: set[asyncio.Task], until: Callable[[], object] | None = None, seconds: float = 10.0) -> None:
    """Events run as background tasks in the simulation (and start further ones, e.g. a navigation): wait until every
    task started since `before` has ended, except the message loop of a newly opened page and the watcher of open
    sessions (pages/session_guard.py), which run for good; or, with `until`, until that condition holds (a handler
    that awaits a confirmation dialog only ends once the dialog is answered)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    await asyncio.sleep(0)
    while pending := {task for task in background_tasks.running_tasks - before
                      if not task.done() and not task.get_name().startswith(('outbox loop', 'session watcher'))}:
        if until is not None and until():
            return
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f'background tasks still running: {pending}')
        await asyncio.wait(pending, timeout=min(remaining, 0.05))
        await asyncio.sleep(0)


def free_port() -> int:
    """A free local port for a portal process a test or a benchmark starts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether the URL answers 200 (a starting portal does not yet)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM (uvicorn's graceful shutdown), SIGKILL if it has not ended within `timeout` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class MovableClock:
    """The portal's clock (services.clock.now, which clock.today() follows) standing at `start` until the test moves
    it: throttle windows and expiry are tested to the second without waiting."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, start: datetime) -> None:
        self.current = start
        monkeypatch.setattr('services.clock.now', lambda: self.current)

    def advance(self, delta: timedelta) -> None:
        self.current += delta
