"""The employee's way to a D-Ticket Job: Kundencode → Antrag → confirmation. Used by /self-service and the kiosk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from nicegui import ui

from models import Anrede, Antrag, AntragStatus, Produktangebot, SepaMandate, Ticketart
from pages.forms import REFUSED, error_banner, password_field, run_form, show_error
from pages.language import _, date_text, euro_text, month_text, tr
from services import abo_dates, antraege, clock, code_entry, kundencode, sepa, zuschuesse
from services.antraege import ApplicationInput
from services.code_entry import CodeEntry
from services.errors import ServiceError, ValidationError
from services.i18n import N_
from services.passwords import MIN_LENGTH
from services.settings import get_settings
from services.tarife import current as current_tariffs
from services.validation import format_german_date

PRIVACY_NOTICE = N_(
    'Wir verarbeiten Ihre Angaben nur, um Ihr D-Ticket Job einzurichten und abzurechnen: Ihr Arbeitgeber sieht Name, '
    'Personalnummer, Startmonat und Ticketart, um Ihren Antrag zu bestätigen; das Verkehrsunternehmen stellt damit das '
    'Ticket aus. Die Daten werden gelöscht, wenn sie dafür und für gesetzliche Aufbewahrungsfristen nicht mehr '
    'gebraucht werden.'
)


class ApplicationFlow:
    """Draws itself into the current container. `kiosk` switches off autofill and uses large touch targets.
    `client` and `device` (the address and the browser's or kiosk's id) are what the throttles count.
    `on_submitted`, when given, takes the screen after a sent Antrag instead of the full confirmation (the kiosk shows
    only the reference number, so the next person sees nothing of this one)."""

    def __init__(self, client: str, *, device: str = '', initial_code: str = '', kiosk: bool = False,
                 on_submitted: Callable[[Antrag], None] | None = None) -> None:
        self.client = client
        self.device = device
        self.kiosk = kiosk
        self.on_submitted = on_submitted
        self.entry: CodeEntry | None = None
        self.root = ui.column().classes('w-full gap-4')
        self.show_code_step(initial_code)

    def _props(self, extra: str = '') -> str:
        """Field props; on the kiosk no autofill (the next person must not see this one's data) and larger type."""
        if self.kiosk:
            kept = ' '.join(part for part in extra.split() if not part.startswith('autocomplete='))
            return f'outlined autocomplete=off input-class="text-h6" {kept}'.strip()
        return f'outlined {extra}'.strip()

    # --- step 1: the Kundencode ------------------------------------------------------------------------------------

    def show_code_step(self, code: str = '') -> None:
        self.root.clear()
        with self.root, ui.card().classes('portal-card w-full q-pa-lg gap-3'):
            ui.label(_('Kundencode eingeben')).classes('text-h6').props('role=heading aria-level=2')
            ui.label(_('Den Kundencode erhalten Sie von Ihrem Arbeitgeber, z. B. ABCD-EFGH-JKMN-PQRS.')) \
                .classes('muted')
            self.error = error_banner()
            with ui.row().classes('w-full items-start gap-3'):
                self.code_input = ui.input(_('Kundencode'), value=code).props(
                    self._props('maxlength=40 autocapitalize=characters spellcheck=false')
                ).classes('col font-mono').style('min-width: 12rem').mark('kundencode-eingabe')
                ui.button(_('Weiter'), icon='arrow_forward', on_click=self.check_code).props(
                    'unelevated no-caps size=lg' if self.kiosk else 'unelevated no-caps padding="md lg"'
                )
            self.code_input.on('keydown.enter', self.check_code)
        if code:
            ui.timer(0, self.check_code, once=True)

    async def check_code(self) -> None:
        entry = await code_entry.enter_code(self.code_input.value or '', client=self.client, device=self.device)
        if self.root.is_deleted:  # the kiosk reset the screen during the check: its error banner is gone
            return
        if not entry.ok:
            show_error(self.error, tr(entry.message))
            return
        self.entry = entry
        await self.show_form_step()

    # --- step 2: the Antrag ----------------------------------------------------------------------------------------

    async def show_form_step(self) -> None:
        assert self.entry is not None and self.entry.check is not None
        contract = self.entry.check.contract
        code = self.entry.check.code
        assert contract is not None and code is not None
        today = clock.today()
        start = abo_dates.first_open_start_month(today)
        tariff = (await current_tariffs()).on(start)
        zuschuss = (await zuschuesse.schedule_of(contract)).on(start)  # the subsidy of the first possible month
        if self.root.is_deleted:
            return
        self.root.clear()
        with self.root:
            with ui.card().classes('portal-card w-full q-pa-lg bg-blue-1').props('flat'):
                with ui.row().classes('items-center gap-2'):
                    ui.icon('verified', color='positive', size='sm')
                    ui.label(_('Kundencode gültig')).classes('text-subtitle1 text-weight-medium')
                ui.label(_('Ihr Arbeitgeber: {name}', name=contract.customer.name)).classes('text-body1')
                ui.label(_('Produktangebot: {product}', product=tr(contract.produktangebot.value))) \
                    .classes('text-body1')
                with ui.row().classes('items-baseline gap-2 q-mt-sm'):
                    ui.label(_('Ihr Eigenanteil:')).classes('text-body1')
                    ui.label(euro_text(tariff.eigenanteil_cent(zuschuss))).classes(
                        'text-h5 text-weight-bold').style('color: #0A3A66').mark('eigenanteil')
                    ui.label(_('monatlich')).classes('text-body1')
                ui.label(_(
                    'Deutschlandticket {price}, abzüglich Zuschuss Ihres Arbeitgebers ({subsidy}) und '
                    'Jobticket-Rabatt', price=euro_text(tariff.preis_cent), subsidy=euro_text(zuschuss),
                )).classes('text-body2 muted')
                ui.button(_('Anderen Kundencode eingeben'), on_click=lambda: self.show_code_step()).props(
                    'flat dense no-caps'
                )
            with ui.card().classes('portal-card w-full q-pa-lg gap-3'):
                ui.label(_('Antrag auf das D-Ticket Job')).classes('text-h6').props('role=heading aria-level=2')
                self.form_error = error_banner()
                self._form_fields(today)
                if contract.produktangebot == Produktangebot.SEPA:
                    self._mandate_fields()
                ui.button(_('Antrag absenden'), icon='send', on_click=self.submit).props(
                    f'unelevated no-caps {"size=lg" if self.kiosk else ""}'
                ).classes('q-mt-sm')

    def _form_fields(self, today: date) -> None:
        months = {format_german_date(month): month_text(month)  # the value the service reads stays German
                  for month in abo_dates.open_start_months(today)}
        text = 'w-full'
        self.fields: dict[str, ui.element] = {}
        self.fields['anrede'] = ui.select({value.value: tr(value.value) for value in Anrede}, label=_('Anrede')).props(
            self._props()).classes(text)
        with ui.row().classes('w-full gap-3'):
            self.fields['vorname'] = ui.input(_('Vorname')).props(
                self._props('maxlength=100 autocomplete=given-name')).classes('col-grow').style('min-width: 14rem')
            self.fields['nachname'] = ui.input(_('Nachname')).props(
                self._props('maxlength=100 autocomplete=family-name')).classes('col-grow').style('min-width: 14rem')
        self.fields['geburtsdatum'] = ui.input(_('Geburtsdatum')).props(
            self._props('mask="##.##.####" autocomplete=bday')).style('width: 14rem')
        self.fields['geburtsdatum'].props['hint'] = _('TT.MM.JJJJ')
        self.fields['email'] = ui.input(_('E-Mail-Adresse')).props(
            self._props('type=email maxlength=254 autocomplete=email')).classes(text)
        self.fields['strasse'] = ui.input(_('Straße und Hausnummer')).props(
            self._props('maxlength=200 autocomplete=street-address')).classes(text)
        with ui.row().classes('w-full gap-3'):
            self.fields['plz'] = ui.input(_('PLZ')).props(
                self._props('maxlength=5 inputmode=numeric autocomplete=postal-code')).style('width: 8rem')
            self.fields['ort'] = ui.input(_('Ort')).props(
                self._props('maxlength=100 autocomplete=address-level2')).classes('col-grow').style('min-width: 10rem')
        self.fields['personalnummer'] = ui.input(_('Personalnummer (optional)')).props(
            self._props('maxlength=50')).classes(text)
        self.fields['startmonat'] = ui.select(months, label=_('Startmonat'), value=next(iter(months))).props(
            self._props()).classes(text)
        ui.label(_('Anträge, die bis zum {day}. eines Monats vollständig sind, gelten ab dem Folgemonat.',
                   day=get_settings().cutoff_day)).classes('text-caption muted')
        ui.label(_('Ticketart')).classes('text-body2 muted q-mt-sm')
        self.fields['ticketart'] = ui.radio({value.value: tr(value.value) for value in Ticketart},
                                            value=Ticketart.CHIPKARTE.value) \
            .props('inline' + (' size=lg' if self.kiosk else ''))
        self.fields['ticketart'].props['aria-label'] = _('Ticketart')
        ui.label(_('Zugang zu „Meine Abos“')).classes('text-subtitle2 q-mt-md')
        ui.label(_('Mit Ihrer E-Mail-Adresse und diesem Passwort sehen Sie später den Stand Ihres Antrags. Haben Sie '
                   'dort schon ein Konto, geben Sie dessen Passwort ein.')).classes('muted text-body2')
        new_password = 'off' if self.kiosk else 'new-password'
        self.fields['password'] = password_field(_('Passwort'), new_password,
                                                 hint=_('Mindestens {count} Zeichen', count=MIN_LENGTH))
        self.fields['password_confirmation'] = password_field(_('Passwort wiederholen'), new_password)
        with ui.expansion(_('Datenschutzhinweise')).classes('w-full').props(
                'dense header-class="q-px-none text-primary"'):
            ui.label(tr(PRIVACY_NOTICE)).classes('text-body2')
        self.fields['consent'] = ui.checkbox(_('Ich habe die Datenschutzhinweise gelesen und bin einverstanden.'))
        self.consent_error = ui.label().classes('text-negative text-caption').props('role=alert')

    def _mandate_fields(self) -> None:
        """The SEPA mandate: who pays (may be someone else than the ticket holder), the IBAN, the mandate text."""
        ui.label(_('SEPA-Lastschriftmandat')).classes('text-subtitle2 q-mt-md')
        ui.label(_('Ihr Eigenanteil wird monatlich per Lastschrift eingezogen. Kontoinhaber kann auch eine andere '
                   'Person sein, die das Mandat erteilt.')).classes('muted text-body2')
        self.fields['kontoinhaber'] = ui.input(_('Kontoinhaber')).props(
            self._props('maxlength=70 autocomplete=cc-name')).classes('w-full')
        self.fields['iban'] = ui.input(_('IBAN')).props(
            self._props('maxlength=42 autocapitalize=characters spellcheck=false')).classes('w-full font-mono')
        self.fields['iban'].props['hint'] = _('z. B. DE89 3704 0044 0532 0130 00')
        # The mandate is agreed and stored in German, word for word: an English page shows it so (lang=de).
        mandate = ui.label(sepa.mandate_text()).classes('text-body2').mark('mandatstext')
        mandate.props['lang'] = 'de'
        self.fields[sepa.CONSENT_FIELD] = ui.checkbox(_('Ich erteile das SEPA-Lastschriftmandat.'))
        self.mandate_error = ui.label().classes('text-negative text-caption').props('role=alert')

    def _value(self, name: str) -> str:
        field = self.fields.get(name)
        return str(field.value or '') if field is not None else ''  # type: ignore[attr-defined]

    def _mark_checkboxes(self, error: ServiceError) -> None:
        """A checkbox has no place for a message: its own label under it takes it; the banner then asks to check the
        marked fields rather than repeating their messages."""
        if not isinstance(error, ValidationError):
            return
        self.consent_error.text = tr(error.errors.get('consent', ''))
        if sepa.CONSENT_FIELD in self.fields:
            self.mandate_error.text = tr(error.errors.get(sepa.CONSENT_FIELD, ''))
        show_error(self.form_error, _('Bitte prüfen Sie die markierten Angaben.'))

    async def submit(self) -> None:
        assert self.entry is not None and self.entry.check is not None
        self.consent_error.text = ''
        data = ApplicationInput(**{name: self._value(name) for name in ApplicationInput.__dataclass_fields__})
        antrag = await run_form(self.fields, antraege.submit_application(
            self.entry.check, data, consent=bool(self.fields['consent'].value),  # type: ignore[attr-defined]
            password=self._value('password'), password_confirmation=self._value('password_confirmation'),
            mandate_consent=bool(getattr(self.fields.get(sepa.CONSENT_FIELD), 'value', False)),
            client=self.client, device=self.device,
        ), banner=self.form_error, on_refused=self._mark_checkboxes)
        if antrag is REFUSED:
            return
        if self.root.is_deleted:  # the screen was reset while the Antrag was sent (kiosk)
            return
        if self.on_submitted is not None:
            self.on_submitted(antrag)
        else:
            await self.show_confirmation(antrag)

    # --- step 3: the confirmation ----------------------------------------------------------------------------------

    async def show_confirmation(self, antrag: Antrag) -> None:
        assert self.entry is not None and self.entry.check is not None and self.entry.check.contract is not None
        contract = self.entry.check.contract
        self.root.clear()
        with self.root, ui.card().classes('portal-card w-full q-pa-lg gap-3'):
            with ui.row().classes('items-center no-wrap gap-2'):
                ui.icon('check_circle', color='positive', size='md')
                ui.label(_('Vielen Dank! Ihr Antrag ist eingegangen.')).classes('text-h6').props(
                    'role=heading aria-level=2')
            ui.label(_('Ihre Antragsnummer: {reference}', reference=antrag.reference)) \
                .classes('text-subtitle1 text-weight-medium').mark('reference')
            if antrag.status == AntragStatus.UNBESTAETIGT:
                ui.label(_('Bitte bestätigen Sie Ihre E-Mail-Adresse: Wir haben Ihnen einen Link an {email} '
                           'geschickt. Erst dann geht Ihr Antrag an {employer}.', email=antrag.email,
                           employer=contract.customer.name)).classes(
                    'text-body2 q-pa-sm rounded-borders bg-blue-1').props('role=status')
            else:
                ui.label(_('{employer} prüft Ihren Antrag. Den Stand sehen Sie unter „Meine Abos“.',
                           employer=contract.customer.name)) \
                    .classes('muted')
            rows = [
                (_('Arbeitgeber'), contract.customer.name), (_('Produktangebot'), tr(contract.produktangebot.value)),
                (_('Name'), f'{tr(antrag.anrede.value)} {antrag.vorname} {antrag.nachname}'),
                (_('Geburtsdatum'), date_text(antrag.geburtsdatum)), (_('E-Mail-Adresse'), antrag.email),
                (_('Anschrift'), f'{antrag.strasse}, {antrag.plz} {antrag.ort}'),
                (_('Personalnummer'), antrag.personalnummer or '–'),
                (_('Startmonat'), month_text(antrag.startmonat)), (_('Ticketart'), tr(antrag.ticketart.value)),
                (_('Status'), tr(antrag.status.value)),
            ]
            if mandate := await SepaMandate.get_or_none(antrag_id=antrag.id):
                rows += [(_('Kontoinhaber'), mandate.kontoinhaber), (_('IBAN'), sepa.shown_iban(None, mandate.iban)),
                         (_('Mandatsreferenz'), mandate.reference)]
            with ui.grid(columns='auto 1fr').classes('w-full gap-x-6 gap-y-1 text-body2'):
                for label, value in rows:
                    ui.label(label).classes('muted')
                    ui.label(value).classes('break-words')
            self.summary_code = kundencode.format_code(self.entry.check.code.code) if self.entry.check.code else ''
