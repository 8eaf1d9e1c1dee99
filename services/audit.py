"""The audit trail: who did what to which record, when. Append-only by design: there is no update or delete here."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from models import AuditEvent, PortalUser
from services import clock


class AuditKind(StrEnum):
    LOGIN = 'login'
    LOGIN_FAILED = 'login_failed'
    LOGIN_LOCKED = 'login_locked'
    LOGIN_BLOCKED = 'login_blocked'
    LOGIN_INACTIVE = 'login_inactive'
    LOGOUT = 'logout'
    SESSION_EXPIRED = 'session_expired'
    PASSWORD_CHANGED = 'password_changed'
    PASSWORD_RESET = 'password_reset'
    USER_CREATED = 'user_created'
    CUSTOMER_CREATED = 'customer_created'
    CONTRACT_CREATED = 'contract_created'
    CODE_GENERATED = 'code_generated'
    CODE_REVOKED = 'code_revoked'
    DEMO_DATA_LOADED = 'demo_data_loaded'
    CODE_USED = 'code_used'
    CODE_ENTRY_BLOCKED = 'code_entry_blocked'
    EMPLOYEE_REGISTERED = 'employee_registered'
    ANTRAG_SUBMITTED = 'antrag_submitted'
    ABO_ADDRESS_CHANGED = 'abo_address_changed'
    ABO_CANCELLED = 'abo_cancelled'
    ANTRAG_APPROVED = 'antrag_approved'
    ANTRAG_REJECTED = 'antrag_rejected'
    ABO_ENDED = 'abo_ended'
    ABOS_EXPORTED = 'abos_exported'
    UPLOAD_IMPORTED = 'upload_imported'
    UPLOAD_REFUSED = 'upload_refused'
    USER_INVITED = 'user_invited'
    INVITATION_ACCEPTED = 'invitation_accepted'
    USER_ROLE_CHANGED = 'user_role_changed'
    USER_DEACTIVATED = 'user_deactivated'
    USER_REACTIVATED = 'user_reactivated'
    PASSWORD_LINK_SENT = 'password_link_sent'
    PASSWORD_LINK_USED = 'password_link_used'
    CONTRACT_STATUS_CHANGED = 'contract_status_changed'
    SECOND_FACTOR_ENROLLED = 'second_factor_enrolled'
    SECOND_FACTOR_FAILED = 'second_factor_failed'
    SECOND_FACTOR_RECOVERY_USED = 'second_factor_recovery_used'
    SECOND_FACTOR_RESET = 'second_factor_reset'
    PASSWORD_RESET_REQUESTED = 'password_reset_requested'
    TARIFF_ADDED = 'tariff_added'
    SUBSIDY_CHANGED = 'subsidy_changed'
    MONTH_CLOSED = 'month_closed'
    BILLING_EXPORTED = 'billing_exported'
    MAIL_QUEUED = 'mail_queued'
    MAIL_SENT = 'mail_sent'
    MAIL_FAILED = 'mail_failed'
    EMAIL_CONFIRMED = 'email_confirmed'
    EMPLOYEE_INVITED = 'employee_invited'
    EMPLOYEE_LINK_USED = 'employee_link_used'
    JOB_RUN = 'job_run'
    MAIL_DIGEST_CHANGED = 'mail_digest_changed'

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self, self.value)


KIND_LABELS = {
    AuditKind.LOGIN: 'Anmeldung',
    AuditKind.LOGIN_FAILED: 'Anmeldung fehlgeschlagen',
    AuditKind.LOGIN_LOCKED: 'Anmeldung gesperrt',
    AuditKind.LOGIN_BLOCKED: 'Anmeldeversuch abgewiesen',
    AuditKind.LOGIN_INACTIVE: 'Anmeldung mit deaktiviertem Zugang',
    AuditKind.LOGOUT: 'Abmeldung',
    AuditKind.SESSION_EXPIRED: 'Sitzung abgelaufen',
    AuditKind.PASSWORD_CHANGED: 'Passwort geändert',
    AuditKind.PASSWORD_RESET: 'Passwort zurückgesetzt',
    AuditKind.USER_CREATED: 'Anwender angelegt',
    AuditKind.CUSTOMER_CREATED: 'Kunde angelegt',
    AuditKind.CONTRACT_CREATED: 'Vertrag angelegt',
    AuditKind.CODE_GENERATED: 'Kundencode generiert',
    AuditKind.CODE_REVOKED: 'Kundencode widerrufen',
    AuditKind.DEMO_DATA_LOADED: 'Demodaten geladen',
    AuditKind.CODE_USED: 'Kundencode im Self-Service verwendet',
    AuditKind.CODE_ENTRY_BLOCKED: 'Kundencode-Eingabe gesperrt',
    AuditKind.EMPLOYEE_REGISTERED: 'Mitarbeiterkonto angelegt',
    AuditKind.ANTRAG_SUBMITTED: 'Antrag gestellt',
    AuditKind.ABO_ADDRESS_CHANGED: 'Anschrift im Abo geändert',
    AuditKind.ABO_CANCELLED: 'Abo gekündigt',
    AuditKind.ANTRAG_APPROVED: 'Antrag genehmigt',
    AuditKind.ANTRAG_REJECTED: 'Antrag abgelehnt',
    AuditKind.ABO_ENDED: 'Abo durch Arbeitgeber beendet',
    AuditKind.ABOS_EXPORTED: 'Abo-Liste exportiert',
    AuditKind.UPLOAD_IMPORTED: 'Massenupload importiert',
    AuditKind.UPLOAD_REFUSED: 'Massenupload abgewiesen',
    AuditKind.USER_INVITED: 'Anwender eingeladen',
    AuditKind.INVITATION_ACCEPTED: 'Einladung angenommen',
    AuditKind.USER_ROLE_CHANGED: 'Rolle geändert',
    AuditKind.USER_DEACTIVATED: 'Anwender deaktiviert',
    AuditKind.USER_REACTIVATED: 'Anwender reaktiviert',
    AuditKind.PASSWORD_LINK_SENT: 'Passwort-Link erstellt',
    AuditKind.PASSWORD_LINK_USED: 'Passwort über Link gesetzt',
    AuditKind.CONTRACT_STATUS_CHANGED: 'Vertragsstatus geändert',
    AuditKind.SECOND_FACTOR_ENROLLED: 'Zweiter Faktor eingerichtet',
    AuditKind.SECOND_FACTOR_FAILED: 'Zweiter Faktor falsch',
    AuditKind.SECOND_FACTOR_RECOVERY_USED: 'Wiederherstellungscode verwendet',
    AuditKind.SECOND_FACTOR_RESET: 'Zweiter Faktor zurückgesetzt',
    AuditKind.PASSWORD_RESET_REQUESTED: 'Passwort vergessen angefragt',
    AuditKind.TARIFF_ADDED: 'Tarif hinzugefügt',
    AuditKind.SUBSIDY_CHANGED: 'Arbeitgeberzuschuss geändert',
    AuditKind.MONTH_CLOSED: 'Abrechnungsmonat abgeschlossen',
    AuditKind.BILLING_EXPORTED: 'Abrechnung heruntergeladen',
    AuditKind.MAIL_QUEUED: 'E-Mail vorgemerkt',
    AuditKind.MAIL_SENT: 'E-Mail versendet',
    AuditKind.MAIL_FAILED: 'E-Mail nicht zustellbar',
    AuditKind.EMAIL_CONFIRMED: 'E-Mail-Adresse bestätigt',
    AuditKind.EMPLOYEE_INVITED: 'Zum Self-Service eingeladen',
    AuditKind.EMPLOYEE_LINK_USED: 'Self-Service-Passwort über Link gesetzt',
    AuditKind.JOB_RUN: 'Geplanter Auftrag ausgeführt',
    AuditKind.MAIL_DIGEST_CHANGED: 'Tagesübersicht per E-Mail geändert',
}


async def record(
    kind: AuditKind,
    *,
    actor: PortalUser | None = None,
    actor_label: str = '',
    customer_id: int | None = None,
    object_type: str = '',
    object_id: object = '',
    details: dict[str, Any] | None = None,
    client: str = '',
) -> AuditEvent:
    """Append one event. The actor's customer is the default scope, so company admins later see their own events."""
    if customer_id is None and actor is not None:
        customer_id = actor.customer_id
    return await AuditEvent.create(
        created_at=clock.now(),
        kind=kind.value,
        actor=actor,
        actor_label=(actor_label or (actor.email if actor else ''))[:254],
        customer_id=customer_id,
        object_type=object_type,
        object_id=str(object_id)[:50],
        details=details or {},
        client=client[:100],
    )
