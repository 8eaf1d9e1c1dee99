"""The Kundencode notice for the staff room (services/aushang.py) on SQLite and PostgreSQL: an A4 PDF with the
code, its validity, the QR code of the Self-Service link (compared pixel by pixel with the one segno makes) and the
instructions; only for a current, unexpired code; for whoever may see the contract, never another company's."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

import pytest
import segno
from PIL import Image, ImageChops
from pypdf import PdfReader

from models import Contract, Customer, PortalUser, Role
from services import aushang, kundencode
from services.aushang import NO_NOTICE
from services.errors import NotFound
from services.self_service_link import self_service_link
from tests.conftest import make_user

BASE_URL = 'https://portal.example.de/'
A4_POINTS = (595.28, 841.89)
pytestmark = pytest.mark.today(date(2026, 3, 5))


def qr_of(link: str) -> Image.Image:
    png = io.BytesIO()
    segno.make(link, error='m').save(png, kind='png', scale=10, border=2)
    return Image.open(png).convert('L')


async def test_the_notice_has_code_validity_qr_and_instructions(admin: PortalUser, contract: Contract) -> None:
    code = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))
    pdf = await aushang.code_notice_pdf(admin, contract.id, BASE_URL)
    reader = PdfReader(io.BytesIO(pdf))
    (page,) = reader.pages
    assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) == A4_POINTS
    text = page.extract_text()
    for expected in (kundencode.format_code(code.code), 'gültig bis 31.12.2026', 'Fahrradmanufaktur Kassel GmbH',
                     'Vertrag V-2026-0001', 'Kundennummer 100234', 'bis zum 10. des Vormonats',
                     'https://portal.example.de/self-service?code='):
        assert expected in text.replace('\n', ' '), expected
    (image,) = page.images
    assert image.image is not None
    shown = image.image.convert('L')
    expected_qr = qr_of(self_service_link(BASE_URL, code.code))
    assert shown.size == expected_qr.size
    assert ImageChops.difference(shown, expected_qr).getbbox() is None  # the very QR code of the link


@pytest.mark.parametrize('role', [Role.READONLY, Role.CLERK])
async def test_everyone_who_sees_the_code_may_print_it(admin: PortalUser, company: Customer, contract: Contract,
                                                       role: Role) -> None:
    await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))
    user = await make_user(f'{role.value}@fahrradmanufaktur-kassel.de', role, company)
    assert (await aushang.code_notice_pdf(user, contract.id, BASE_URL)).startswith(b'%PDF')


async def test_no_notice_without_a_working_code(
    admin: PortalUser, contract: Contract, set_today: Callable[[date], None]
) -> None:
    with pytest.raises(NotFound, match=NO_NOTICE):
        await aushang.code_notice_pdf(admin, contract.id, BASE_URL)
    await kundencode.generate_code(admin, contract.id, date(2026, 3, 31))
    set_today(date(2026, 3, 31))  # its last day: still printable
    assert (await aushang.code_notice_pdf(admin, contract.id, BASE_URL)).startswith(b'%PDF')
    set_today(date(2026, 4, 1))
    with pytest.raises(NotFound, match=NO_NOTICE):
        await aushang.code_notice_pdf(admin, contract.id, BASE_URL)
    set_today(date(2026, 3, 5))
    await kundencode.revoke_code(admin, contract.id)
    with pytest.raises(NotFound, match=NO_NOTICE):
        await aushang.code_notice_pdf(admin, contract.id, BASE_URL)


async def test_another_companys_notice_is_not_found(
    admin: PortalUser, contract: Contract, other_company: Customer
) -> None:
    await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))
    stranger = await make_user('admin@kaufunger-holzbau.de', Role.ADMIN, other_company)
    with pytest.raises(NotFound, match='Der Vertrag wurde nicht gefunden'):
        await aushang.code_notice_pdf(stranger, contract.id, BASE_URL)
