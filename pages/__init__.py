"""NiceGUI pages, one module per page; each has an APIRouter that main.py includes."""

from pages import account, contracts, dashboard, login, users

ROUTERS = [login.router, dashboard.router, contracts.router, users.router, account.router]
