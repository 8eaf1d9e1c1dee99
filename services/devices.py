"""Device ids for the throttles: which browser or kiosk typed a wrong password or Kundencode.

A browser is known by NiceGUI's browser id (the signed `session` cookie). A kiosk gets its own long-lived random id
in a signed cookie on its first visit: every walk-in shares it, "Neu beginnen", the idle reset and a reload keep it,
so wrong Kundencodes add up per kiosk across visits. It is a cookie of its own (not the session cookie) so that
session changes at login or logout never touch it. Signed with the storage secret, so nobody can pick the id of
another kiosk and lock it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from services.settings import get_settings

KIOSK_COOKIE = 'kiosk_device'
KIOSK_COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers accept (400 days)


def _signature(device: str) -> str:
    key = get_settings().storage_secret.encode()
    return hmac.new(key, f'kiosk-device:{device}'.encode(), hashlib.sha256).hexdigest()


def new_kiosk_cookie() -> str:
    """A fresh random kiosk id with its signature, as the cookie's value."""
    device = secrets.token_urlsafe(16)
    return f'{device}.{_signature(device)}'


def kiosk_device(cookie: str | None) -> str | None:
    """The throttle key of a kiosk from its cookie, or None when the cookie is missing or not ours."""
    device, _, signature = (cookie or '').partition('.')
    if not device or not hmac.compare_digest(signature, _signature(device)):
        return None
    return f'kiosk:{device}'


def browser_device(browser_id: object) -> str:
    """The throttle key of a browser from NiceGUI's browser id ('' when there is none: counted per address only)."""
    return f'browser:{browser_id}' if browser_id else ''
