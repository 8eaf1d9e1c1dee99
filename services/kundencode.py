"""Kundencodes: generating, showing, checking and revoking the code employees enter in the Self-Service.

A code is 15 random characters (`secrets`, 75 bits: unguessable, so the public check needs no secret) from Crockford's
base32 alphabet, which has no I, L, O or U, so that people read and type it without confusing characters; a 16th
character is a Luhn mod 32 check character, so that the Self-Service can tell a typo ("check your input") apart from
a code that does not exist, without a database look-up. Every single-character typo and every swap of two adjacent
characters is caught, except a swap of '0' and 'Z' (the mod 32 analogue of Luhn's blind spot for 0 and 9).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Contract, ContractStatus, Kundencode, PortalUser
from services import audit, clock, permissions
from services.audit import AuditKind
from services.errors import NotFound, ServiceError, ValidationError
from services.i18n import N_
from services.permissions import Action
from services.settings import get_settings
from services.validation import format_german_date
from services.vertraege import get_contract

ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
BASE = len(ALPHABET)  # 32
PAYLOAD_LENGTH = 15
CODE_LENGTH = PAYLOAD_LENGTH + 1
GROUP_SIZE = 4
MAX_INPUT_LENGTH = 64
MAX_CREATE_ATTEMPTS = 5
AUDIT_VISIBLE_CHARACTERS = 4

_VALUE = {character: value for value, character in enumerate(ALPHABET)}
# Crockford: letters that look like digits are read as those digits. U stays invalid.
_ALIASES = {'O': '0', 'I': '1', 'L': '1'}
# Separators people type or copy from documents: dashes (also typographic ones), dots, underscores; spaces are any
# whitespace (including the no-break space of a PDF).
_SEPARATORS = frozenset('-._\u2010\u2011\u2012\u2013\u2014\u2212')

INACTIVE_CONTRACT_MESSAGE = 'Für einen nicht aktiven Vertrag kann kein Kundencode generiert werden.'
NO_CURRENT_CODE_MESSAGE = 'Für diesen Vertrag gibt es keinen aktuellen Kundencode.'


# --- the code itself -----------------------------------------------------------------------------------------------


def check_character(payload: str) -> str:
    """Luhn mod N (N = 32) over the alphabet: from the right, every second value doubled and its base-32 digits
    summed. Doubling is a permutation of 0..31, so every single substitution changes the sum."""
    total = 0
    factor = 2
    for character in reversed(payload):
        addend = factor * _VALUE[character]
        total += addend // BASE + addend % BASE
        factor = 3 - factor
    return ALPHABET[-total % BASE]


def new_code() -> str:
    """A fresh random code in normalised form (16 characters, the last one the check character)."""
    payload = ''.join(secrets.choice(ALPHABET) for _ in range(PAYLOAD_LENGTH))
    return payload + check_character(payload)


def format_code(code: str) -> str:
    """'ABCDEFGHJKMNPQR7' → 'ABCD-EFGH-JKMN-PQR7': groups of four are easier to read aloud and to type."""
    return '-'.join(code[start:start + GROUP_SIZE] for start in range(0, len(code), GROUP_SIZE))


def normalize(raw: str) -> str | None:
    """What the person meant, in stored form, or None when it cannot be a code (wrong length or check character).

    Forgiving about what people do to a code (case, spaces, dashes, dots, O for 0, I or L for 1) and strict about
    everything else, so that a None here is a typo and never a database look-up.
    """
    if not isinstance(raw, str) or len(raw) > MAX_INPUT_LENGTH:
        return None
    characters: list[str] = []
    for character in raw:
        if character.isspace() or character in _SEPARATORS:
            continue
        if not character.isascii():
            return None
        character = character.upper()
        character = _ALIASES.get(character, character)
        if character not in _VALUE:
            return None
        characters.append(character)
    if len(characters) != CODE_LENGTH:
        return None
    code = ''.join(characters)
    return code if check_character(code[:-1]) == code[-1] else None


# --- checking a code (public: the Self-Service) --------------------------------------------------------------------


class CodeStatus(StrEnum):
    MALFORMED = 'malformed'
    UNKNOWN = 'unknown'
    EXPIRED = 'expired'
    REVOKED = 'revoked'
    CONTRACT_INACTIVE = 'contract_inactive'
    VALID = 'valid'

    @property
    def message(self) -> str:
        return STATUS_MESSAGES[self]


STATUS_MESSAGES = {
    CodeStatus.MALFORMED: N_(
        'Der Kundencode ist unvollständig oder enthält einen Tippfehler. Bitte prüfen Sie Ihre Eingabe.'
    ),
    CodeStatus.UNKNOWN: N_('Diesen Kundencode gibt es nicht. Bitte prüfen Sie Ihre Eingabe.'),
    CodeStatus.EXPIRED: N_('Dieser Kundencode ist abgelaufen, bitte wenden Sie sich an Ihren Arbeitgeber.'),
    CodeStatus.REVOKED: N_('Dieser Kundencode ist nicht mehr gültig, bitte wenden Sie sich an Ihren Arbeitgeber.'),
    CodeStatus.CONTRACT_INACTIVE: N_(
        'Der Vertrag zu diesem Kundencode ist nicht aktiv, bitte wenden Sie sich an Ihren Arbeitgeber.'
    ),
    CodeStatus.VALID: N_('Der Kundencode ist gültig.'),
}


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of `validate`; `code` and `contract` are set whenever the code exists."""

    status: CodeStatus
    code: Kundencode | None = None
    contract: Contract | None = None

    @property
    def ok(self) -> bool:
        return self.status is CodeStatus.VALID

    @property
    def message(self) -> str:
        return self.status.message


