"""NiceGUI pages, one module per page; each has an APIRouter that main.py includes."""

from pages import (
    abrechnung,
    antraege,
    anwender,
    dashboard,
    einladung,
    health,
    kiosk,
    legal,
    login,
    massenupload,
    passwort,
    profil,
    protokoll,
    self_service,
    self_service_account,
    session_cookie,
    tarife,
    theme,
    vertragsverwaltung,
    verwaltung,
)

ROUTERS = [
    login.router, dashboard.router, vertragsverwaltung.router, antraege.router, massenupload.router, anwender.router,
    passwort.router, self_service.router, kiosk.router, einladung.router, protokoll.router, verwaltung.router,
    profil.router, session_cookie.router, health.router, abrechnung.router, tarife.router, legal.router,
    self_service_account.router, theme.router,
]
