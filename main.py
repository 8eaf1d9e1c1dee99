"""Firmenportal D-Ticket Job: start the portal (default) or run an operator command.

    python main.py                  start the portal at http://127.0.0.1:8080
    python main.py --help           every operator command
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pyotp
from fastapi import FastAPI
from nicegui import app, ui

import pages
from models import ContractStatus, Customer, PortalUser, Produktangebot, Role
from pages import errors, request_log, security_headers
from pages.upload_limit import UploadLimitMiddleware
from services import (
    abrechnung,
    anwender,
    demo_data,
    jobs,
    kunden,
    login_throttle,
    logs,
    mail_worker,
    massenupload,
    tarife,
    vertraege,
)
from services.abo_dates import month_label
from services.database import backup_sqlite, close_database, init_database
from services.errors import ServiceError, ValidationError
from services.settings import PROJECT_DIR, InvalidSettings, Settings, get_settings
from services.validation import parse_euro_cents, parse_german_date


def print_demo_logins() -> None:
    print('Demo-Zugänge (nur für die Vorführung):')
    for login in demo_data.DEMO_LOGINS:
        print(f'  {login.role.label:<22} {login.email:<46} {login.password}')
        if login.totp_secret:
            print(f'  {"":<22} zweiter Faktor: TOTP-Schlüssel {login.totp_secret} in eine Authenticator-App '
                  f'(aktueller Code: {pyotp.TOTP(login.totp_secret).now()})')


async def load_demo_data_into_empty_database() -> None:
    """The tariff blocks of tarife.toml into an empty table, and the demo data into an empty database."""
    await tarife.seed_if_empty()
    if get_settings().load_demo_data and await demo_data.database_is_empty():
        await demo_data.load_demo_data()


async def startup() -> None:
    settings = get_settings()
    # Under the migration lock: processes started at once would each find the tables empty.
    await init_database(once=load_demo_data_into_empty_database)
    await massenupload.recover_interrupted_imports()  # batches a dead process left behind (SQLite)
    if await PortalUser.filter(email__in=[login.email for login in demo_data.DEMO_LOGINS]).exists():
        print_demo_logins()
    print(f'Firmenportal läuft auf http://{settings.host}:{settings.port}', flush=True)
    settle_garbage_collector()


def settle_garbage_collector() -> None:
    """What start-up imported and built lives as long as the process; after one collection it is moved out of the
    cyclic garbage collector's reach (gc.freeze), so a full collection walks only what came since. Before, each full
    collection walked every module, page function and NiceGUI object: 112–221 ms of CPU in one step of the event
    loop, a pause for every page the process serves (bench/dashboard.py at 100,000 contracts). Once per process:
    the simulated-user tests start the app again and again."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def background_tasks(settings: Settings) -> list[asyncio.Task[None]]:
    """What runs beside the pages: the throttle cleanup; the invitations a stopped Massenupload import left; the
    outbox worker (MAIL_WORKER, and only with SMTP_HOST: without it mails wait in the outbox); the job scheduler
    (JOBS)."""
    tasks = [asyncio.create_task(login_throttle.cleanup_forever()), asyncio.create_task(massenupload.invite_people())]
    if settings.mail_worker and settings.smtp_host:
        tasks.append(asyncio.create_task(mail_worker.run_forever()))
    if settings.jobs:
        tasks.append(asyncio.create_task(jobs.scheduler_forever()))
    return tasks


def proxy_options(settings: Settings) -> dict[str, object]:
    """uvicorn's options for X-Forwarded-For. uvicorn trusts the header from 127.0.0.1 unless told otherwise, so
    anyone on the machine (or a local proxy that passes the header on) could pick the client address the throttles
    count; only the proxies in FORWARDED_ALLOW_IPS are trusted, and none by default."""
    return {'proxy_headers': bool(settings.forwarded_allow_ips), 'forwarded_allow_ips': settings.forwarded_allow_ips}


def serve() -> None:
    settings = get_settings()
    # NiceGUI's own lifespan, also when serve() runs again on the same app (the simulated-user tests do): including
    # routers and wrapping must start from it each time, or the lifespan nests deeper with every run.
    nicegui_lifespan = getattr(app.router.lifespan_context, 'nicegui_lifespan', app.router.lifespan_context)
    app.router.lifespan_context = nicegui_lifespan
    for router in pages.ROUTERS:
        app.include_router(router)
    app.add_middleware(UploadLimitMiddleware)
    routers_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(fastapi_app: FastAPI) -> AsyncIterator[None]:
        """The database is ready before the first request (NiceGUI's own on_startup runs in the background)."""
        await startup()
        tasks = background_tasks(get_settings())
        try:
            async with routers_lifespan(fastapi_app):
                yield
        finally:
            for task in tasks:
                task.cancel()
            # Wait for them to end: a worker cancelled inside its transaction still holds the connection, and closing
            # the database under it could wait for ever.
            await asyncio.gather(*tasks, return_exceptions=True)
            await close_database()

    lifespan.nicegui_lifespan = nicegui_lifespan  # type: ignore[attr-defined]
    app.router.lifespan_context = lifespan
    errors.register()
    app.add_middleware(security_headers.SecurityHeaders)
    app.add_middleware(request_log.RequestLog)
    security_headers.restrict_socket_origins()
    ui.run(**run_options(settings))