async def validate(raw: str) -> CodeCheck:
    """Check what an employee typed. No actor: the code itself is the credential, which is why it has 75 random bits.

    Revoked wins over expired: the employee should hear that the employer withdrew the code, not that it ran out.
    """
    normalised = normalize(raw)
    if normalised is None:
        return CodeCheck(CodeStatus.MALFORMED)
    code = await Kundencode.filter(code=normalised).select_related('contract__customer').first()
    if code is None:
        return CodeCheck(CodeStatus.UNKNOWN)
    contract = code.contract
    if code.revoked_at is not None:
        status = CodeStatus.REVOKED
    elif code.valid_until < clock.today():
        status = CodeStatus.EXPIRED
    elif contract.status != ContractStatus.AKTIV:
        status = CodeStatus.CONTRACT_INACTIVE
    else:
        status = CodeStatus.VALID
    return CodeCheck(status, code, contract)


# --- the Gültigkeitsdatum ------------------------------------------------------------------------------------------


def _add_years(day: date, years: int) -> date:
    """The same day `years` later; 29.02. becomes 28.02. in a year without it."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def latest_valid_until(contract: Contract) -> date:
    """The latest Gültigkeitsdatum allowed today: the configured years ahead, and never after the contract's end."""
    latest = _add_years(clock.today(), get_settings().code_max_years_ahead)
    return min(latest, contract.ende) if contract.ende else latest


def default_valid_until(contract: Contract) -> date:
    """The date the form proposes: the end of this year, or of next year once this one has less than 30 days left
    (a code that expires in a few weeks only makes work), but never after the contract ends."""
    today = clock.today()
    proposal = date(today.year, 12, 31)
    if (proposal - today).days < 30:
        proposal = date(today.year + 1, 12, 31)
    if contract.ende is not None and proposal > contract.ende:
        proposal = contract.ende
    return proposal


def valid_until_problem(contract: Contract, valid_until: date | None) -> str | None:
    """The German message for the date field, or None when the date is fine. None as input means the page could not
    read a date from what was typed."""
    if valid_until is None:
        return 'Bitte geben Sie ein Gültigkeitsdatum im Format TT.MM.JJJJ an.'
    today = clock.today()
    if valid_until < today:
        return 'Das Gültigkeitsdatum darf nicht in der Vergangenheit liegen.'
    if contract.ende is not None and valid_until > contract.ende:
        return f'Das Gültigkeitsdatum darf nicht nach dem Vertragsende ({format_german_date(contract.ende)}) liegen.'
    years = get_settings().code_max_years_ahead
    latest = _add_years(today, years)
    if valid_until > latest:
        return (
            f'Das Gültigkeitsdatum darf höchstens {years} Jahre in der Zukunft liegen '
            f'(spätestens {format_german_date(latest)}).'
        )
    return None


# --- the portal side: current code, generate, revoke ----------------------------------------------------------------


class ReplaceConfirmationNeeded(ServiceError):
    """The contract already has a current code; the page asks before a new one replaces it (the old one stops
    working for employees who have not used it yet)."""

    def __init__(self, current: Kundencode) -> None:
        self.current = current
        super().__init__(
            'Für diesen Vertrag gibt es bereits einen Kundencode '
            f'(gültig bis {format_german_date(current.valid_until)}). '
            'Ein neuer Kundencode ersetzt ihn: der bisherige kann dann nicht mehr verwendet werden.'
        )


def _code_end(code: str) -> str:
    """What the audit log keeps of a code: enough to tell codes apart, too little to use one."""
    return code[-AUDIT_VISIBLE_CHARACTERS:]


