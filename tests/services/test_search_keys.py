"""One mechanism keeps the search column and the sort keys current (models/searchable.py, issue 13): every way
Tortoise writes a Searchable row fills them (a queryset update too), and no service, page or start-up code computes
or names them by hand."""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from tortoise.models import Model

import models
from models import Abo, Antrag, Contract, Customer, PortalUser, Role
from models.abo import AboStatus
from models.antrag import Anrede, AntragStatus, Ticketart
from models.contract import Produktangebot
from models.searchable import Searchable, SearchableManager
from services import abos, anwender
from services.table_query import TableRequest
from tests.conftest import flat

ROOT = Path(__file__).resolve().parents[2]
SEARCHABLE = [model for model in vars(models).values()
              if isinstance(model, type) and issubclass(model, Searchable) and issubclass(model, Model)]
KEY_COLUMNS = {column for model in SEARCHABLE for column in model.key_columns()}
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_every_searchable_model_is_known_and_has_the_searchable_manager() -> None:
    assert {model.__name__ for model in SEARCHABLE} == {'Abo', 'Antrag', 'Contract', 'PortalUser'}
    for model in SEARCHABLE:
        assert isinstance(model._meta.manager, SearchableManager), model


def test_the_source_columns_are_stored_columns() -> None:
    """What the guard below watches must be real columns: a property name there would let its columns through."""
    for model in SEARCHABLE:
        columns = set(model._meta.fields_db_projection)
        assert model.source_columns() <= columns, model
        assert set(model.key_columns()) <= columns, model


@pytest.mark.parametrize('model', SEARCHABLE, ids=lambda model: model.__name__)
async def test_a_queryset_update_never_sets_a_key_column(db: str, model: Any) -> None:
    for column in model.key_columns():
        with pytest.raises(TypeError, match='search keys'):
            model.filter(id=1).update(**{column: 'x'})


async def stored_keys_are_current(instance: Any) -> bool:
    """The keys stored for the row equal those its stored columns give now."""
    stored = await type(instance).get(id=instance.id)
    computed = copy.copy(stored)
    computed._fill_keys()
    return all(getattr(stored, key) == getattr(computed, key) for key in type(instance).key_columns())


def antrag_values(contract: Contract, reference: str, nachname: str) -> dict[str, Any]:
    return dict(reference=reference, contract_id=contract.id, anrede=Anrede.FRAU, vorname='Henrike',
                nachname=nachname, geburtsdatum=date(1988, 7, 14), email=f'{reference}@example.de',
                strasse='Königstor 1', plz='34117', ort='Kassel', startmonat=date(2026, 4, 1),
                ticketart=Ticketart.HANDYTICKET, status=AntragStatus.OFFEN, person_key=reference, created_at=NOW)


def abo_values(contract: Contract, nachname: str) -> dict[str, Any]:
    return dict(contract_id=contract.id, vorname='Ömer', nachname=nachname, geburtsdatum=date(1979, 2, 3),
                strasse='Königstor 1', plz='34117', ort='Kassel', ticketart=Ticketart.CHIPKARTE,
                startmonat=date(2026, 1, 1), status=AboStatus.AKTIV, person_key=nachname, created_at=NOW)


def user_values(customer: Customer, email: str, name: str) -> dict[str, Any]:
    return dict(email=email, password_hash='kein-hash', name=name, role=Role.CLERK, customer_id=customer.id)


def contract_values(customer: Customer, number: str, firma: str) -> dict[str, Any]:
    return dict(vertragsnummer=number, customer_id=customer.id, firma=firma, strasse='Weserstraße 5', plz='34125',
                ort='Kassel', produktangebot=Produktangebot.RECHNUNG, beginn=date(2026, 1, 1),
                arbeitgeberzuschuss_cent=1575)


