"""Kundencodes: the code's shape and check character (property-based, no database), the Gültigkeitsdatum rules,
and generating, replacing, revoking and checking codes on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import AuditEvent, Contract, ContractStatus, Customer, Kundencode, PortalUser, Role
from services import kundencode, permissions
from services.audit import AuditKind
from services.errors import NotFound, PermissionDenied, ServiceError, ValidationError
from services.kundencode import (
    ALPHABET,
    CodeStatus,
    ReplaceConfirmationNeeded,
    check_character,
    format_code,
    normalize,
)
from services.permissions import Action
from tests.conftest import make_user, new_contract, not_none

TODAY = date(2026, 3, 15)
pytestmark = pytest.mark.today(TODAY)
# The autouse fixtures (settings, clock) are function-scoped; they hold no state a Hypothesis example could spoil.
no_db = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)

payloads = st.text(alphabet=ALPHABET, min_size=15, max_size=15)
valid_codes = payloads.map(lambda payload: payload + check_character(payload))


def reference_luhn_ok(code: str) -> bool:
    """Luhn mod N validation as written in the literature, independent of the implementation under test."""
    total = 0
    for position, character in enumerate(reversed(code)):
        value = ALPHABET.index(character) * (2 if position % 2 else 1)
        total += value // 32 + value % 32
    return total % 32 == 0


# --- the code's shape (no database) ---------------------------------------------------------------------------------


def test_format_code_groups_by_four() -> None:
    assert format_code('ABCDEFGHJKMNPQR7') == 'ABCD-EFGH-JKMN-PQR7'


def test_new_codes_have_the_documented_shape() -> None:
    for _ in range(200):
        code = kundencode.new_code()
        assert len(code) == 16
        assert set(code) <= set(ALPHABET)
        assert reference_luhn_ok(code)
        assert normalize(code) == code
        assert normalize(format_code(code)) == code


def test_a_thousand_codes_are_all_different_and_use_the_whole_alphabet() -> None:
    generated = [kundencode.new_code() for _ in range(1000)]
    assert len(set(generated)) == 1000
    assert set(''.join(code[:-1] for code in generated)) == set(ALPHABET)  # 15,000 draws miss none of 32


@no_db
@given(payloads)
def test_the_check_character_satisfies_reference_luhn_mod_32(payload: str) -> None:
    assert reference_luhn_ok(payload + check_character(payload))
    assert sum(reference_luhn_ok(payload + other) for other in ALPHABET) == 1


@st.composite
def typed_by_a_person(draw: st.DrawFn) -> tuple[str, str]:
    """A valid code as a person might type or paste it: any case, Crockford look-alikes, separators anywhere."""
    code = draw(valid_codes)
    shown = format_code(code) if draw(st.booleans()) else code
    look_alikes = {'0': ['0', 'O', 'o'], '1': ['1', 'I', 'i', 'L', 'l']}
    typed = draw(st.sampled_from([' ', '  ', '\t', '\u00a0', '']))
    for character in shown:
        if character == '-':
            typed += draw(st.sampled_from(['-', ' ', '', '.', '_', ' - ', '\u2013']))
            continue
        variants = look_alikes.get(character, [character, character.lower()])
        typed += draw(st.sampled_from(variants))
        if draw(st.integers(0, 9)) == 0:
            typed += draw(st.sampled_from([' ', '-', '.', '_']))
    typed += draw(st.sampled_from([' ', '\n', '', '.']))
    return code, typed


@no_db
@given(typed_by_a_person())
def test_any_way_of_typing_a_code_normalises_to_it(case: tuple[str, str]) -> None:
    code, typed = case
    assert normalize(typed) == code


@no_db
@given(valid_codes, st.integers(0, 15), st.sampled_from(ALPHABET))
def test_every_single_substitution_is_rejected(code: str, position: int, replacement: str) -> None:
    if replacement == code[position]:
        replacement = ALPHABET[(ALPHABET.index(replacement) + 1) % 32]
    assert normalize(code[:position] + replacement + code[position + 1:]) is None


@no_db
@given(valid_codes)
def test_every_single_substitution_is_rejected_exhaustively(code: str) -> None:
    for position in range(16):
        for replacement in ALPHABET:
            if replacement != code[position]:
                assert normalize(code[:position] + replacement + code[position + 1:]) is None


@no_db
@given(valid_codes, st.integers(0, 15), st.sampled_from('UÄ*#+/!?'))
def test_characters_outside_the_alphabet_are_rejected(code: str, position: int, stranger: str) -> None:
    assert normalize(code[:position] + stranger + code[position + 1:]) is None


@no_db
@given(valid_codes)
def test_every_adjacent_transposition_is_rejected_except_0_and_z(code: str) -> None:
    """Luhn mod N catches a swap of neighbours a, b unless g(a) = g(b) with g(x) = x for x < N/2 and x - (N - 1)
    otherwise: for N = 32 that is only the pair 0 and Z (values 0 and 31), like 0 and 9 in decimal Luhn.
    So 'every transposition' is not guaranteed; every transposition except 0↔Z is."""
    for position in range(15):
        first, second = code[position], code[position + 1]
        if first == second:
            continue
        swapped = code[:position] + second + first + code[position + 2:]
        if {first, second} == {'0', 'Z'}:
            assert normalize(swapped) == swapped  # the documented blind spot
        else:
            assert normalize(swapped) is None


def test_the_0_z_blind_spot_is_exactly_one_pair() -> None:
    undetected = set()
    for first in ALPHABET:
        for second in ALPHABET:
            for prefix in ('', '0'):  # the pair on a doubled and on an undoubled position
                payload = (prefix + first + second).ljust(15, '7')
                code = payload + check_character(payload)
                at = len(prefix)
                swapped = code[:at] + second + first + code[at + 2:]
                if first != second and normalize(swapped) is not None:
                    undetected.add(frozenset((first, second)))
    assert undetected == {frozenset('0Z')}


@no_db
@given(st.text(max_size=200))
def test_random_text_never_crashes_and_only_yields_valid_codes(raw: str) -> None:
    result = normalize(raw)
    if result is not None:
        assert len(result) == 16
        assert reference_luhn_ok(result)
        assert normalize(result) == result


@pytest.mark.parametrize('raw', ['', '   ', '----', 'ABCD', 'ABCD-EFGH-JKMN-PQR', 'ABCD-EFGH-JKMN-PQRS-T'])
def test_incomplete_input_is_rejected(raw: str) -> None:
    assert normalize(raw) is None


def test_overlong_input_is_rejected_before_any_work() -> None:
    code = kundencode.new_code()
    assert normalize(code + ' ' * 48) == code  # 64 characters: still fine
    assert normalize(code + ' ' * 49) is None
    assert normalize('A' * 1_000_000) is None


# --- the Gültigkeitsdatum (no database) -----------------------------------------------------------------------------


def fake_contract(ende: date | None = None) -> Contract:
    return SimpleNamespace(ende=ende)  # type: ignore[return-value]  # a stand-in: the date rule reads only .ende


@pytest.mark.parametrize(
    ('today', 'ende', 'expected'),
    [
        (date(2026, 3, 15), None, date(2026, 12, 31)),
        (date(2026, 12, 1), None, date(2026, 12, 31)),  # exactly 30 days left
        (date(2026, 12, 2), None, date(2027, 12, 31)),  # 29 days left
        (date(2026, 12, 31), None, date(2027, 12, 31)),
        (date(2026, 3, 15), date(2026, 6, 30), date(2026, 6, 30)),
        (date(2026, 12, 20), date(2027, 3, 31), date(2027, 3, 31)),
        (date(2026, 3, 15), date(2030, 1, 1), date(2026, 12, 31)),
    ],
)
def test_default_valid_until(
    set_today: Callable[[date], None], today: date, ende: date | None, expected: date
) -> None:
    set_today(today)
    assert kundencode.default_valid_until(fake_contract(ende)) == expected
    assert kundencode.valid_until_problem(fake_contract(ende), expected) is None


def test_valid_until_rules() -> None:
    contract = fake_contract()
    assert kundencode.valid_until_problem(contract, None) == (
        'Bitte geben Sie ein Gültigkeitsdatum im Format TT.MM.JJJJ an.'
    )
    assert kundencode.valid_until_problem(contract, TODAY - timedelta(days=1)) == (
        'Das Gültigkeitsdatum darf nicht in der Vergangenheit liegen.'
    )
    assert kundencode.valid_until_problem(contract, TODAY) is None
    assert kundencode.valid_until_problem(contract, date(2029, 3, 15)) is None  # exactly three years
    assert 'höchstens 3 Jahre' in (kundencode.valid_until_problem(contract, date(2029, 3, 16)) or '')
    ending = fake_contract(date(2026, 6, 30))
    assert kundencode.valid_until_problem(ending, date(2026, 6, 30)) is None
    assert kundencode.valid_until_problem(ending, date(2026, 7, 1)) == (
        'Das Gültigkeitsdatum darf nicht nach dem Vertragsende (30.06.2026) liegen.'
    )


def test_three_years_from_29_february_end_on_28_february(set_today: Callable[[date], None]) -> None:
    set_today(date(2028, 2, 29))
    assert kundencode.valid_until_problem(fake_contract(), date(2031, 2, 28)) is None
    assert kundencode.valid_until_problem(fake_contract(), date(2031, 3, 1)) is not None
    assert kundencode.latest_valid_until(fake_contract()) == date(2031, 2, 28)


# --- database: generating, replacing, revoking, checking ------------------------------------------------------------


async def current_codes(contract: Contract) -> list[Kundencode]:
    return await Kundencode.filter(contract_id=contract.id, revoked_at__isnull=True)


async def test_admin_generates_a_code(admin: PortalUser, contract: Contract) -> None:
    code = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31), client='10.0.0.1')
    assert normalize(code.code) == code.code
    assert code.valid_until == date(2026, 12, 31)
    assert code.created_by_id == admin.id
    assert code.revoked_at is None
    current = await kundencode.current_code(admin, contract.id)
    assert current is not None
    assert current.id == code.id
    check = await kundencode.validate(format_code(code.code).lower())
    assert check.status is CodeStatus.VALID
    assert check.ok
    assert check.code is not None
    assert check.code.id == code.id
    assert check.contract is not None
    assert check.contract.customer.name == 'Fahrradmanufaktur Kassel GmbH'  # loaded with the code


async def test_no_code_yet(admin: PortalUser, contract: Contract) -> None:
    assert await kundencode.current_code(admin, contract.id) is None
    with pytest.raises(NotFound, match='keinen aktuellen Kundencode'):
        await kundencode.revoke_code(admin, contract.id)


async def test_staff_may_generate_for_any_company(staff: PortalUser, contract: Contract) -> None:
    code = await kundencode.generate_code(staff, contract.id, date(2026, 12, 31))
    assert not_none(await kundencode.current_code(staff, contract.id)).id == code.id


@pytest.mark.parametrize('role', [Role.READONLY, Role.CLERK])
async def test_readers_and_clerks_may_not_generate_or_revoke(
    admin: PortalUser, company: Customer, contract: Contract, role: Role
) -> None:
    existing = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))
    user = await make_user(f'{role.value}@fahrradmanufaktur-kassel.de', role, company)
    with pytest.raises(PermissionDenied, match=permissions.denied_message(Action.GENERATE_CODE)):
        await kundencode.generate_code(user, contract.id, date(2026, 12, 31), replace_current=True)
    with pytest.raises(PermissionDenied):
        await kundencode.revoke_code(user, contract.id)
    assert not_none(await kundencode.current_code(user, contract.id)).id == existing.id  # may see it
    assert [code.id for code in await current_codes(contract)] == [existing.id]


async def test_other_companies_contracts_do_not_exist_for_a_company_user(
    admin: PortalUser, other_company: Customer
) -> None:
    foreign = await new_contract(other_company, 'V-2026-0999')
    with pytest.raises(NotFound):
        await kundencode.generate_code(admin, foreign.id, date(2026, 12, 31))
    with pytest.raises(NotFound):
        await kundencode.current_code(admin, foreign.id)
    with pytest.raises(NotFound):
        await kundencode.revoke_code(admin, foreign.id)
    with pytest.raises(NotFound):
        await kundencode.generate_code(admin, 987654, date(2026, 12, 31))
    assert await Kundencode.all().count() == 0


async def test_no_code_for_an_inactive_contract(admin: PortalUser, company: Customer) -> None:
    ended = await new_contract(company, 'V-2025-0007', status=ContractStatus.GEKUENDIGT)
    with pytest.raises(ServiceError, match=kundencode.INACTIVE_CONTRACT_MESSAGE):
        await kundencode.generate_code(admin, ended.id, date(2026, 12, 31))
    assert await Kundencode.all().count() == 0


@pytest.mark.parametrize(
    ('valid_until', 'message'),
    [
        (None, 'Bitte geben Sie ein Gültigkeitsdatum im Format TT.MM.JJJJ an.'),
        (date(2026, 3, 14), 'Das Gültigkeitsdatum darf nicht in der Vergangenheit liegen.'),
        (date(2026, 7, 1), 'Das Gültigkeitsdatum darf nicht nach dem Vertragsende (30.06.2026) liegen.'),
    ],
)
async def test_bad_dates_are_refused_at_the_field(
    admin: PortalUser, company: Customer, valid_until: date | None, message: str
) -> None:
    ending = await new_contract(company, 'V-2026-0002', ende=date(2026, 6, 30))
    with pytest.raises(ValidationError) as raised:
        await kundencode.generate_code(admin, ending.id, valid_until)
    assert raised.value.errors == {'valid_until': message}
    assert await Kundencode.all().count() == 0


async def test_at_most_three_years_ahead(admin: PortalUser, contract: Contract) -> None:
    with pytest.raises(ValidationError) as raised:
        await kundencode.generate_code(admin, contract.id, date(2029, 3, 16))
    assert 'höchstens 3 Jahre' in raised.value.errors['valid_until']
    code = await kundencode.generate_code(admin, contract.id, date(2029, 3, 15))
    assert code.valid_until == date(2029, 3, 15)


async def test_replacing_needs_a_confirmation(admin: PortalUser, contract: Contract) -> None:
    old = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))
    with pytest.raises(ReplaceConfirmationNeeded) as raised:
        await kundencode.generate_code(admin, contract.id, date(2027, 6, 30))
    assert raised.value.current.id == old.id
    assert '31.12.2026' in str(raised.value)
    assert [code.id for code in await current_codes(contract)] == [old.id]

    new = await kundencode.generate_code(admin, contract.id, date(2027, 6, 30), replace_current=True)
    assert new.code != old.code
    assert [code.id for code in await current_codes(contract)] == [new.id]
    await old.refresh_from_db()
    assert old.revoked_at is not None
    assert old.revoked_by_id == admin.id
    assert (await kundencode.validate(old.code)).status is CodeStatus.REVOKED
    assert (await kundencode.validate(new.code)).status is CodeStatus.VALID
    assert not_none(await kundencode.current_code(admin, contract.id)).id == new.id


async def test_replace_current_without_a_current_code_just_generates(admin: PortalUser, contract: Contract) -> None:
    code = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31), replace_current=True)
    assert [current.id for current in await current_codes(contract)] == [code.id]


async def test_an_expired_code_is_still_the_current_one_and_needs_confirmation(
    admin: PortalUser, contract: Contract, set_today: Callable[[date], None]
) -> None:
    old = await kundencode.generate_code(admin, contract.id, date(2026, 4, 30))
    set_today(date(2026, 5, 2))
    assert not_none(await kundencode.current_code(admin, contract.id)).id == old.id
    with pytest.raises(ReplaceConfirmationNeeded):
        await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))


async def test_revoking(admin: PortalUser, contract: Contract) -> None:
    code = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))
    await kundencode.revoke_code(admin, contract.id, client='10.0.0.2')
    assert await kundencode.current_code(admin, contract.id) is None
    assert (await kundencode.validate(code.code)).status is CodeStatus.REVOKED
    with pytest.raises(NotFound):
        await kundencode.revoke_code(admin, contract.id)
    event = await AuditEvent.filter(kind=AuditKind.CODE_REVOKED).get()
    assert event.actor_id == admin.id
    assert event.client == '10.0.0.2'
    assert code.code not in json.dumps(event.details)
    fresh = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))  # no confirmation needed now
    assert fresh.id != code.id


async def test_revoking_works_on_an_ended_contract(admin: PortalUser, contract: Contract) -> None:
    code = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))
    await Contract.filter(id=contract.id).update(status=ContractStatus.BEENDET)
    await kundencode.revoke_code(admin, contract.id)
    assert (await kundencode.validate(code.code)).status is CodeStatus.REVOKED


async def test_generation_and_replacement_are_audited_without_the_code(
    admin: PortalUser, company: Customer, contract: Contract
) -> None:
    old = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31), client='10.0.0.1')
    new = await kundencode.generate_code(admin, contract.id, date(2027, 6, 30), replace_current=True, client='10.0.0.1')
    events = await AuditEvent.filter(kind__in=[AuditKind.CODE_GENERATED, AuditKind.CODE_REVOKED]).order_by('id')
    assert [(event.kind, event.object_id) for event in events] == [
        (AuditKind.CODE_GENERATED, str(old.id)),
        (AuditKind.CODE_REVOKED, str(old.id)),
        (AuditKind.CODE_GENERATED, str(new.id)),
    ]
    for event in events:
        assert event.actor_id == admin.id
        assert event.actor_label == admin.email
        assert event.customer_id == company.id
        assert event.client == '10.0.0.1'
        assert event.object_type == 'kundencode'
        assert event.details['contract_id'] == contract.id
        text = json.dumps(event.details)
        for code in (old.code, new.code):
            assert code not in text
            assert format_code(code) not in text
            assert code[:12] not in text
    assert events[0].details['code_end'] == old.code[-4:]
    assert events[0].details['valid_until'] == '2026-12-31'
    assert events[0].details['replaced_code_id'] is None
    assert events[2].details['valid_until'] == '2027-06-30'
    assert events[2].details['replaced_code_id'] == old.id
    assert events[1].details['replaced_by_code_id'] == new.id


async def test_staff_generation_is_audited_for_the_company(
    staff: PortalUser, company: Customer, contract: Contract
) -> None:
    await kundencode.generate_code(staff, contract.id, date(2026, 12, 31))
    event = await AuditEvent.filter(kind=AuditKind.CODE_GENERATED).get()
    assert event.customer_id == company.id
    assert event.actor_id == staff.id


async def test_refusals_write_nothing(admin: PortalUser, company: Customer, contract: Contract) -> None:
    reader = await make_user('leser@fahrradmanufaktur-kassel.de', Role.READONLY, company)
    before = await AuditEvent.all().count()
    for attempt in (
        kundencode.generate_code(reader, contract.id, date(2026, 12, 31)),
        kundencode.generate_code(admin, contract.id, date(2020, 1, 1)),
    ):
        with pytest.raises(ServiceError):
            await attempt
    assert await AuditEvent.all().count() == before
    assert await Kundencode.all().count() == 0


async def test_validate_outcomes(
    admin: PortalUser, company: Customer, contract: Contract, set_today: Callable[[date], None]
) -> None:
    code = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))
    typo = code.code[:3] + ALPHABET[(ALPHABET.index(code.code[3]) + 1) % 32] + code.code[4:]
    assert (await kundencode.validate(typo)).status is CodeStatus.MALFORMED
    assert (await kundencode.validate('')).status is CodeStatus.MALFORMED
    unknown = await kundencode.validate(kundencode.new_code())
    assert unknown.status is CodeStatus.UNKNOWN
    assert unknown.code is None
    assert unknown.contract is None
    assert (await kundencode.validate(' ' + format_code(code.code).lower() + ' ')).status is CodeStatus.VALID

    set_today(date(2026, 12, 31))  # the last day counts
    assert (await kundencode.validate(code.code)).status is CodeStatus.VALID
    set_today(date(2027, 1, 1))
    expired = await kundencode.validate(code.code)
    assert expired.status is CodeStatus.EXPIRED
    assert expired.code is not None
    assert expired.code.id == code.id
    set_today(TODAY)

    await Contract.filter(id=contract.id).update(status=ContractStatus.GEKUENDIGT)
    assert (await kundencode.validate(code.code)).status is CodeStatus.CONTRACT_INACTIVE
    set_today(date(2027, 1, 1))
    assert (await kundencode.validate(code.code)).status is CodeStatus.EXPIRED  # expired is said before inactive

    await Kundencode.filter(id=code.id).update(revoked_at=code.created_at)
    assert (await kundencode.validate(code.code)).status is CodeStatus.REVOKED  # revoked is said before everything


def test_every_status_has_a_german_message() -> None:
    for status in CodeStatus:
        assert status.message
    assert CodeStatus.MALFORMED.message == (
        'Der Kundencode ist unvollständig oder enthält einen Tippfehler. Bitte prüfen Sie Ihre Eingabe.'
    )
    for status in (CodeStatus.EXPIRED, CodeStatus.REVOKED, CodeStatus.CONTRACT_INACTIVE):
        assert status.message.endswith('bitte wenden Sie sich an Ihren Arbeitgeber.')


async def test_a_colliding_random_code_is_replaced_by_a_fresh_one(
    admin: PortalUser, company: Customer, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))
    second_contract = await new_contract(company, 'V-2026-0003')
    fresh = kundencode.new_code()
    supply = iter([first.code, first.code, fresh])
    monkeypatch.setattr(kundencode, 'new_code', lambda: next(supply))
    code = await kundencode.generate_code(admin, second_contract.id, date(2026, 12, 31))
    assert code.code == fresh
    assert await Kundencode.all().count() == 2


async def test_endless_collisions_give_up_and_change_nothing(
    admin: PortalUser, company: Customer, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))
    monkeypatch.setattr(kundencode, 'new_code', lambda: first.code)
    with pytest.raises(ServiceError, match='konnte nicht erzeugt werden'):
        await kundencode.generate_code(admin, contract.id, date(2027, 6, 30), replace_current=True)
    assert [code.id for code in await current_codes(contract)] == [first.id]
    assert await AuditEvent.filter(kind=AuditKind.CODE_REVOKED).count() == 0


async def test_codes_are_unique_in_the_database(admin: PortalUser, contract: Contract) -> None:
    for _ in range(20):
        await kundencode.generate_code(admin, contract.id, date(2026, 12, 31), replace_current=True)
    stored = await Kundencode.filter(contract_id=contract.id).values_list('code', flat=True)
    assert len(stored) == len(set(stored)) == 20
    assert len(await current_codes(contract)) == 1


async def test_concurrent_replacements_leave_exactly_one_current_code(admin: PortalUser, contract: Contract) -> None:
    await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))
    results = await asyncio.gather(
        *(kundencode.generate_code(admin, contract.id, date(2027, 6, 30), replace_current=True) for _ in range(4))
    )
    current = await current_codes(contract)
    assert len(current) == 1
    assert current[0].id in {code.id for code in results}
    assert await Kundencode.filter(contract_id=contract.id).count() == 5


async def test_concurrent_first_generations_ask_the_later_one_to_confirm(
    admin: PortalUser, contract: Contract
) -> None:
    results = await asyncio.gather(
        *(kundencode.generate_code(admin, contract.id, date(2026, 12, 31)) for _ in range(3)), return_exceptions=True
    )
    created = [result for result in results if isinstance(result, Kundencode)]
    refused = [result for result in results if isinstance(result, ReplaceConfirmationNeeded)]
    assert len(created) == 1
    assert len(refused) == 2
    assert [code.id for code in await current_codes(contract)] == [created[0].id]
