"""NiceGUI pages, one module per page; each has an APIRouter that main.py includes."""

from pages import (
    abrechnung,
    account,
    antraege,
    audit_log,
    backoffice,
    contracts,
    dashboard,
    health,
    invitation,
    kiosk,
    legal,
    login,
    massenupload,
    profile,
    self_service,
    self_service_account,
    session_cookie,
    tarife,
    theme,
    users,
)

ROUTERS = [
    login.router, dashboard.router, contracts.router, antraege.router, massenupload.router, users.router,
    account.router, self_service.router, kiosk.router, invitation.router, audit_log.router, backoffice.router,
    profile.router, session_cookie.router, health.router, abrechnung.router, tarife.router, legal.router,
    self_service_account.router, theme.router,
]
