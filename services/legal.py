"""The legal and help texts (Impressum, Datenschutzerklärung, Erklärung zur Barrierefreiheit, Hilfe): Markdown files,
so a transit company puts its own without touching code.

The defaults live in legal/ of the repository; a file of the same name in LEGAL_DIR replaces one of them. Both may
use `$name` placeholders, filled from the settings and from the rules the code really applies (cut-off day, session
times, how long throttle entries and links live), so the Datenschutzerklärung cannot drift from what the portal does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from services import anwender, login_throttle
from services.settings import PROJECT_DIR, get_settings

DEFAULT_DIR = PROJECT_DIR / 'legal'
MAX_BYTES = 200_000  # an operator's file, read on every view: a legal text is a few KB


@dataclass(frozen=True)
class LegalPage:
    slug: str
    title: str

    @property
    def path(self) -> str:
        return f'/{self.slug}'


PAGES = (
    LegalPage('impressum', 'Impressum'),
    LegalPage('datenschutz', 'Datenschutzerklärung'),
    LegalPage('barrierefreiheit', 'Erklärung zur Barrierefreiheit'),
    LegalPage('hilfe', 'Hilfe und häufige Fragen'),
)
_LINK = re.compile(r'\[([^\]]+)\]\(([^)\s]+)\)')
_AUTOLINK = re.compile(r'<((?:https?://|mailto:)[^>\s]+|[^@>\s]+@[^>\s]+)>')


def page(slug: str) -> LegalPage:
    return next(entry for entry in PAGES if entry.slug == slug)


def values() -> dict[str, str]:
    """What the placeholders stand for: the operator from the settings, the periods from the code."""
    settings = get_settings()
    return {
        'operator_name': settings.invoice_issuer_name, 'operator_street': settings.invoice_issuer_street,
        'operator_plz': settings.invoice_issuer_plz, 'operator_city': settings.invoice_issuer_city,
        'operator_email': settings.invoice_issuer_email, 'operator_vat_id': settings.invoice_issuer_vat_id,
        'accessibility_contact': settings.accessibility_contact, 'cutoff_day': str(settings.cutoff_day),
        'session_idle_minutes': str(settings.session_idle_minutes),
        'session_absolute_hours': str(settings.session_absolute_hours),
        'throttle_retention_days': str(login_throttle.RETENTION.days),
        'invitation_hours': str(int(anwender.INVITATION_VALIDITY.total_seconds() // 3600)),
        'password_link_hours': str(int(anwender.PASSWORD_LINK_VALIDITY.total_seconds() // 3600)),
        'kiosk_done_seconds': str(settings.kiosk_done_seconds),
    }


def source(slug: str) -> Path:
    """The operator's file when LEGAL_DIR has one, else the default."""
    name = f'{page(slug).slug}.md'
    override = get_settings().legal_dir
    if override is not None and (override / name).is_file():
        return override / name
    return DEFAULT_DIR / name


def text(slug: str) -> str:
    """The page's Markdown with the placeholders filled (an unknown `$name` stays as written)."""
    with source(slug).open(encoding='utf-8') as handle:
        raw = handle.read(MAX_BYTES)
    return Template(raw).safe_substitute(values())


def without_links(markdown: str) -> str:
    """For the kiosk, which nobody may leave: `[text](address)` becomes `text (address)`, `<address>` plain text."""
    shown = _LINK.sub(lambda match: f'{match[1]} ({match[2].removeprefix("mailto:")})', markdown)
    return _AUTOLINK.sub(lambda match: match[1].removeprefix('mailto:'), shown)
