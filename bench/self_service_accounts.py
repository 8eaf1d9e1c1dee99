"""How long a Self-Service application takes for each kind of e-mail address: the answer must not tell them apart.

With the portal's real argon2id settings (or ARGON2_* from the environment) on a SQLite file, submits Anträge for
an unknown address, an existing account with its right password, one with a wrong password and a locked one, and
prints the median and the spread per kind. Every kind does one argon2 verification and one hash.

Run: .venv/bin/python bench/self_service_accounts.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from models import Produktangebot, Role
from services import abo_dates, antraege, anwender, clock, kundencode
from services.antraege import ApplicationInput
from services.database import close_database, init_database
from services.kunden import create_customer
from services.validation import format_german_date
from services.vertraege import create_contract

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = 'Herkules-Bergpark-Kaskaden-9'
ALPHABET = kundencode.ALPHABET


def person(number: int, email: str) -> ApplicationInput:
    return ApplicationInput(
        anrede='Frau', vorname=f'Lena{ALPHABET[number % 32]}{ALPHABET[number // 32 % 32]}', nachname='Schäfer',
        geburtsdatum='14.07.1988', email=email, strasse='Friedrich-Ebert-Straße 12', plz='34117', ort='Kassel',
        startmonat=format_german_date(abo_dates.first_open_start_month(clock.today())), ticketart='Handyticket',
    )


async def measure(repeat: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as directory:
        await init_database(f'sqlite://{directory}/bench.db')
        try:
            customer = await create_customer(kundennummer='100234', name='Bench GmbH', strasse='Weg 1', plz='34117',
                                             ort='Kassel')
            admin = await anwender.create_user(email='admin@bench.de', name='Anna Admin', role=Role.ADMIN,
                                      password='Fulda-Ufer-im-Herbst-7', customer=customer)
            contract = await create_contract(customer=customer, vertragsnummer='V-1',
                                             produktangebot=Produktangebot.RECHNUNG, beginn=date(2025, 1, 1),
                                             arbeitgeberzuschuss_cent=1575)
            code = await kundencode.generate_code(admin, contract.id, kundencode.default_valid_until(contract))
            check = await kundencode.validate(code.code)
            number = 0

            async def submit(email: str, password: str, client: str) -> float:
                nonlocal number
                number += 1
                start = time.perf_counter()
                await antraege.submit_application(check, person(number, email), consent=True, password=password,
                                                      password_confirmation=password, client=client)
                return (time.perf_counter() - start) * 1000

            for email in ['konto@bench.de', 'gesperrt@bench.de'] + [f'falsch{i}@bench.de' for i in range(repeat)]:
                await submit(email, PASSWORD, '192.0.2.1')  # the existing accounts
            for _ in range(5):
                await submit('gesperrt@bench.de', 'Falsches-Passwort-00', '192.0.2.2')  # now locked
            times: dict[str, list[float]] = {'unknown': [], 'right password': [], 'wrong password': [], 'locked': []}
            for round_ in range(repeat):
                # a fresh unknown address and a fresh account for the wrong password each round (it never locks)
                times['unknown'].append(await submit(f'neu{round_}@bench.de', PASSWORD, '198.51.100.1'))
                times['right password'].append(await submit('konto@bench.de', PASSWORD, '198.51.100.2'))
                times['wrong password'].append(
                    await submit(f'falsch{round_}@bench.de', 'Falsches-Passwort-00', '198.51.100.3'))
                times['locked'].append(await submit('gesperrt@bench.de', PASSWORD, '198.51.100.4'))
            return times
        finally:
            await close_database()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=15)
    args = parser.parse_args()
    times = asyncio.run(measure(args.repeat))
    print(f'Self-Service-Antrag je Adressart ({args.repeat} Anträge je Art, SQLite):')
    for kind, values in times.items():
        ordered = sorted(values)
        print(f'  {kind:<15} Median {statistics.median(values):7.1f} ms   '
              f'Min {ordered[0]:7.1f} ms   Max {ordered[-1]:7.1f} ms')


if __name__ == '__main__':
    main()