def run_options(settings: Settings) -> dict[str, Any]:
    """What `serve` hands to ui.run (and so to uvicorn), apart from the app it builds."""
    return dict(
        host=settings.host,
        port=settings.port,
        title='Firmenportal D-Ticket Job',
        language='de',
        favicon='🚆',
        storage_secret=settings.storage_secret,
        session_middleware_kwargs={'https_only': settings.session_cookie_secure, 'same_site': 'lax'},
        reload=False,
        show=False,
        fastapi_docs=False,
        reconnect_timeout=10,
        server_header=False,  # uvicorn's "server: uvicorn" banner
        tailwind=False,  # no compiler in the browser: the classes the pages use are CSS (pages/utilities.css)
        **proxy_options(settings),
        log_config=logs.uvicorn_log_config(settings.log_format),
    )


def read_password(prompt: str = 'Passwort: ') -> str:
    """From a prompt when interactive, else the first line of stdin; never from the command line."""
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if first != getpass.getpass('Passwort wiederholen: '):
            raise SystemExit('Die Passwörter stimmen nicht überein.')
        return first
    return sys.stdin.readline().rstrip('\n')


def run_command(command: Callable[[], Awaitable[str]]) -> None:
    async def with_database() -> str:
        await init_database()
        try:
            return await command()
        finally:
            await close_database()

    try:
        print(asyncio.run(with_database()))
    except ValidationError as error:
        raise SystemExit('\n'.join(f'Fehler ({field}): {message}' for field, message in error.errors.items())) from None
    except ServiceError as error:
        raise SystemExit(f'Fehler: {error}') from None


def german_date(value: str) -> date:
    parsed = parse_german_date(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f'kein Datum (TT.MM.JJJJ): {value}')
    return parsed


def euro_cents(value: str) -> int:
    cents = parse_euro_cents(value)
    if cents is None:
        raise argparse.ArgumentTypeError(f'kein Eurobetrag (z. B. 15,75): {value}')
    return cents


def billing_month(value: str) -> date:
    parsed = abrechnung.parse_month(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f'kein Monat (MM.JJJJ): {value}')
    return parsed


async def close_month_command(month: date) -> str:
    """`abrechnung-abschliessen`: the same service as the staff button; closing a closed month changes nothing."""
    closing = await abrechnung.close_month(month)
    label = month_label(closing.run.monat)
    if not closing.created:
        return f'{label} war bereits abgeschlossen ({closing.run.line_count} Zeilen); nichts geändert.'
    return f'{label} abgeschlossen: {closing.run.line_count} Zeilen.'


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='python main.py', description='Firmenportal D-Ticket Job')
    commands = parser.add_subparsers(dest='command', metavar='BEFEHL')
    commands.add_parser('serve', help='Portal starten (Standard)')
    commands.add_parser('migrate', help='Datenbankschema auf den neuesten Stand bringen')
    commands.add_parser('demo-data', help='Demodaten laden (nur in eine leere Datenbank)')
    backup = commands.add_parser('backup', help='SQLite-Datenbank im laufenden Betrieb sichern (PostgreSQL: pg_dump)')
    backup.add_argument('datei', type=Path, help='neue Datei für die Sicherung')

    customer = commands.add_parser('create-customer', help='Kunden (Firma) anlegen')
    customer.add_argument('--kundennummer', required=True)
    customer.add_argument('--name', required=True)
    customer.add_argument('--strasse', required=True)
    customer.add_argument('--plz', required=True)
    customer.add_argument('--ort', required=True)
    customer.add_argument('--ansprechpartner', default='')
    customer.add_argument('--email', default='')
    customer.add_argument('--telefon', default='')

    contract = commands.add_parser('create-contract', help='Vertrag für einen Kunden anlegen')
    contract.add_argument('--kundennummer', required=True)
    contract.add_argument('--vertragsnummer', required=True)
    contract.add_argument('--produkt', choices=['rechnung', 'sepa'], default='rechnung')
    contract.add_argument('--beginn', type=german_date, required=True, help='TT.MM.JJJJ')
    contract.add_argument('--ende', type=german_date, help='TT.MM.JJJJ')
    contract.add_argument('--zuschuss', type=euro_cents, required=True, help='Arbeitgeberzuschuss in Euro, z. B. 15,75')
    contract.add_argument('--status', choices=[status.value for status in ContractStatus], default='aktiv')

    user = commands.add_parser('create-user', help='Anwender anlegen (Passwort über Eingabeaufforderung/stdin)')
    user.add_argument('--email', required=True)
    user.add_argument('--name', required=True)
    user.add_argument('--rolle', choices=[role.value for role in Role], required=True)
    user.add_argument('--kundennummer', help='Firma des Anwenders (nicht für Rolle staff)')

    closing = commands.add_parser('abrechnung-abschliessen', help='Abrechnungsmonat abschließen (nach dem Stichtag)')
    closing.add_argument('--monat', type=billing_month, required=True, help='MM.JJJJ, z. B. 05.2026')

    reset = commands.add_parser('reset-password', help='Passwort zurücksetzen (Eingabeaufforderung/stdin)')
    reset.add_argument('--email', required=True)

    job = commands.add_parser('job', help='Geplanten Auftrag jetzt ausführen (auch wenn er heute schon lief)')
    job.add_argument('name', choices=list(jobs.JOBS), help='; '.join(
        f'{name}: {entry.description}' for name, entry in jobs.JOBS.items()))
    return parser


