"""Who may do what: the one permission matrix of the portal, used by every service and, for hiding, by the pages.

A company user may act only on their own company's records (the same-company rule); transit staff act on every
company. A role missing from an action's set may not do it anywhere.
"""

from __future__ import annotations

from enum import StrEnum

from models import PortalUser, Role


class Action(StrEnum):
    LIST_USERS = 'list_users'
    INVITE_USER = 'invite_user'
    CHANGE_ROLE = 'change_role'
    DEACTIVATE_USER = 'deactivate_user'
    REACTIVATE_USER = 'reactivate_user'
    SEND_PASSWORD_LINK = 'send_password_link'
    GENERATE_CODE = 'generate_code'
    DECIDE_ANTRAG = 'decide_antrag'
    VIEW_AUDIT_LOG = 'view_audit_log'
    MANAGE_CUSTOMERS = 'manage_customers'
    CHANGE_CONTRACT_STATUS = 'change_contract_status'
    RESET_SECOND_FACTOR = 'reset_second_factor'


PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.LIST_USERS: frozenset({Role.ADMIN, Role.CLERK, Role.READONLY, Role.STAFF}),
    Action.INVITE_USER: frozenset({Role.ADMIN, Role.STAFF}),
    Action.CHANGE_ROLE: frozenset({Role.ADMIN, Role.STAFF}),
    Action.DEACTIVATE_USER: frozenset({Role.ADMIN, Role.STAFF}),
    Action.REACTIVATE_USER: frozenset({Role.ADMIN, Role.STAFF}),
    Action.SEND_PASSWORD_LINK: frozenset({Role.ADMIN, Role.STAFF}),
    Action.GENERATE_CODE: frozenset({Role.ADMIN, Role.STAFF}),
    Action.DECIDE_ANTRAG: frozenset({Role.ADMIN, Role.CLERK, Role.STAFF}),
    Action.VIEW_AUDIT_LOG: frozenset({Role.ADMIN, Role.STAFF}),
    Action.MANAGE_CUSTOMERS: frozenset({Role.STAFF}),
    Action.CHANGE_CONTRACT_STATUS: frozenset({Role.STAFF}),
    Action.RESET_SECOND_FACTOR: frozenset({Role.STAFF}),
}


def role_may(user: PortalUser, action: Action) -> bool:
    """The role part alone: whether the user's role may do this anywhere (what a page may offer at all)."""
    return user.role in PERMISSIONS[action]


def may(user: PortalUser, action: Action, customer_id: int | None) -> bool:
    """The role may do it, and the record belongs to the user's own company (staff: to any company)."""
    if not role_may(user, action):
        return False
    return user.is_staff or (customer_id is not None and user.customer_id == customer_id)  # type: ignore[attr-defined]
