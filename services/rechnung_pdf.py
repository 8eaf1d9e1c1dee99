"""The invoice as a file: a PDF for people (fpdf2) with the structured e-invoice German B2B invoicing requires
embedded in it (ZUGFeRD/Factur-X, profile EN 16931, made and checked against the schema drafthorse ships).

An issued invoice never changes: it is made from the run's stored lines and the number, date, issuer and recipient
stored when the month was closed, and the first file made is stored and handed out from then on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial

from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.party import TaxRegistration
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem
from drafthorse.pdf import attach_xml
from fpdf import FPDF

from models import Invoice, PortalUser
from services import abo_dates, abrechnung, audit
from services.abrechnung import Download
from services.audit import AuditKind
from services.errors import ServiceError
from services.rechnungen import Amounts, invoice_amounts
from services.settings import get_settings
from services.validation import format_euro, format_german_date

PROFILE = 'EN 16931'
SCHEMA = 'FACTUR-X_EN16931'
GUIDELINE = 'urn:cen.eu:en16931:2017'
UNIT = 'C62'  # one (a ticket month)
SEPA_TRANSFER = '58'
NO_INVOICE = 'Für diesen Vertrag und Monat gibt es keine Rechnung.'


def _euro(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal('0.01'))


def _due(invoice: Invoice, days: int) -> date:
    return invoice.issued_on + timedelta(days=days)


def invoice_xml(invoice: Invoice, amounts: Amounts, period: tuple[date, date], payment_days: int) -> bytes:
    """The Factur-X XML (CII), validated against the EN 16931 schema while it is serialised."""
    issuer, recipient = invoice.issuer, invoice.recipient
    doc = Document()
    doc.context.guideline_parameter.id = GUIDELINE
    doc.header.id = invoice.number
    doc.header.type_code = '380'
    doc.header.issue_date_time = invoice.issued_on

    seller = doc.trade.agreement.seller
    seller.name = issuer['name']
    seller.address.line_one = issuer['strasse']
    seller.address.postcode = issuer['plz']
    seller.address.city_name = issuer['ort']
    seller.address.country_id = 'DE'
    seller.electronic_address.uri_ID = ('EM', issuer['email'])
    seller.tax_registrations.add(TaxRegistration(id=('VA', issuer['ust_id'])))
    buyer = doc.trade.agreement.buyer
    buyer.id = recipient['kundennummer']
    buyer.name = recipient['firma']
    buyer.address.line_one = recipient['strasse']
    buyer.address.postcode = recipient['plz']
    buyer.address.city_name = recipient['ort']
    buyer.address.country_id = 'DE'
    doc.trade.agreement.buyer_reference = recipient['vertragsnummer']

    for index, position in enumerate(amounts.lines, start=1):
        item = LineItem()
        item.document.line_id = str(index)
        item.product.name = position.text
        item.agreement.net.amount = (_euro(position.net_cent) / position.quantity).quantize(Decimal('0.0001'))
        item.delivery.billed_quantity = (Decimal(position.quantity), UNIT)
        item.settlement.trade_tax.type_code = 'VAT'
        item.settlement.trade_tax.category_code = 'S'
        item.settlement.trade_tax.rate_applicable_percent = Decimal(amounts.vat_percent)
        item.settlement.monetary_summation.total_amount = _euro(position.net_cent)
        doc.trade.items.add(item)

    settlement = doc.trade.settlement
    settlement.currency_code = 'EUR'
    settlement.payment_reference = invoice.number
    settlement.period.start, settlement.period.end = period
    means = PaymentMeans()
    means.type_code = SEPA_TRANSFER
    means.payee_account.iban = issuer['iban']
    means.payee_institution.bic = issuer['bic']
    settlement.payment_means.add(means)
    terms = PaymentTerms()
    terms.due = _due(invoice, payment_days)
    settlement.terms.add(terms)
    tax = ApplicableTradeTax()
    tax.calculated_amount = _euro(amounts.vat_cent)
    tax.basis_amount = _euro(amounts.net_cent)
    tax.type_code = 'VAT'
    tax.category_code = 'S'
    tax.rate_applicable_percent = Decimal(amounts.vat_percent)
    settlement.trade_tax.add(tax)
    total = settlement.monetary_summation
    total.line_total = _euro(amounts.net_cent)
    total.charge_total = Decimal('0.00')
    total.allowance_total = Decimal('0.00')
    total.tax_basis_total = _euro(amounts.net_cent)
    total.tax_total = (_euro(amounts.vat_cent), 'EUR')
    total.grand_total = _euro(amounts.net_cent + amounts.vat_cent)
    total.rounding_amount = _euro(amounts.rounding_cent)
    total.due_amount = _euro(amounts.gross_cent)
    return doc.serialize(schema=SCHEMA)


class _Pdf(FPDF):
    """A4 portrait, Helvetica (WinAnsi: every German character and €), the issuer in the footer."""

    def __init__(self, issuer: dict[str, str]) -> None:
        super().__init__(format='A4')
        self.core_fonts_encoding = 'cp1252'
        self.issuer = issuer
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(True, margin=25)

    def footer(self) -> None:
        issuer = self.issuer
        self.set_y(-18)
        self.set_font('helvetica', size=7.5)
        self.set_text_color(90)
        self.cell(0, 4, _text(f'{issuer["name"]} · {issuer["strasse"]} · {issuer["plz"]} {issuer["ort"]} · '
                              f'USt-IdNr. {issuer["ust_id"]}'), align='C', new_x='LMARGIN', new_y='NEXT')
        self.cell(0, 4, _text(f'IBAN {issuer["iban"]} · BIC {issuer["bic"]} · {issuer["email"]} · Seite '
                              f'{self.page_no()}'), align='C')


def _text(value: str) -> str:
    """What the PDF font can show (a character outside Windows-1252 becomes '?', never an error)."""
    return value.encode('cp1252', 'replace').decode('cp1252')


def invoice_pdf(invoice: Invoice, amounts: Amounts, period: tuple[date, date], payment_days: int) -> bytes:
    """The page a person reads; the same figures as the XML."""
    issuer, recipient = invoice.issuer, invoice.recipient
    pdf = _Pdf(issuer)
    pdf.set_title(f'Rechnung {invoice.number}')
    pdf.set_author(issuer['name'])
    pdf.set_lang('de-DE')
    pdf.add_page()
    paragraph = partial(pdf.multi_cell, align='L')
    pdf.set_font('helvetica', size=7.5)
    pdf.set_text_color(90)
    pdf.cell(0, 4, _text(f'{issuer["name"]} · {issuer["strasse"]} · {issuer["plz"]} {issuer["ort"]}'),
             new_x='LMARGIN', new_y='NEXT')
    pdf.set_text_color(0)
    pdf.set_font('helvetica', size=10.5)
    pdf.ln(2)
    top = pdf.get_y()
    for line in (recipient['firma'], recipient['strasse'], f'{recipient["plz"]} {recipient["ort"]}'):
        pdf.cell(90, 5.5, _text(line), new_x='LMARGIN', new_y='NEXT')
    pdf.set_xy(120, top)
    details = (('Rechnungsnummer', invoice.number), ('Rechnungsdatum', format_german_date(invoice.issued_on)),
               ('Kundennummer', recipient['kundennummer']), ('Vertragsnummer', recipient['vertragsnummer']),
               ('Leistungszeitraum', f'{format_german_date(period[0])} – {format_german_date(period[1])}'))
    pdf.set_font('helvetica', size=9)
    for label, value in details:
        pdf.set_x(120)
        pdf.cell(32, 5, _text(label))
        pdf.cell(0, 5, _text(value), new_x='LMARGIN', new_y='NEXT')
    pdf.set_y(max(pdf.get_y(), top + 30) + 12)
    pdf.set_font('helvetica', 'B', 14)
    pdf.cell(0, 8, _text(f'Rechnung {invoice.number}'), new_x='LMARGIN', new_y='NEXT')
    pdf.set_font('helvetica', size=10)
    paragraph(0, 5, _text(
        f'Für das D-Ticket Job Ihrer Mitarbeitenden im {abo_dates.month_label(period[0])} (Vertrag '
        f'{recipient["vertragsnummer"]}) berechnen wir Ihnen:'), new_x='LMARGIN', new_y='NEXT')
    pdf.ln(3)
    widths = (12, 82, 18, 29, 29)
    with pdf.table(col_widths=widths, text_align=('LEFT', 'LEFT', 'RIGHT', 'RIGHT', 'RIGHT'), line_height=6,
                   first_row_as_headings=True) as table:
        table.row(('Pos.', 'Leistung', 'Anzahl', 'Einzelpreis', 'Betrag'))
        for index, position in enumerate(amounts.lines, start=1):
            table.row((str(index), _text(position.text), str(position.quantity),
                       format_euro(position.unit_gross_cent), format_euro(position.gross_cent)))
    pdf.ln(3)
    sums = [('Nettobetrag', amounts.net_cent), (f'Umsatzsteuer {amounts.vat_percent} %', amounts.vat_cent)]
    if amounts.rounding_cent:
        sums.append(('Rundung', amounts.rounding_cent))
    sums.append(('Rechnungsbetrag', amounts.gross_cent))
    for label, cents in sums:
        bold = label == 'Rechnungsbetrag'
        pdf.set_font('helvetica', 'B' if bold else '', 10.5 if bold else 10)
        pdf.set_x(20 + sum(widths[:2]))
        pdf.cell(sum(widths[2:4]), 6, _text(label))
        pdf.cell(widths[4], 6, format_euro(cents), align='R', new_x='LMARGIN', new_y='NEXT')
    pdf.ln(4)
    pdf.set_font('helvetica', size=9)
    paragraph(0, 4.8, _text(
        f'Einzelpreis: Ticketpreis abzüglich {format_euro(amounts.rabatt_cent)} Rabatt des Verkehrsunternehmens '
        f'(Preis insgesamt {format_euro(amounts.preis_cent)}); alle Preise enthalten die Umsatzsteuer. Zur '
        f'Information: Der Rechnungsbetrag setzt sich zusammen aus Ihrem Arbeitgeberzuschuss von '
        f'{format_euro(amounts.zuschuss_cent)} (steuerfrei nach § 3 Nr. 15 EStG) und den Eigenanteilen Ihrer '
        f'Mitarbeitenden von {format_euro(amounts.eigenanteil_cent)}, die Sie über die Lohnabrechnung einbehalten '
        '(Datei „Lohnabrechnung“ im Portal). Die Teilnehmenden stehen in der Datei „Abrechnung“.'),
        new_x='LMARGIN', new_y='NEXT')
    pdf.ln(3)
    pdf.set_font('helvetica', size=10)
    paragraph(0, 5, _text(
        f'Bitte überweisen Sie den Rechnungsbetrag bis zum {format_german_date(_due(invoice, payment_days))} auf '
        f'das Konto IBAN {issuer["iban"]} (BIC {issuer["bic"]}) mit dem Verwendungszweck {invoice.number}.'),
        new_x='LMARGIN', new_y='NEXT')
    pdf.ln(2)
    pdf.set_font('helvetica', size=8)
    pdf.set_text_color(90)
    paragraph(0, 4, 'Diese Rechnung enthält die strukturierte E-Rechnung (ZUGFeRD/Factur-X, Profil EN 16931) '
                   'als eingebettete XML-Datei.')
    issued = invoice.issued_on
    pdf.set_creation_date(datetime(issued.year, issued.month, issued.day, tzinfo=UTC))
    return bytes(pdf.output())


def render(invoice: Invoice, amounts: Amounts, month: date, payment_days: int) -> bytes:
    """The PDF with the XML attached (Factur-X metadata, profile EN 16931)."""
    period = (month, abo_dates.last_of_month(month))
    xml = invoice_xml(invoice, amounts, period, payment_days)
    return attach_xml(invoice_pdf(invoice, amounts, period, payment_days), xml, level=PROFILE,
                      metadata={'author': invoice.issuer['name'], 'title': f'Rechnung {invoice.number}',
                                'subject': f'Rechnung {invoice.number} vom {format_german_date(invoice.issued_on)}',
                                'keywords': 'Factur-X, ZUGFeRD, Rechnung', 'creator': 'Firmenportal D-Ticket Job',
                                'producer': 'Firmenportal D-Ticket Job'}, lang='de-DE')


async def invoice_file(actor: PortalUser, contract_id: int, month: date, *, client: str = '') -> Download:
    """The invoice PDF of a "(Rechnung)" contract's closed month, for whoever may see the contract's billing."""
    found = await abrechnung.statement(actor, contract_id, month)
    if found.run is None:
        raise ServiceError('Die Rechnung gibt es erst, wenn der Monat abgeschlossen ist.')
    invoice = await Invoice.get_or_none(run_id=found.run.id, contract_id=found.contract.id)
    if invoice is None:
        raise ServiceError(NO_INVOICE)
    if invoice.pdf is None:
        amounts = invoice_amounts(found.lines, invoice.vat_percent)
        if (amounts.net_cent, amounts.vat_cent, amounts.gross_cent) != (
                invoice.net_cent, invoice.vat_cent, invoice.gross_cent):
            raise ServiceError('Die Rechnung passt nicht zu den gespeicherten Zeilen; bitte wenden Sie sich an den '
                               'Kundenservice.')
        content = render(invoice, amounts, found.monat, get_settings().invoice_payment_days)
        # The first file made is the invoice: a second made at the same moment is dropped.
        await Invoice.filter(id=invoice.id, pdf__isnull=True).update(pdf=content)
        await invoice.refresh_from_db(fields=['pdf'])
    await audit.record(AuditKind.BILLING_EXPORTED, actor=actor, customer_id=found.contract.customer_id,
                       object_type='invoice', object_id=invoice.id,
                       details={'monat': found.monat.isoformat(), 'datei': 'rechnung', 'nummer': invoice.number},
                       client=client)
    assert invoice.pdf is not None  # written just above when it was missing
    return Download(bytes(invoice.pdf), f'Rechnung_{invoice.number}_{found.contract.vertragsnummer}.pdf')
