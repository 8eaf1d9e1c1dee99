"""NiceGUI pages, one module per page; each has an APIRouter that main.py includes."""

from pages import account, antraege, contracts, dashboard, kiosk, login, self_service, users

ROUTERS = [
    login.router, dashboard.router, contracts.router, antraege.router, users.router, account.router,
    self_service.router, kiosk.router,
]
