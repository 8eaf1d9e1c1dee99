"""The Kundencode as employees type it in the Self-Service: each outcome with its message, and the throttles per
device and per address against walking the code space (only typos and unknown codes count), on SQLite and
PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from models import AuditEvent, Contract, ContractStatus, Customer, Kundencode, LoginThrottle, PortalUser, Produktangebot
from services import kundencode
from services.audit import AuditKind
from services.code_entry import enter_code
from services.kundencode import ALPHABET, CodeStatus, format_code
from services.login_throttle import CODE_CLIENT, CODE_DEVICE
from services.settings import get_settings
from services.vertraege import create_contract
from tests.support import MovableClock

START = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
CLIENT = '203.0.113.7'
OTHER_CLIENT = '198.51.100.23'
DEVICE = 'browser:a'
OTHER_DEVICE = 'browser:b'


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    return MovableClock(monkeypatch, START)


@pytest.fixture
async def contract(company: Customer) -> Contract:
    return await create_contract(
        customer=company, vertragsnummer='V-2026-0001', produktangebot=Produktangebot.RECHNUNG,
        beginn=date(2025, 1, 1), arbeitgeberzuschuss_cent=1575,
    )


@pytest.fixture
async def code(admin: PortalUser, contract: Contract) -> Kundencode:
    return await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))


def max_failures() -> int:
    return get_settings().code_max_failures


def wait_message(minutes: int) -> str:
    unit = 'Minute' if minutes == 1 else 'Minuten'
    return f'Zu viele ungültige Eingaben. Bitte warten Sie {minutes} {unit} und versuchen Sie es dann erneut.'


def window_minutes() -> int:
    return math.ceil(get_settings().device_window.total_seconds() / 60)


def typo_of(code: str, position: int = 3) -> str:
    return code[:position] + ALPHABET[(ALPHABET.index(code[position]) + 1) % len(ALPHABET)] + code[position + 1:]


async def fail_times(count: int, client: str = CLIENT, device: str = DEVICE) -> list[str]:
    """`count` wrong codes (alternating typos and unknown codes), returning the messages."""
    messages = []
    for number in range(count):
        raw = 'ABCD-EFGH' if number % 2 else kundencode.new_code()
        messages.append((await enter_code(raw, client=client, device=device)).message)
    return messages


# --- outcomes --------------------------------------------------------------------------------------------------------


async def test_a_valid_code(code: Kundencode, contract: Contract) -> None:
    entry = await enter_code(' ' + format_code(code.code).lower() + ' ', client=CLIENT, device=DEVICE)
    assert entry.ok
    assert entry.message == 'Der Kundencode ist gültig.'
    assert entry.check is not None
    assert entry.check.status is CodeStatus.VALID
    assert entry.check.code is not None and entry.check.code.id == code.id
    assert entry.check.contract is not None and entry.check.contract.id == contract.id
    assert entry.check.contract.customer.name == 'Fahrradmanufaktur Kassel GmbH'  # for the form's header


@pytest.mark.parametrize(
    ('raw', 'status'),
    [
        ('', CodeStatus.MALFORMED),
        ('ABCD-EFGH', CodeStatus.MALFORMED),
        ('typo', CodeStatus.MALFORMED),
        ('x' * 10_000, CodeStatus.MALFORMED),
        ('unknown', CodeStatus.UNKNOWN),
    ],
)
async def test_wrong_codes(code: Kundencode, raw: str, status: CodeStatus) -> None:
    if raw == 'typo':
        raw = typo_of(code.code)
    elif raw == 'unknown':
        raw = kundencode.new_code()
    entry = await enter_code(raw, client=CLIENT, device=DEVICE)
    assert not entry.ok
    assert entry.check is not None and entry.check.status is status
    assert entry.message == status.message


async def test_malformed_and_unknown_messages() -> None:
    assert CodeStatus.MALFORMED.message == (
        'Der Kundencode ist unvollständig oder enthält einen Tippfehler. Bitte prüfen Sie Ihre Eingabe.'
    )
    assert CodeStatus.UNKNOWN.message == 'Diesen Kundencode gibt es nicht. Bitte prüfen Sie Ihre Eingabe.'


async def make_expired(admin: PortalUser, contract: Contract, code: Kundencode, clock: MovableClock) -> None:
    clock.current = datetime.combine(code.valid_until + timedelta(days=1), datetime.min.time(), UTC).replace(hour=12)


async def make_revoked(admin: PortalUser, contract: Contract, code: Kundencode, clock: MovableClock) -> None:
    await kundencode.revoke_code(admin, contract.id)


async def make_inactive(admin: PortalUser, contract: Contract, code: Kundencode, clock: MovableClock) -> None:
    await Contract.filter(id=contract.id).update(status=ContractStatus.GEKUENDIGT)


REAL_BUT_UNUSABLE = [
    (make_expired, CodeStatus.EXPIRED, 'Dieser Kundencode ist abgelaufen, bitte wenden Sie sich an Ihren Arbeitgeber.'),
    (make_revoked, CodeStatus.REVOKED,
     'Dieser Kundencode ist nicht mehr gültig, bitte wenden Sie sich an Ihren Arbeitgeber.'),
    (make_inactive, CodeStatus.CONTRACT_INACTIVE,
     'Der Vertrag zu diesem Kundencode ist nicht aktiv, bitte wenden Sie sich an Ihren Arbeitgeber.'),
]


@pytest.mark.parametrize(('spoil', 'status', 'message'), REAL_BUT_UNUSABLE, ids=['expired', 'revoked', 'inactive'])
async def test_real_but_unusable_codes(
    admin: PortalUser, contract: Contract, code: Kundencode, clock: MovableClock,
    spoil: Callable, status: CodeStatus, message: str,
) -> None:
    await spoil(admin, contract, code, clock)
    entry = await enter_code(code.code, client=CLIENT, device=DEVICE)
    assert not entry.ok
    assert entry.check is not None and entry.check.status is status
    assert entry.message == message


@pytest.mark.parametrize(('spoil', 'status', 'message'), REAL_BUT_UNUSABLE, ids=['expired', 'revoked', 'inactive'])
async def test_real_but_unusable_codes_do_not_count_as_failures(
    admin: PortalUser, company: Customer, contract: Contract, code: Kundencode, clock: MovableClock,
    spoil: Callable, status: CodeStatus, message: str,
) -> None:
    await spoil(admin, contract, code, clock)
    for _ in range(max_failures() * 2):
        entry = await enter_code(code.code, client=CLIENT, device=DEVICE)
        assert entry.message == message
    assert not await LoginThrottle.all().exists()

    fresh_contract = await create_contract(
        customer=company, vertragsnummer='V-2026-0002', produktangebot=Produktangebot.SEPA, beginn=date(2025, 1, 1),
        arbeitgeberzuschuss_cent=2000,
    )
    fresh = await kundencode.generate_code(admin, fresh_contract.id, kundencode.default_valid_until(fresh_contract))
    assert (await enter_code(fresh.code, client=CLIENT, device=DEVICE)).ok


# --- the throttle ----------------------------------------------------------------------------------------------------


async def test_too_many_wrong_codes_lock_the_device(code: Kundencode) -> None:
    limit = max_failures()
    assert limit == 10
    messages = await fail_times(limit)
    locked = wait_message(window_minutes())
    assert 'Zu viele' not in ' '.join(messages[:-1])
    assert messages[-1] == locked  # the 10th failure within the window locks
    assert locked.startswith('Zu viele ungültige Eingaben')
    assert window_minutes() == 15

    blocked = await enter_code(code.code, client=CLIENT, device=DEVICE)  # even the valid code is refused while locked
    assert not blocked.ok
    assert blocked.check is None
    assert blocked.message == locked
    assert (await enter_code('ABCD', client=CLIENT, device=DEVICE)).message == locked

    assert (await enter_code(code.code, client=OTHER_CLIENT, device=OTHER_DEVICE)).ok  # another device is unaffected
    assert (await enter_code('ABCD', client=OTHER_CLIENT, device=OTHER_DEVICE)).message == CodeStatus.MALFORMED.message


async def test_the_lock_is_audited_once(code: Kundencode) -> None:
    await fail_times(max_failures())
    await enter_code(code.code, client=CLIENT, device=DEVICE)
    await enter_code('ABCD', client=CLIENT, device=DEVICE)
    event = await AuditEvent.filter(kind=AuditKind.CODE_ENTRY_BLOCKED).get()
    assert event.client == CLIENT
    assert event.actor_label == 'Self-Service'
    assert event.actor_id is None
    assert event.created_at == START


async def test_the_waiting_time_counts_down(code: Kundencode, clock: MovableClock) -> None:
    await fail_times(max_failures())
    lock_end = START + get_settings().device_window
    clock.current = lock_end - timedelta(minutes=7, seconds=30)
    assert (await enter_code(code.code, client=CLIENT, device=DEVICE)).message == wait_message(8)
    clock.current = lock_end - timedelta(seconds=30)
    assert (await enter_code(code.code, client=CLIENT, device=DEVICE)).message == wait_message(1)
    assert 'Bitte warten Sie 1 Minute und' in wait_message(1)


async def test_after_the_window_a_valid_code_works_again(code: Kundencode, clock: MovableClock) -> None:
    await fail_times(max_failures())
    clock.advance(get_settings().device_window - timedelta(seconds=1))
    assert not (await enter_code(code.code, client=CLIENT, device=DEVICE)).ok
    clock.advance(timedelta(seconds=1))
    assert (await enter_code(code.code, client=CLIENT, device=DEVICE)).ok
    # And the count starts afresh: nine more typos do not lock again.
    clock.advance(timedelta(seconds=1))
    assert 'Zu viele' not in ' '.join(await fail_times(max_failures() - 1))
    assert (await enter_code(code.code, client=CLIENT, device=DEVICE)).ok


async def test_a_typo_at_the_instant_the_lock_ends_starts_a_new_window(code: Kundencode, clock: MovableClock) -> None:
    await fail_times(max_failures())
    clock.advance(get_settings().device_window)
    assert (await enter_code(code.code, client=CLIENT, device=DEVICE)).ok  # the lock is over
    assert (await fail_times(1)) == [CodeStatus.UNKNOWN.message]


async def test_an_operator_can_lift_the_lock(code: Kundencode, clock: MovableClock) -> None:
    await fail_times(max_failures())
    await LoginThrottle.filter(scope=CODE_DEVICE, key=DEVICE).update(locked_until=clock.current - timedelta(seconds=1))
    assert (await enter_code(code.code, client=CLIENT, device=DEVICE)).ok


async def test_failures_spread_beyond_the_window_do_not_lock(code: Kundencode, clock: MovableClock) -> None:
    half = max_failures() // 2 + 1
    await fail_times(half)
    clock.advance(get_settings().device_window + timedelta(seconds=1))
    messages = await fail_times(max_failures() - 1)
    assert 'Zu viele' not in ' '.join(messages)
    assert (await enter_code(code.code, client=CLIENT, device=DEVICE)).ok


async def test_failures_within_the_window_add_up(code: Kundencode, clock: MovableClock) -> None:
    await fail_times(max_failures() - 1)
    clock.advance(get_settings().device_window - timedelta(minutes=1))
    assert (await fail_times(1)) == [wait_message(1)]
    assert not (await enter_code(code.code, client=CLIENT, device=DEVICE)).ok


async def test_valid_codes_do_not_reset_the_count(code: Kundencode) -> None:
    """Interleaving one's own valid code must not let a client go on guessing."""
    for _ in range(max_failures() - 1):
        await fail_times(1)
        assert (await enter_code(code.code, client=CLIENT, device=DEVICE)).ok
    assert (await fail_times(1)) == [wait_message(window_minutes())]


