"""Who may do what: the one permission matrix of the portal, asked by every service and, for hiding, by the pages.

A company user acts only on their own company's records (the same-company rule); a role that may
`VIEW_ALL_CUSTOMERS` (transit staff) acts on every company. A role missing from an action's set may not do it
anywhere; a deactivated user, or a role the matrix does not name, may do nothing and sees nothing.

Services enforce with `require` (one record's company) or `require_role` plus `scoped` (a list): `scoped` is the one
place that restricts a company-data query to the actor's company. Pages only ask `role_may`/`may` to hide what would
be refused anyway.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from models import (
    Abo,
    Antrag,
    AuditEvent,
    BillingLine,
    Contract,
    Customer,
    Kundencode,
    PortalUser,
    Role,
    SubsidyChange,
    Upload,
)
from services.errors import PermissionDenied

M = TypeVar('M', bound=Model)


class Action(StrEnum):
    # Every company's records (staff)
    VIEW_ALL_CUSTOMERS = 'view_all_customers'  # pick any customer by Kundennummer, the newest customers
    MANAGE_CUSTOMERS = 'manage_customers'  # Verwaltung: create a customer with its contract and first administrator
    CREATE_CONTRACT = 'create_contract'
    CHANGE_CONTRACT_STATUS = 'change_contract_status'
    MANAGE_TARIFFS = 'manage_tariffs'  # the dated Deutschlandticket prices (page „Tarife“)
    CLOSE_MONTH = 'close_month'  # the Abrechnungslauf: a month becomes a stored snapshot
    VIEW_MONTH_OVERVIEW = 'view_month_overview'  # the month's figures across every customer
    RESET_SECOND_FACTOR = 'reset_second_factor'  # a person's lost phone and recovery codes
    VIEW_MAIL_STATUS = 'view_mail_status'  # the outbox: mails waiting, sent, given up (Verwaltung)
    # One company's records
    VIEW_DASHBOARD = 'view_dashboard'
    VIEW_CONTRACTS = 'view_contracts'  # Vertragsverwaltung, Infos and the current Kundencode
    GENERATE_CODE = 'generate_code'
    REVOKE_CODE = 'revoke_code'
    VIEW_ANTRAEGE = 'view_antraege'
    DECIDE_ANTRAG = 'decide_antrag'
    VIEW_ABOS = 'view_abos'
    END_ABO = 'end_abo'
    EXPORT_ABOS = 'export_abos'
    MASSENUPLOAD = 'massenupload'
    VIEW_UPLOADS = 'view_uploads'  # the Massenupload history
    LIST_USERS = 'list_users'
    INVITE_USER = 'invite_user'
    CHANGE_ROLE = 'change_role'
    DEACTIVATE_USER = 'deactivate_user'
    REACTIVATE_USER = 'reactivate_user'
    SEND_PASSWORD_LINK = 'send_password_link'
    VIEW_AUDIT_LOG = 'view_audit_log'
    VIEW_BILLING = 'view_billing'  # Abrechnung of a contract's month and its files (statement, payroll)
    CHANGE_SUBSIDY = 'change_subsidy'  # the Arbeitgeberzuschuss from a future month on


_EVERYONE = frozenset({Role.ADMIN, Role.CLERK, Role.READONLY, Role.STAFF})
_DECIDERS = frozenset({Role.ADMIN, Role.CLERK, Role.STAFF})
_ADMINS = frozenset({Role.ADMIN, Role.STAFF})
_STAFF = frozenset({Role.STAFF})

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.VIEW_ALL_CUSTOMERS: _STAFF,
    Action.MANAGE_CUSTOMERS: _STAFF,
    Action.CREATE_CONTRACT: _STAFF,
    Action.CHANGE_CONTRACT_STATUS: _STAFF,
    Action.MANAGE_TARIFFS: _STAFF,
    Action.CLOSE_MONTH: _STAFF,
    Action.VIEW_MONTH_OVERVIEW: _STAFF,
    Action.RESET_SECOND_FACTOR: _STAFF,
    Action.VIEW_MAIL_STATUS: _STAFF,
    Action.VIEW_DASHBOARD: _EVERYONE,
    Action.VIEW_CONTRACTS: _EVERYONE,
    Action.GENERATE_CODE: _ADMINS,
    Action.REVOKE_CODE: _ADMINS,
    Action.VIEW_ANTRAEGE: _EVERYONE,
    Action.DECIDE_ANTRAG: _DECIDERS,
    Action.VIEW_ABOS: _EVERYONE,
    Action.END_ABO: _DECIDERS,
    Action.EXPORT_ABOS: _EVERYONE,
    Action.MASSENUPLOAD: _DECIDERS,
    Action.VIEW_UPLOADS: _EVERYONE,
    Action.LIST_USERS: _EVERYONE,
    Action.INVITE_USER: _ADMINS,
    Action.CHANGE_ROLE: _ADMINS,
    Action.DEACTIVATE_USER: _ADMINS,
    Action.REACTIVATE_USER: _ADMINS,
    Action.SEND_PASSWORD_LINK: _ADMINS,
    Action.VIEW_AUDIT_LOG: _ADMINS,
    Action.VIEW_BILLING: _DECIDERS,
    Action.CHANGE_SUBSIDY: _ADMINS,
}
KNOWN_ROLES = frozenset().union(*PERMISSIONS.values())

DENIED = 'Dazu fehlt Ihnen die Berechtigung.'
_MANAGE_USERS_DENIED = 'Nur Administratoren Ihrer Firma können Anwender verwalten.'
DENIED_MESSAGES: dict[Action, str] = {
    Action.GENERATE_CODE: 'Nur Administratoren Ihrer Firma können einen Kundencode generieren.',
    Action.REVOKE_CODE: 'Nur Administratoren Ihrer Firma können einen Kundencode widerrufen.',
    Action.DECIDE_ANTRAG: 'Nur Administratoren und Sachbearbeitung Ihrer Firma können Anträge entscheiden.',
    Action.END_ABO: 'Nur Administratoren und Sachbearbeitung Ihrer Firma können Abos beenden.',
    Action.MASSENUPLOAD: 'Massenuploads können nur Administratoren und die Sachbearbeitung Ihrer Firma durchführen.',
    Action.INVITE_USER: _MANAGE_USERS_DENIED,
    Action.CHANGE_ROLE: _MANAGE_USERS_DENIED,
    Action.DEACTIVATE_USER: _MANAGE_USERS_DENIED,
    Action.REACTIVATE_USER: _MANAGE_USERS_DENIED,
    Action.SEND_PASSWORD_LINK: _MANAGE_USERS_DENIED,
    Action.VIEW_BILLING: 'Die Abrechnung sehen nur Administratoren und die Sachbearbeitung Ihrer Firma.',
    Action.CHANGE_SUBSIDY: 'Nur Administratoren Ihrer Firma können den Arbeitgeberzuschuss ändern.',
    Action.MANAGE_TARIFFS: 'Tarife pflegt nur das Verkehrsunternehmen.',
    Action.CLOSE_MONTH: 'Abrechnungsmonate schließt nur das Verkehrsunternehmen ab.',
}

# How each kind of company data reaches its company: the filter `scoped` adds for a company user.
COMPANY_PATHS: dict[type[Model], str] = {
    Customer: 'id',
    Contract: 'customer_id',
    Kundencode: 'contract__customer_id',
    Antrag: 'contract__customer_id',
    Abo: 'contract__customer_id',
    Upload: 'contract__customer_id',
    SubsidyChange: 'contract__customer_id',
    BillingLine: 'contract__customer_id',
    PortalUser: 'customer_id',
    AuditEvent: 'customer_id',
}


def role_may(user: PortalUser, action: Action) -> bool:
    """The role part alone: whether the user may do this anywhere (what a page may offer at all)."""
    return user.is_active and user.role in PERMISSIONS[action]


def is_company_role(role: Role | str) -> bool:
    """Company roles belong to exactly one customer; roles that act on every customer (staff) belong to none."""
    return role not in PERMISSIONS[Action.VIEW_ALL_CUSTOMERS]


COMPANY_ROLES = tuple(role for role in Role if is_company_role(role))


def company_roles_that_may(action: Action) -> frozenset[Role]:
    return frozenset(role for role in PERMISSIONS[action] if is_company_role(role))


def may(user: PortalUser, action: Action, customer_id: int | None) -> bool:
    """The role may do it, and the record belongs to the user's own company (staff: to any company)."""
    if not role_may(user, action):
        return False
    own = user.customer_id
    return role_may(user, Action.VIEW_ALL_CUSTOMERS) or (customer_id is not None and own == customer_id)