async def test_every_write_path_fills_the_keys(company: Customer, contract: Contract) -> None:
    """create, save, save(update_fields), bulk_create, bulk_update, a queryset update, save_where: for each
    Searchable model, each write leaves the keys of the row as its columns give them, and the changed word is
    found."""
    values: dict[Any, Callable[[str], dict[str, Any]]] = {
        Contract: lambda tag: contract_values(company, f'V-{tag}', f'Weißbach {tag} GmbH'),
        Antrag: lambda tag: antrag_values(contract, f'A-{tag}', f'Weißgerber-{tag}'),
        Abo: lambda tag: abo_values(contract, f'Çelik-{tag}'),
        PortalUser: lambda tag: user_values(company, f'{tag}@example.de', f'Dörte Öl-{tag}'),
    }
    name_column = {Contract: 'firma', Antrag: 'nachname', Abo: 'nachname', PortalUser: 'name'}

    async def found(model: type[Model], word: str) -> list[int]:
        return await flat(model.filter(search_text__contains=word.casefold()).values_list('id', flat=True))

    for model, make in values.items():
        column = name_column[model]
        created = model(**make('erst'))
        await created.save()
        via_create = await model.create(**make('zwei'))
        await model.bulk_create([model(**make('bulk1')), model(**make('bulk2'))])
        rows = {row.id: row for row in await model.filter(**{f'{column}__contains': 'bulk'})}
        for row in [created, via_create, *rows.values()]:
            assert await stored_keys_are_current(row), (model, row.id)
        assert len(await found(model, 'bulk2')) == 1

        setattr(created, column, 'Straße-Gespeichert')
        await created.save()
        setattr(via_create, column, 'Straße-Feldweise')
        await via_create.save(update_fields=[column])
        for row in rows.values():
            setattr(row, column, f'Straße-Stapel-{row.id}')
        await model.bulk_update(list(rows.values()), fields=[column])
        for row in [created, via_create, *rows.values()]:
            assert await stored_keys_are_current(row), (model, row.id)
        assert await found(model, 'STRASSE-gespeichert') == [created.id]
        assert await found(model, 'strasse-feldweise') == [via_create.id]
        assert sorted(await found(model, 'strasse-stapel')) == sorted(rows)

        assert await model.filter(id__in=list(rows)).update(**{column: 'Straße-Abfrage'}) == 2
        for row in rows.values():
            assert await stored_keys_are_current(row), (model, row.id)
        assert sorted(await found(model, 'strasse-abfrage')) == sorted(rows)
        assert await found(model, 'strasse-stapel') == []

        setattr(created, column, 'Nur-Wenn-Noch')
        assert await created.save_where([column], **{column: 'Straße-Gespeichert'})
        assert not await created.save_where([column], **{column: 'Straße-Gespeichert'})  # the row changed meanwhile
        assert await stored_keys_are_current(created)
        assert await found(model, 'nur-wenn-noch') == [created.id]


async def test_a_role_change_and_a_deactivation_are_found_by_their_new_words(
        admin: PortalUser, company: Customer) -> None:
    """PortalUser's search words come from properties (role label, status): the columns behind them are watched."""
    from tests.conftest import make_user

    clerk = await make_user('clerk@fahrradmanufaktur-kassel.de', Role.CLERK, company, name='Jonas Becker')

    async def listed(word: str) -> list[int]:
        return [user.id for user in (await anwender.list_users(admin, TableRequest(search=word))).rows]

    assert await listed('sachbearbeitung') == [clerk.id]
    await anwender.change_role(admin, clerk.id, Role.READONLY)
    assert await listed('sachbearbeitung') == []
    assert await listed('nur lesen') == [clerk.id]
    await anwender.deactivate(admin, clerk.id)
    assert await listed('deaktiviert') == [clerk.id]


async def test_an_ended_abo_is_found_by_its_new_status(admin: PortalUser, contract: Contract) -> None:
    """"Abo beenden zum …" is a conditional write (save_where): the stored status word follows it."""
    abo = await Abo.create(**abo_values(contract, 'Weißgerber'))
    ended = await abos.end_abo(admin, abo.id)
    assert ended.status == AboStatus.GEKUENDIGT
    assert 'gekündigt' in ended.search_text
    assert await stored_keys_are_current(ended)


# ---------------------------------------------------------------------------------------------------------------------
# No hand-made keys


def _hand_made_keys(path: Path) -> list[str]:
    """Places in `path` that compute or write a key column: a call of the filling method, a key column as a keyword
    argument, an attribute assignment or a string in a list of fields."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        where = f'{path.name}:{getattr(node, "lineno", "?")}'
        if isinstance(node, ast.Attribute) and node.attr in ('_fill_keys', 'refresh_search_text'):
            found.append(f'{where} {node.attr}')
        elif isinstance(node, ast.keyword) and node.arg in KEY_COLUMNS:
            found.append(f'{where} {node.arg}=')
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for element in (target.elts if isinstance(target, ast.Tuple) else [target]):
                    if isinstance(element, ast.Attribute) and element.attr in KEY_COLUMNS:
                        found.append(f'{where} .{element.attr} =')
        elif isinstance(node, ast.List | ast.Tuple | ast.Set):
            for element in node.elts:
                if isinstance(element, ast.Constant) and element.value in KEY_COLUMNS:
                    found.append(f'{where} {element.value!r} in a list of fields')
    return found


def test_no_service_page_or_start_up_code_makes_the_keys_by_hand() -> None:
    paths = [ROOT / 'main.py', *sorted((ROOT / 'services').rglob('*.py')), *sorted((ROOT / 'pages').rglob('*.py'))]
    assert [f'{path.parent.name}/{place}' for path in paths for place in _hand_made_keys(path)] == []


def test_the_check_for_hand_made_keys_finds_each_kind(tmp_path: Path) -> None:
    sample = tmp_path / 'sample.py'
    sample.write_text("antrag._fill_keys()\n"
                      "Abo.filter(id=1).update(search_text='x')\n"
                      "abo.status, abo.nachname_sort = 'aktiv', 'y'\n"
                      "FIELDS = ('status', 'search_text')\n", encoding='utf-8')
    assert len(_hand_made_keys(sample)) == 4