async def test_devices_are_counted_separately(code: Kundencode) -> None:
    await fail_times(max_failures() - 1, client=CLIENT, device=DEVICE)
    await fail_times(max_failures() - 1, client=OTHER_CLIENT, device=OTHER_DEVICE)
    assert (await enter_code(code.code, client=CLIENT, device=DEVICE)).ok
    assert (await enter_code(code.code, client=OTHER_CLIENT, device=OTHER_DEVICE)).ok
    assert not await AuditEvent.filter(kind=AuditKind.CODE_ENTRY_BLOCKED).exists()


async def test_code_failures_do_not_lock_logins(admin: PortalUser) -> None:
    """The Kundencode throttle has its own scope: typing wrong codes does not block the same machine's logins."""
    from services import auth
    from tests.conftest import PASSWORD

    await fail_times(max_failures(), client=CLIENT, device=DEVICE)
    assert (await auth.login(admin.email, PASSWORD, client=CLIENT, device=DEVICE)).token


async def test_a_lower_limit_from_the_environment(code: Kundencode, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.settings import reset_settings

    monkeypatch.setenv('CODE_MAX_FAILURES', '3')
    reset_settings()
    expected = [CodeStatus.UNKNOWN.message, CodeStatus.MALFORMED.message, wait_message(window_minutes())]
    assert await fail_times(3) == expected


# --- per address: an office behind one NAT, a machine that drops its cookies ---------------------------------------


async def test_one_persons_typos_do_not_lock_colleagues_behind_the_same_nat(code: Kundencode) -> None:
    """Finding: ten wrong codes from the office address refused a colleague's valid code."""
    await fail_times(max_failures(), client=CLIENT, device=DEVICE)
    assert not (await enter_code(code.code, client=CLIENT, device=DEVICE)).ok  # the typist's browser waits
    assert (await enter_code(code.code, client=CLIENT, device=OTHER_DEVICE)).ok  # the colleague's does not
    assert (await enter_code(code.code, client=CLIENT)).ok  # nor one without a device id


async def test_the_address_limit_stops_a_machine_that_drops_its_cookies(
    code: Kundencode, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.settings import reset_settings

    assert get_settings().code_client_max_failures == 1000
    monkeypatch.setenv('CODE_CLIENT_MAX_FAILURES', '30')  # the default works alike, only slower
    reset_settings()
    for number in range(30):  # a new device id for every guess
        await fail_times(1, client=CLIENT, device=f'browser:{number}')
    blocked = await enter_code(code.code, client=CLIENT, device='browser:new')
    assert not blocked.ok
    assert blocked.message == wait_message(60)  # the address waits for the end of its hour
    event = await AuditEvent.filter(kind=AuditKind.CODE_ENTRY_BLOCKED).get()
    assert event.details == {'scope': CODE_CLIENT}
    assert (await enter_code(code.code, client=OTHER_CLIENT, device='browser:new')).ok