async def _not_revoked(contract_id: int) -> Kundencode | None:
    return await Kundencode.filter(contract_id=contract_id, revoked_at__isnull=True).order_by('-id').first()


async def current_code(actor: PortalUser, contract_id: int) -> Kundencode | None:
    """The contract's code that is not revoked (possibly expired: the page shows its 'gültig bis'), if any."""
    contract = await get_contract(actor, contract_id)
    return await _not_revoked(contract.id)


async def _lock_contract(contract_id: int) -> Contract:
    """Inside a transaction: lock the contract row, so that two generations for one contract run one after the other
    (PostgreSQL; SQLite has one writer at a time anyway and Tortoise leaves FOR UPDATE out there)."""
    contract = await Contract.filter(id=contract_id).select_for_update().first()
    if contract is None:  # deleted in the meantime
        raise NotFound('Der Vertrag wurde nicht gefunden.')
    return contract


async def _create_unique(contract: Contract, valid_until: date, actor: PortalUser) -> Kundencode:
    """Insert a fresh code; on the (astronomically unlikely) unique collision try a new one, a few times. Each try runs
    in a savepoint, because on PostgreSQL a failed insert would otherwise abort the whole transaction."""
    for _ in range(MAX_CREATE_ATTEMPTS):
        try:
            async with in_transaction():
                return await Kundencode.create(
                    code=new_code(), contract_id=contract.id, valid_until=valid_until, created_at=clock.now(),
                    created_by=actor,
                )
        except IntegrityError:
            continue
    raise ServiceError('Der Kundencode konnte nicht erzeugt werden. Bitte versuchen Sie es erneut.')


async def _revoke(
    code: Kundencode, contract: Contract, actor: PortalUser, client: str, replaced_by: Kundencode | None = None
) -> None:
    code.revoked_at = clock.now()
    code.revoked_by = actor
    await code.save(update_fields=['revoked_at', 'revoked_by_id'])
    details: dict[str, object] = {
        'contract_id': contract.id,
        'vertragsnummer': contract.vertragsnummer,
        'code_end': _code_end(code.code),
        'valid_until': code.valid_until.isoformat(),
    }
    if replaced_by is not None:
        details['replaced_by_code_id'] = replaced_by.id
    await audit.record(
        AuditKind.CODE_REVOKED, actor=actor, customer_id=contract.customer_id,
        object_type='kundencode', object_id=code.id, details=details, client=client,
    )


async def generate_code(
    actor: PortalUser,
    contract_id: int,
    valid_until: date | None,
    *,
    replace_current: bool = False,
    client: str = '',
) -> Kundencode:
    """Generate the contract's new current code. If there is one already, the caller must confirm the replacement
    (ReplaceConfirmationNeeded, then again with replace_current=True); the old code is revoked in the same transaction,
    so there is never a moment with two current codes or with none."""
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.GENERATE_CODE, contract.customer_id)
    if contract.status != ContractStatus.AKTIV:
        raise ServiceError(INACTIVE_CONTRACT_MESSAGE)
    if problem := valid_until_problem(contract, valid_until):
        raise ValidationError({'valid_until': problem})
    assert valid_until is not None  # checked just above
    async with in_transaction():
        contract = await _lock_contract(contract.id)
        if contract.status != ContractStatus.AKTIV:  # changed since the first read
            raise ServiceError(INACTIVE_CONTRACT_MESSAGE)
        previous = await _not_revoked(contract.id)
        if previous is not None and not replace_current:
            raise ReplaceConfirmationNeeded(previous)
        code = await _create_unique(contract, valid_until, actor)
        if previous is not None:
            await _revoke(previous, contract, actor, client, replaced_by=code)
        await audit.record(
            AuditKind.CODE_GENERATED, actor=actor, customer_id=contract.customer_id,
            object_type='kundencode', object_id=code.id, client=client,
            details={
                'contract_id': contract.id,
                'vertragsnummer': contract.vertragsnummer,
                'code_end': _code_end(code.code),
                'valid_until': valid_until.isoformat(),
                'replaced_code_id': previous.id if previous is not None else None,
            },
        )
    return code


async def revoke_code(actor: PortalUser, contract_id: int, *, client: str = '') -> None:
    """Withdraw the contract's current code (e.g. it leaked). Allowed whatever the contract's status: stopping a
    code must always be possible."""
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.REVOKE_CODE, contract.customer_id)
    async with in_transaction():
        contract = await _lock_contract(contract.id)
        code = await _not_revoked(contract.id)
        if code is None:
            raise NotFound(NO_CURRENT_CODE_MESSAGE)
        await _revoke(code, contract, actor, client)
