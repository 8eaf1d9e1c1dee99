"""The Kundencode as employees type it in the Self-Service: checked, and throttled per client.

Typos and unknown codes count as failures; after `code_max_failures` within the window the client has to wait, so
nobody can walk the code space from one machine. Expired or revoked codes are real codes and do not count.
"""

from __future__ import annotations

from dataclasses import dataclass

from services import audit, codes, login_throttle
from services.audit import AuditKind
from services.codes import CodeCheck, CodeStatus
from services.login_throttle import CODE_CLIENT

FAILURES = (CodeStatus.MALFORMED, CodeStatus.UNKNOWN)


@dataclass(frozen=True)
class CodeEntry:
    check: CodeCheck | None
    message: str

    @property
    def ok(self) -> bool:
        return self.check is not None and self.check.ok


def _wait_message(minutes: int) -> str:
    unit = 'Minute' if minutes == 1 else 'Minuten'
    return f'Zu viele ungültige Eingaben. Bitte warten Sie {minutes} {unit} und versuchen Sie es dann erneut.'


async def enter_code(raw: str, *, client: str) -> CodeEntry:
    if until := await login_throttle.locked_until(CODE_CLIENT, client):
        return CodeEntry(None, _wait_message(login_throttle.minutes_until(until)))
    check = await codes.validate(raw)
    if check.status in FAILURES and (until := await login_throttle.register_failure(CODE_CLIENT, client)):
        await audit.record(AuditKind.CODE_ENTRY_BLOCKED, actor_label='Self-Service', client=client)
        return CodeEntry(check, _wait_message(login_throttle.minutes_until(until)))
    return CodeEntry(check, check.message)
