"""Demo data: a handful of companies in and around Kassel with contracts in several statuses, and the demo logins.

Loaded on the first start of an empty database (unless DEMO_DATA=0) and by `python main.py demo-data`.
The passwords are public (they stand in the README); never load demo data into a production database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models import ContractStatus, Customer, PortalUser, Produktangebot, Role
from services import anwender, audit, clock
from services.audit import AuditKind
from services.kunden import create_customer
from services.vertraege import create_contract


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    name: str
    role: Role
    kundennummer: str | None
    totp_secret: str | None = None  # staff must log in with a second factor: this demo key goes into the app


DEMO_LOGINS = (
    DemoLogin('admin@fahrradmanufaktur-kassel.de', 'Radweg-Fulda-2026', 'Anna Dietrich', Role.ADMIN, '100234'),
    DemoLogin('sachbearbeitung@fahrradmanufaktur-kassel.de', 'Kettenblatt-Auepark-7', 'Jonas Weber', Role.CLERK,
              '100234'),
    DemoLogin('lesen@fahrradmanufaktur-kassel.de', 'Bergpark-Herkules-42', 'Lukas Brandt', Role.READONLY, '100234'),
    DemoLogin('kundenservice@verkehrsbetrieb-demo.de', 'Tram-Linie-Vier-Kassel', 'Sabine Krüger', Role.STAFF, None,
              totp_secret='DEMOKASSELTRAMVIERJOBTICKETZWEIX'),
)

# Kundennummer, Firma, Straße, PLZ, Ort, Ansprechpartner, E-Mail, Telefon
DEMO_CUSTOMERS = (
    ('100234', 'Fahrradmanufaktur Kassel GmbH', 'Wilhelmshöher Allee 273', '34131', 'Kassel', 'Anna Dietrich',
     'personal@fahrradmanufaktur-kassel.de', '0561 7398-120'),
    ('100317', 'Nordhessische Bauelemente AG', 'Sandershäuser Straße 34', '34123', 'Kassel', 'Thomas Hahn',
     'hr@nh-bauelemente.de', '0561 50391-0'),
    ('100452', 'Grimm & Partner Steuerberatung', 'Friedrich-Ebert-Straße 122', '34119', 'Kassel', 'Miriam Grimm',
     'kanzlei@grimm-partner-stb.de', '0561 93721-40'),
    ('100589', 'Auepark Klinikum gGmbH', 'Frankfurter Straße 52', '34121', 'Kassel', 'Dr. Peter Vogt',
     'personalabteilung@auepark-klinikum.de', '0561 3108-0'),
    ('200104', 'Baunataler Präzisionsteile GmbH', 'Altenbaunaer Straße 12', '34225', 'Baunatal', 'Katrin Schäfer',
     'personal@bpt-baunatal.de', '0561 49903-15'),
    ('200233', 'Vellmarer Haustechnik Service GmbH', 'Rathausplatz 4', '34246', 'Vellmar', 'Oliver Jung',
     'info@haustechnik-vellmar.de', '0561 82017-0'),
    ('200371', 'Fuldataler Logistik KG', 'Am Sportplatz 7', '34233', 'Fuldatal', 'Sandra Beck',
     'verwaltung@fuldataler-logistik.de', '0561 98314-22'),
    ('200418', 'Kaufunger Holzbau GmbH', 'Leipziger Straße 180', '34260', 'Kaufungen', 'Martin Lange',
     'buero@kaufunger-holzbau.de', '05605 9270-0'),
)

# Vertragsnummer, Kundennummer, Produktangebot, Status, Beginn, Ende, Arbeitgeberzuschuss in Cent
DEMO_CONTRACTS = (
    ('DJ-2024-0117', '100234', Produktangebot.RECHNUNG, ContractStatus.AKTIV, date(2024, 1, 1), None, 2000),
    ('DJ-2023-0042', '100234', Produktangebot.SEPA, ContractStatus.BEENDET, date(2023, 5, 1), date(2023, 12, 31),
     1470),
    ('DJ-2024-0233', '100317', Produktangebot.RECHNUNG, ContractStatus.AKTIV, date(2024, 3, 1), None, 1575),
    ('DJ-2025-0318', '100452', Produktangebot.SEPA, ContractStatus.AKTIV, date(2025, 2, 1), None, 3150),
    ('DJ-2023-0388', '100589', Produktangebot.RECHNUNG, ContractStatus.AKTIV, date(2023, 5, 1), None, 2500),
    ('DJ-2025-0412', '200104', Produktangebot.RECHNUNG, ContractStatus.GEKUENDIGT, date(2025, 1, 1),
     date(2026, 12, 31), 1575),
    ('DJ-2024-0519', '200233', Produktangebot.SEPA, ContractStatus.AKTIV, date(2024, 9, 1), None, 1575),
    ('DJ-2023-0127', '200371', Produktangebot.RECHNUNG, ContractStatus.BEENDET, date(2023, 6, 1),
     date(2024, 12, 31), 1450),
    ('DJ-2026-0603', '200418', Produktangebot.SEPA, ContractStatus.AKTIV, date(2026, 4, 1), None, 2000),
)


async def database_is_empty() -> bool:
    return not await Customer.exists() and not await PortalUser.exists()


async def load_demo_data() -> None:
    customers: dict[str, Customer] = {}
    for kundennummer, name, strasse, plz, ort, ansprechpartner, email, telefon in DEMO_CUSTOMERS:
        customers[kundennummer] = await create_customer(
            kundennummer=kundennummer, name=name, strasse=strasse, plz=plz, ort=ort,
            ansprechpartner=ansprechpartner, email=email, telefon=telefon,
        )
    for vertragsnummer, kundennummer, produkt, status, beginn, ende, zuschuss in DEMO_CONTRACTS:
        await create_contract(
            customer=customers[kundennummer], vertragsnummer=vertragsnummer, produktangebot=produkt, status=status,
            beginn=beginn, ende=ende, arbeitgeberzuschuss_cent=zuschuss,
        )
    for login in DEMO_LOGINS:
        user = await anwender.create_user(
            email=login.email, name=login.name, role=login.role, password=login.password,
            customer=customers[login.kundennummer] if login.kundennummer else None,
        )
        if login.totp_secret:
            user.totp_secret, user.totp_enabled_at = login.totp_secret, clock.now()
            await user.save(update_fields=['totp_secret', 'totp_enabled_at'])
    await audit.record(AuditKind.DEMO_DATA_LOADED, actor_label='Betrieb (Start)')