async def create_contract_command(args: argparse.Namespace) -> str:
    """`create-contract`: the same service, and so the same rules (subsidy, Vertragsnummer), as the Verwaltung form."""
    customer = await _customer(args.kundennummer)
    if customer is None:
        raise ServiceError('Bitte geben Sie die Kundennummer an.')
    contract = await vertraege.create_contract(
        customer=customer, vertragsnummer=args.vertragsnummer,
        produktangebot=Produktangebot.RECHNUNG if args.produkt == 'rechnung' else Produktangebot.SEPA,
        beginn=args.beginn, ende=args.ende, arbeitgeberzuschuss_cent=args.zuschuss, status=ContractStatus(args.status),
    )
    return f'Vertrag angelegt: {contract.vertragsnummer}'


async def _customer(kundennummer: str | None) -> Customer | None:
    if not kundennummer:
        return None
    customer = await Customer.get_or_none(kundennummer=kundennummer)
    if customer is None:
        raise ServiceError(f'Kundennummer {kundennummer} gibt es nicht.')
    return customer


def main(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    try:
        get_settings()  # a wrong variable stops here, before anything starts
    except InvalidSettings as error:
        raise SystemExit(str(error)) from None
    logs.configure_logging(get_settings().log_format)
    if args.command in (None, 'serve'):
        serve()
    elif args.command == 'migrate':
        run_command(lambda: asyncio.sleep(0, 'Datenbankschema ist aktuell.'))
    elif args.command == 'backup':
        try:
            print(backup_sqlite(args.datei))
        except ServiceError as error:
            raise SystemExit(f'Fehler: {error}') from None
    elif args.command == 'demo-data':
        async def load() -> str:
            if not await demo_data.database_is_empty():
                raise ServiceError('Die Datenbank ist nicht leer; Demodaten werden nur in eine leere geladen.')
            await demo_data.load_demo_data()
            print_demo_logins()
            return 'Demodaten geladen.'
        run_command(load)
    elif args.command == 'create-customer':
        async def create() -> str:
            customer = await kunden.create_customer(
                kundennummer=args.kundennummer, name=args.name, strasse=args.strasse, plz=args.plz, ort=args.ort,
                ansprechpartner=args.ansprechpartner, email=args.email, telefon=args.telefon,
            )
            return f'Kunde angelegt: {customer}'
        run_command(create)
    elif args.command == 'create-contract':
        run_command(lambda: create_contract_command(args))
    elif args.command == 'abrechnung-abschliessen':
        run_command(lambda: close_month_command(args.monat))
    elif args.command == 'create-user':
        password = read_password()
        async def create() -> str:
            user = await anwender.create_user(
                email=args.email, name=args.name, role=Role(args.rolle), password=password,
                customer=await _customer(args.kundennummer),
            )
            return f'Anwender angelegt: {user.email} ({user.role.label})'
        run_command(create)
    elif args.command == 'reset-password':
        password = read_password('Neues Passwort: ')
        async def reset() -> str:
            user = await anwender.reset_password(args.email, password)
            return f'Passwort von {user.email} gesetzt; alle Sitzungen beendet.'
        run_command(reset)
    elif args.command == 'job':
        run_command(lambda: jobs.run_by_hand(args.name))


if __name__ in {'__main__', '__mp_main__'}:
    os.chdir(PROJECT_DIR)
    main([] if os.environ.get('NICEGUI_USER_SIMULATION') else sys.argv[1:])
