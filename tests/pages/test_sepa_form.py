"""The Self-Service form of a "(SEPA-Lastschrift)" contract through NiceGUI's simulated user: the mandate fields and
text are shown, an IBAN with a wrong check digit is refused at its field in German and nothing is saved; corrected,
the Antrag and its mandate are stored and the confirmation shows the IBAN masked and the Mandatsreferenz."""

from __future__ import annotations

import pytest
from nicegui.testing import User

from models import Antrag, Contract, Employee, Produktangebot, SepaMandate
from services import sepa
from tests.pages.test_self_service import (
    THANKS,
    VERTRAGSNUMMER,
    error_text,
    fill_form,
    make_code,
    open_form,
    pinned_today,  # noqa: F401 - the autouse fixture of those tests applies here too
    submit,
    the_field,
    type_into,
)

pytestmark = pytest.mark.both_databases  # the mandate, also on PostgreSQL
WRONG_CHECK_DIGIT = 'DE88 3704 0044 0532 0130 00'


async def test_a_wrong_iban_is_refused_at_its_field_and_a_corrected_one_stores_the_mandate(user: User) -> None:
    await Contract.filter(vertragsnummer=VERTRAGSNUMMER).update(produktangebot=Produktangebot.SEPA)
    await open_form(user, await make_code())
    await user.should_see('SEPA-Lastschriftmandat')
    await user.should_see(sepa.mandate_text())
    fill_form(user)
    type_into(user, 'Kontoinhaber', 'Max Mustermann')
    type_into(user, 'IBAN', WRONG_CHECK_DIGIT)
    user.find('Ich erteile das SEPA-Lastschriftmandat.').click()
    await submit(user)
    assert the_field(user, 'IBAN').error == ('Die IBAN ist ungültig: Die Prüfziffer stimmt nicht. Bitte prüfen Sie '
                                             'jede Stelle.')
    assert the_field(user, 'Kontoinhaber').error is None
    assert error_text(user).startswith('Bitte prüfen Sie die markierten Angaben.')
    await user.should_not_see(THANKS)
    assert await Antrag.all().count() == 0
    assert await SepaMandate.all().count() == 0
    assert await Employee.all().count() == 0

    type_into(user, 'IBAN', 'DE89 3704 0044 0532 0130 00')
    await submit(user)
    await user.should_see(THANKS)
    mandate = await SepaMandate.get()
    assert (mandate.kontoinhaber, mandate.iban) == ('Max Mustermann', 'DE89370400440532013000')
    await user.should_see('DE89 **** **** **** **** 00')
    await user.should_see(mandate.reference)
    await user.should_not_see('DE89 3704 0044 0532 0130 00')
