"""The Deutschlandticket Job price rules as dated blocks in the database (table tariff_block), maintained by staff
on the page „Tarife“, because they change yearly (from 2027 by an index nobody knows in advance).

services/tarife.toml (setting TARIFF_FILE) only seeds an empty table, and stands in for it while it is empty (a fresh
test database). Every async reader (`current`) reads the table, so a block added in any process counts at once; the
synchronous `tariff_on` of older callers answers from what the last read in this process found.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import PortalUser, TariffBlock
from services import abo_dates, audit, clock, permissions
from services.audit import AuditKind
from services.errors import ValidationError
from services.permissions import Action
from services.settings import get_settings

MAX_PRICE_CENT = 99_999  # a sanity bound for the form: 999,99 € a month


@dataclass(frozen=True)
class Tariff:
    gueltig_ab: date
    preis_cent: int
    mindestzuschuss_prozent: int
    rabatt_prozent: int

    @property
    def mindestzuschuss_cent(self) -> int:
        """25 % of 63,00 € = 15,75 €: the least an employer pays, in cents (rounded up)."""
        return -(-self.preis_cent * self.mindestzuschuss_prozent // 100)

    @property
    def rabatt_cent(self) -> int:
        return self.preis_cent * self.rabatt_prozent // 100

    def discount_cent(self, arbeitgeberzuschuss_cent: int) -> int:
        """The transit company's discount: only when the employer pays at least the minimum."""
        return self.rabatt_cent if arbeitgeberzuschuss_cent >= self.mindestzuschuss_cent else 0

    def eigenanteil_cent(self, arbeitgeberzuschuss_cent: int) -> int:
        """What the employee pays a month: price minus subsidy, minus the discount when the subsidy is enough."""
        return max(0, self.preis_cent - arbeitgeberzuschuss_cent - self.discount_cent(arbeitgeberzuschuss_cent))


@dataclass(frozen=True)
class Tariffs:
    """Every block, oldest first; the one valid on a day is the latest that started by then."""

    blocks: tuple[Tariff, ...]

    def on(self, day: date) -> Tariff:
        """The tariff valid on `day` (the earliest one for days before every block)."""
        valid = [tariff for tariff in self.blocks if tariff.gueltig_ab <= day]
        return valid[-1] if valid else self.blocks[0]

    def starting_after(self, day: date) -> list[Tariff]:
        return [tariff for tariff in self.blocks if tariff.gueltig_ab > day]


@cache
def _load(path: Path) -> tuple[Tariff, ...]:
    with path.open('rb') as file:
        blocks = tomllib.load(file)['tarif']
    return tuple(sorted((Tariff(**block) for block in blocks), key=lambda tariff: tariff.gueltig_ab))


def _from_file() -> Tariffs:
    return Tariffs(_load(get_settings().tariff_file))


_last_read: Tariffs | None = None


def forget() -> None:
    """Drop what the last read found (tests switch databases within one process)."""
    global _last_read
    _last_read = None


def tariff_on(day: date) -> Tariff:
    """The tariff valid on `day`, from the last read of the table in this process (the file before any read)."""
    return (_last_read or _from_file()).on(day)


async def current() -> Tariffs:
    """The blocks as the table holds them now (a handful of rows), or the file's while the table is empty."""
    global _last_read
    rows = await TariffBlock.all().order_by('gueltig_ab')
    _last_read = Tariffs(tuple(
        Tariff(row.gueltig_ab, row.preis_cent, row.mindestzuschuss_prozent, row.rabatt_prozent) for row in rows
    )) if rows else _from_file()
    return _last_read


async def seed_if_empty() -> None:
    """Copy the file's blocks into an empty table (at start; also before the first block a person adds, so the
    file's history is not lost). Two processes starting at once: the unique month lets only one of them write."""
    if await TariffBlock.exists():
        return
    try:
        async with in_transaction():
            for tariff in _from_file().blocks:
                await TariffBlock.create(
                    gueltig_ab=tariff.gueltig_ab, preis_cent=tariff.preis_cent, created_by='tarife.toml',
                    mindestzuschuss_prozent=tariff.mindestzuschuss_prozent, rabatt_prozent=tariff.rabatt_prozent,
                    created_at=clock.now(),
                )
    except IntegrityError:
        pass  # the other process seeded it
    await current()


def _percent(errors: dict[str, str], field: str, value: int | None, label: str) -> int:
    if value is None or not 0 <= value <= 100:
        errors[field] = f'{label} muss eine ganze Zahl zwischen 0 und 100 sein.'
        return 0
    return value


async def add_block(
    actor: PortalUser, *, gueltig_ab: date | None, preis_cent: int | None, mindestzuschuss_prozent: int | None,
    rabatt_prozent: int | None, client: str = '',
) -> Tariff:
    """A new block from the 1st of a future month on (never for a month already running or billed)."""
    permissions.require(actor, Action.MANAGE_TARIFFS, None)
    errors: dict[str, str] = {}
    first_open = abo_dates.first_change_month(clock.today())
    if gueltig_ab is None:
        errors['gueltig_ab'] = 'Bitte wählen Sie den Monat, ab dem der Tarif gilt.'
    else:
        gueltig_ab = abo_dates.first_of_month(gueltig_ab)
        if gueltig_ab < first_open:
            errors['gueltig_ab'] = (f'Ein neuer Tarif gilt frühestens ab {abo_dates.month_label(first_open)}: '
                                    'laufende und abgerechnete Monate bleiben, wie sie sind.')
    if preis_cent is None or not 1 <= preis_cent <= MAX_PRICE_CENT:
        errors['preis'] = 'Bitte geben Sie den Monatspreis in Euro an (z. B. 69,00).'
    minimum = _percent(errors, 'mindestzuschuss_prozent', mindestzuschuss_prozent, 'Der Mindestzuschuss')
    discount = _percent(errors, 'rabatt_prozent', rabatt_prozent, 'Der Rabatt')
    if not errors and minimum + discount > 100:
        errors['rabatt_prozent'] = 'Mindestzuschuss und Rabatt zusammen dürfen 100 % nicht übersteigen.'
    if errors:
        raise ValidationError(errors)
    assert gueltig_ab is not None and preis_cent is not None
    await seed_if_empty()
    try:
        async with in_transaction():
            await TariffBlock.create(gueltig_ab=gueltig_ab, preis_cent=preis_cent, mindestzuschuss_prozent=minimum,
                                     rabatt_prozent=discount, created_by=actor.email, created_at=clock.now())
            await audit.record(AuditKind.TARIFF_ADDED, actor=actor, object_type='tariff_block',
                               details={'gueltig_ab': gueltig_ab.isoformat(), 'preis_cent': preis_cent,
                                        'mindestzuschuss_prozent': minimum, 'rabatt_prozent': discount},
                               client=client)
    except IntegrityError:
        raise ValidationError({'gueltig_ab': f'Für {abo_dates.month_label(gueltig_ab)} gibt es bereits einen '
                                             'Tarif.'}) from None
    await current()
    return Tariff(gueltig_ab, preis_cent, minimum, discount)
