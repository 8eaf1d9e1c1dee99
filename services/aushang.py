"""The printable notice of a Kundencode for the staff room (Aushang, PDF, A4): the code, its validity, the QR code of
the Self-Service link and short instructions — what real job-ticket portals hand employers as a poster.

Who may see the code in the Infos drawer may print it (VIEW_CONTRACTS, same company); there is no notice without a
current code (none, revoked) or for an expired one: a poster must never advertise a code that no longer works.
"""

from __future__ import annotations

import io

import segno
from fpdf import FPDF

from models import PortalUser
from services import clock, kundencode
from services.errors import NotFound
from services.self_service_link import self_service_link
from services.settings import get_settings
from services.validation import format_german_date
from services.vertraege import get_contract

NO_NOTICE = 'Für diesen Vertrag gibt es keinen gültigen Kundencode, der ausgehängt werden könnte.'
QR_MM = 70


def notice_filename(vertragsnummer: str) -> str:
    return f'Kundencode_Aushang_{vertragsnummer}.pdf'


async def code_notice_pdf(actor: PortalUser, contract_id: int, request_base_url: str) -> bytes:
    contract = await get_contract(actor, contract_id)  # VIEW_CONTRACTS and the same-company rule
    code = await kundencode.current_code(actor, contract.id)
    if code is None or code.valid_until < clock.today():
        raise NotFound(NO_NOTICE)
    link = self_service_link(request_base_url, code.code)
    formatted = kundencode.format_code(code.code)
    cutoff = get_settings().cutoff_day

    pdf = FPDF(format='A4')
    pdf.set_title(f'Kundencode {contract.firma}')
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_margins(20, 20, 20)
    pdf.set_y(22)
    pdf.set_font('helvetica', 'B', 24)
    pdf.multi_cell(0, 11, 'D-Ticket Job - Ihr Deutschlandticket über den Arbeitgeber', align='C', new_x='LMARGIN',
                   new_y='NEXT')
    pdf.set_font('helvetica', size=13)
    pdf.multi_cell(0, 7, contract.firma, align='C', new_x='LMARGIN', new_y='NEXT')
    pdf.ln(8)
    pdf.set_font('helvetica', size=12)
    pdf.cell(0, 7, 'Ihr Kundencode', align='C', new_x='LMARGIN', new_y='NEXT')
    pdf.set_font('courier', 'B', 30)
    pdf.cell(0, 16, formatted, align='C', new_x='LMARGIN', new_y='NEXT')
    pdf.set_font('helvetica', 'B', 13)
    pdf.cell(0, 8, f'gültig bis {format_german_date(code.valid_until)}', align='C', new_x='LMARGIN', new_y='NEXT')
    pdf.ln(4)
    qr = io.BytesIO()
    segno.make(link, error='m').save(qr, kind='png', scale=10, border=2)
    pdf.image(qr, x=(pdf.w - QR_MM) / 2, w=QR_MM, h=QR_MM)
    pdf.set_font('helvetica', size=9)
    pdf.multi_cell(0, 5, link, align='C', new_x='LMARGIN', new_y='NEXT')
    pdf.ln(6)
    pdf.set_font('helvetica', 'B', 13)
    pdf.cell(0, 8, "So geht's", new_x='LMARGIN', new_y='NEXT')
    pdf.set_font('helvetica', size=11.5)
    for number, step in enumerate((
        'QR-Code mit dem Smartphone scannen oder den Link oben öffnen.',
        f'Kundencode {formatted} eingeben (er steht schon im Feld, wenn Sie den QR-Code gescannt haben).',
        'Antrag ausfüllen: Name, Anschrift, gewünschter Startmonat und Ticketart (Chipkarte oder Handyticket).',
        f'Ihr Arbeitgeber prüft den Antrag. Genehmigt er ihn bis zum {cutoff}. des Vormonats, beginnt Ihr '
        'D-Ticket Job im gewünschten Monat, sonst im nächsten möglichen.',
        'Den Kundencode nicht außerhalb des Unternehmens weitergeben.',
    ), start=1):
        pdf.multi_cell(0, 6.5, f'{number}.  {step}', new_x='LMARGIN', new_y='NEXT')
        pdf.ln(1)
    pdf.set_y(-22)
    pdf.set_font('helvetica', size=8.5)
    pdf.multi_cell(0, 4.5, f'Vertrag {contract.vertragsnummer} · Kundennummer {contract.customer.kundennummer} · '
                           f'Stand {format_german_date(clock.today())}', align='C', new_x='LMARGIN', new_y='NEXT')
    return bytes(pdf.output())
