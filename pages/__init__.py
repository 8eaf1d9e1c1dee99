"""NiceGUI pages. Importing this package registers every route."""

from pages import account, contracts, dashboard, login, users

__all__ = ['account', 'contracts', 'dashboard', 'login', 'users']
