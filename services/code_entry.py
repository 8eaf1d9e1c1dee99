"""The Kundencode as employees type it in the Self-Service and at the kiosk: checked, and throttled per device and
per address.

Typos and unknown codes count as failures: after `code_max_failures` within a quarter of an hour the device (a
browser, a kiosk) has to wait; after `code_client_max_failures` within an hour the whole address does, so nobody can
walk the code space from one machine, and one person's typos do not lock out their colleagues behind the same NAT.
Expired or revoked codes are real codes and do not count.
"""

from __future__ import annotations

from dataclasses import dataclass

from services import audit, kundencode, login_throttle
from services.audit import AuditKind
from services.i18n import N_
from services.kundencode import CodeCheck, CodeStatus
from services.login_throttle import CODE_CLIENT, CODE_DEVICE

FAILURES = (CodeStatus.MALFORMED, CodeStatus.UNKNOWN)


@dataclass(frozen=True)
class CodeEntry:
    check: CodeCheck | None
    message: str

    @property
    def ok(self) -> bool:
        return self.check is not None and self.check.ok


def _wait_message(minutes: int) -> str:
    if minutes == 1:
        return N_('Zu viele ungültige Eingaben. Bitte warten Sie 1 Minute und versuchen Sie es dann erneut.')
    return N_('Zu viele ungültige Eingaben. Bitte warten Sie {minutes} Minuten und versuchen Sie es dann erneut.',
              minutes=minutes)


async def enter_code(raw: str, *, client: str, device: str = '') -> CodeEntry:
    """`client` is the address, `device` the browser's or kiosk's id (empty: counted per address only)."""
    keys = {CODE_DEVICE: device, CODE_CLIENT: client}
    if lock := await login_throttle.first_lock(keys):
        return CodeEntry(None, _wait_message(login_throttle.minutes_until(lock[1])))
    check = await kundencode.validate(raw)
    if check.status in FAILURES and (locks := await login_throttle.register_failures(keys)):
        await audit.record(AuditKind.CODE_ENTRY_BLOCKED, actor_label='Self-Service', client=client,
                           details={'scope': ', '.join(locks)})
        return CodeEntry(check, _wait_message(login_throttle.minutes_until(max(locks.values()))))
    return CodeEntry(check, check.message)