def denied_message(action: Action) -> str:
    return DENIED_MESSAGES.get(action, DENIED)


def require(actor: PortalUser, action: Action, customer_id: int | None) -> None:
    """`may`, or PermissionDenied with the action's German message."""
    if not may(actor, action, customer_id):
        raise PermissionDenied(denied_message(action))


def require_role(actor: PortalUser, action: Action) -> None:
    """`role_may`, or PermissionDenied: for lists, whose rows `scoped` then limits to the actor's company."""
    if not role_may(actor, action):
        raise PermissionDenied(denied_message(action))


def sees_every_customer(actor: PortalUser) -> bool:
    """`scoped` leaves the actor's querysets whole: an active staff member. Totals kept for every customer at once
    (services/dashboard.py) may stand for such a query."""
    return actor.is_active and actor.role in KNOWN_ROLES and role_may(actor, Action.VIEW_ALL_CUSTOMERS)


def scoped(queryset: QuerySet[M], actor: PortalUser) -> QuerySet[M]:
    """The queryset limited to what the actor may see: their company's rows; every row for staff; none for a
    deactivated user, a role the matrix does not know, or a company user without a company. Every service query that
    finds company data by something a request carries (an id, a Kundennummer, a list) goes through here; writes then
    address the rows found this way by their id."""
    path = COMPANY_PATHS[queryset.model]
    if sees_every_customer(actor):
        return queryset
    customer_id = actor.customer_id
    if not actor.is_active or actor.role not in KNOWN_ROLES or customer_id is None:
        return queryset.filter(id__in=[])
    return queryset.filter(**{path: customer_id})
