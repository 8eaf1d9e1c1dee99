"""Many customers, contracts, codes, Abos and Anträge in seconds, for the tests and benchmarks of the pages at scale.

One SQL script (recursive CTEs: the same text runs on SQLite and PostgreSQL, with no parameters at all) writes
`contracts` contracts over `customers` customers beside whatever the database holds (e.g. the demo data): 70 %
aktiv, a third of the active ones with a current Kundencode (every tenth of those runs out within the dashboard's
warning days), two Abos per active contract (some ended, so the chart has several month pairs) and an open Antrag on
every 50th contract (by its number, so it is an active one whatever ids the database hands out). Rows are told
apart by a prefix, so a script can run twice into one database with two prefixes.
"""

from __future__ import annotations

from datetime import date, timedelta

from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.connection import connections
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from models import AboStatus, AntragStatus, ContractStatus, Produktangebot, Ticketart
from services import demo_data
from services.database import tortoise_config

CREATED = '2025-01-02 08:00:00+00:00'  # ISO with an offset: both backends read it back as an aware datetime


def scale_sql(contracts: int, customers: int, today: date, prefix: str = 'S') -> str:
    """The script; `today` places the codes' expiry around the dashboard's warning window."""
    soon, later = today + timedelta(days=10), today + timedelta(days=400)
    numbers = f'n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {contracts})'
    active = f"c.vertragsnummer LIKE '{prefix}-%' AND c.status = '{ContractStatus.AKTIV.value}'"
    return f"""
        WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {customers})
        INSERT INTO customer (kundennummer, name, strasse, plz, ort, ansprechpartner, email, telefon, created_at)
        SELECT '{prefix}' || i, 'Masse ' || i || ' GmbH', 'Königsplatz ' || (i % 90 + 1), '34117', 'Kassel', '',
               '', '', '{CREATED}'
        FROM k;

        WITH RECURSIVE {numbers}
        INSERT INTO contract (vertragsnummer, customer_id, firma, strasse, plz, ort, produktangebot, status, beginn,
                              arbeitgeberzuschuss_cent, search_text, created_at, updated_at)
        SELECT '{prefix}-' || (1000000 + i), customer.id, customer.name, customer.strasse, '34117',
               'Kassel', '{Produktangebot.RECHNUNG.value}',
               CASE WHEN i % 10 < 7 THEN '{ContractStatus.AKTIV.value}'
                    WHEN i % 10 < 9 THEN '{ContractStatus.GEKUENDIGT.value}'
                    ELSE '{ContractStatus.BEENDET.value}' END,
               '2025-01-01', 1575, '', '{CREATED}', '{CREATED}'
        FROM n JOIN customer ON customer.kundennummer = '{prefix}' || (i % {customers} + 1);

        INSERT INTO kundencode (code, contract_id, valid_until, created_at)
        SELECT '{prefix}K' || c.id, c.id, '{later.isoformat()}', '{CREATED}'
        FROM contract c WHERE {active} AND c.id % 3 = 0 AND c.id % 30 <> 0;
        INSERT INTO kundencode (code, contract_id, valid_until, created_at)
        SELECT '{prefix}K' || c.id, c.id, '{soon.isoformat()}', '{CREATED}'
        FROM contract c WHERE {active} AND c.id % 30 = 0;

        INSERT INTO abo (contract_id, vorname, nachname, geburtsdatum, personalnummer, strasse, plz, ort, ticketart,
                         startmonat, endmonat, status, person_key, created_at, search_text)
        SELECT c.id, 'Vorname', 'Nachname ' || c.id, '1985-05-05', '', 'Königsplatz 1', '34117', 'Kassel',
               '{Ticketart.HANDYTICKET.value}', '2025-03-01', NULL, '{AboStatus.AKTIV.value}', 'p|' || c.id,
               '{CREATED}', ''
        FROM contract c WHERE {active};
        INSERT INTO abo (contract_id, vorname, nachname, geburtsdatum, personalnummer, strasse, plz, ort, ticketart,
                         startmonat, endmonat, status, person_key, created_at, search_text)
        SELECT c.id, 'Zweite', 'Nachname ' || c.id, '1990-09-09', '', 'Königsplatz 1', '34117', 'Kassel',
               '{Ticketart.CHIPKARTE.value}', '2025-06-01', '{today.replace(day=1) - timedelta(days=1)}',
               '{AboStatus.BEENDET.value}', 'q|' || c.id, '{CREATED}', ''
        FROM contract c WHERE {active};

        INSERT INTO antrag (reference, contract_id, source, anrede, vorname, nachname, geburtsdatum, email, strasse,
                            plz, ort, personalnummer, startmonat, ticketart, status, person_key, decision_reason,
                            created_at, search_text)
        SELECT '{prefix}A' || c.id, c.id, 'self_service', 'Frau', 'Lena', 'Antrag ' || c.id, '1988-07-14',
               'lena' || c.id || '@example.de', 'Königsplatz 1', '34117', 'Kassel', '', '2027-01-01',
               '{Ticketart.HANDYTICKET.value}', '{AntragStatus.OFFEN.value}', 'a|' || c.id, '', '{CREATED}', ''
        FROM contract c WHERE {active} AND (c.vertragsnummer LIKE '%00' OR c.vertragsnummer LIKE '%50');
    """


async def fill(contracts: int, customers: int, today: date, prefix: str = 'S') -> None:
    """Run the script on Tortoise's default connection, then refresh the planner's statistics (ANALYZE: what the
    portal does on SQLite at start and PostgreSQL's autovacuum does shortly after a bulk load)."""
    connection = connections.get('default')
    await connection.execute_script(scale_sql(contracts, customers, today, prefix))
    await connection.execute_script('ANALYZE')


async def prepare_portal_database(url: str, contracts: int, customers: int, today: date) -> None:
    """A database the portal can start on as it is: migrated, the demo data (its logins), then `fill`. main.py
    loads no demo data into it again (not empty)."""
    EXECUTOR_CACHE.clear()  # Tortoise caches SQL per connection name, across backends
    async with TortoiseContext() as context:
        await migrate(config=tortoise_config(url))
        await context.init(config=tortoise_config(url))
        await demo_data.load_demo_data()
        await fill(contracts, customers, today)
    EXECUTOR_CACHE.clear()
