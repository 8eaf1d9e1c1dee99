"""E-mail through the outbox: `enqueue` renders a message from its templates (services/mail_templates/, Jinja2, plain
text + HTML, German) and writes it into the table `outbox_mail` inside the caller's transaction, with an audit event
that names the kind, the recipient and the subject but never the body (it may hold a one-time link). If the change is
rolled back, so is its mail: nothing is ever sent about something that did not happen. services/mail_worker.py
delivers the rows; staff see their state in „Verwaltung“ (`delivery_overview`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models import MailStatus, OutboxMail, PortalUser
from services import audit, clock, permissions
from services.audit import AuditKind
from services.errors import PermissionDenied
from services.permissions import Action
from services.settings import get_settings
from services.validation import format_euro, format_german_date, format_german_datetime

TEMPLATE_DIR = Path(__file__).resolve().parent / 'mail_templates'
RECENT_LIMIT = 20


def _environment(autoescape: bool) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR), autoescape=autoescape, undefined=StrictUndefined,
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
    )
    environment.filters.update(datum=format_german_date, zeitpunkt=format_german_datetime, euro=format_euro)
    return environment


# Text is never escaped (a name with '&' stays readable); HTML always is (a name cannot inject markup).
_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def render(kind: str, context: dict[str, Any]) -> RenderedMail:
    """`<kind>.txt.j2` gives the subject (its block `subject`) and the text, `<kind>.html.j2` the HTML part."""
    text_template = _TEXT.get_template(f'{kind}.txt.j2')
    subject = ''.join(text_template.blocks['subject'](text_template.new_context(context))).strip()
    return RenderedMail(
        subject=' '.join(subject.split()), text=text_template.render(context),
        html=_HTML.get_template(f'{kind}.html.j2').render(context),
    )


async def enqueue(
    kind: str,
    to: str,
    context: dict[str, Any],
    *,
    customer_id: int | None = None,
    object_type: str = '',
    object_id: object = '',
    actor: PortalUser | None = None,
    actor_label: str = '',
    client: str = '',
) -> OutboxMail:
    """Write one mail into the outbox, in the caller's transaction (or its own), and audit it without its body."""
    rendered = render(kind, context)
    now = clock.now()
    async with in_transaction():
        queued = await OutboxMail.create(
            kind=kind, recipient=to, subject=rendered.subject[:300], body_text=rendered.text,
            body_html=rendered.html, due_at=now, created_at=now, customer_id=customer_id, object_type=object_type,
            object_id=str(object_id)[:40],
        )
        await audit.record(
            AuditKind.MAIL_QUEUED, actor=actor, actor_label=actor_label, customer_id=customer_id,
            object_type='mail', object_id=queued.id,
            details={'kind': kind, 'to': to, 'subject': queued.subject,
                     **({'about': f'{object_type} {object_id}'} if object_type else {})},
            client=client,
        )
    return queued


def delivery_configured() -> bool:
    """Without SMTP_HOST mails wait in the outbox (local development); staff see that in the overview."""
    return bool(get_settings().smtp_host)


@dataclass(frozen=True)
class DeliveryOverview:
    configured: bool
    counts: dict[MailStatus, int]
    recent: list[OutboxMail]  # the newest mails not yet delivered: waiting and given up


async def delivery_overview(actor: PortalUser) -> DeliveryOverview:
    """E-Mail-Versand for staff: how many mails wait, went out or were given up, and the newest undelivered ones
    (recipient, subject, attempts, last error), bounded to RECENT_LIMIT rows."""
    permissions.require_role(actor, Action.VIEW_MAIL_STATUS)
    rows = await OutboxMail.all().group_by('status').annotate(count=Count('id')).values('status', 'count')
    counts = {status: 0 for status in MailStatus}
    counts.update({MailStatus(row['status']): row['count'] for row in rows})
    recent = await OutboxMail.filter(status__in=[MailStatus.WARTEND, MailStatus.FEHLGESCHLAGEN]) \
        .order_by('-created_at', '-id').limit(RECENT_LIMIT)
    return DeliveryOverview(configured=delivery_configured(), counts=counts, recent=recent)


async def set_digest(actor: PortalUser, enabled: bool) -> PortalUser:
    """Profil → „Tagesübersicht per E-Mail“: company users who may decide Anträge opt in or out for themselves."""
    if not may_get_digest(actor):
        raise PermissionDenied('Die Tagesübersicht erhalten Administratoren und die Sachbearbeitung einer Firma.')
    actor.mail_digest = enabled
    await actor.save(update_fields=['mail_digest'])
    await audit.record(AuditKind.MAIL_DIGEST_CHANGED, actor=actor, object_type='user', object_id=actor.id,
                       details={'enabled': enabled})
    return actor


def may_get_digest(user: PortalUser) -> bool:
    return user.customer_id is not None and permissions.role_may(user, Action.DECIDE_ANTRAG)
