"""The Deutschlandticket Job price rules, kept as dated settings (services/tarife.toml) because they change yearly."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from services.settings import get_settings


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

    def eigenanteil_cent(self, arbeitgeberzuschuss_cent: int) -> int:
        """What the employee pays a month: price minus subsidy, minus the discount when the subsidy is enough."""
        discount = self.rabatt_cent if arbeitgeberzuschuss_cent >= self.mindestzuschuss_cent else 0
        return max(0, self.preis_cent - arbeitgeberzuschuss_cent - discount)


@cache
def _load(path: Path) -> tuple[Tariff, ...]:
    with path.open('rb') as file:
        blocks = tomllib.load(file)['tarif']
    return tuple(sorted((Tariff(**block) for block in blocks), key=lambda tariff: tariff.gueltig_ab))


def tariff_on(day: date) -> Tariff:
    """The tariff valid on `day` (the earliest one for days before every block)."""
    tariffs = _load(get_settings().tariff_file)
    valid = [tariff for tariff in tariffs if tariff.gueltig_ab <= day]
    return valid[-1] if valid else tariffs[0]
