"""The address employees open to use a Kundencode in the Self-Service (shown as link and QR code)."""

from urllib.parse import urlencode

from services.kundencode import format_code
from services.settings import get_settings

SELF_SERVICE_PATH = '/self-service'


def self_service_link(request_base_url: str, code: str) -> str:
    """PUBLIC_URL when configured (behind a proxy), else the address the page was requested on."""
    base = get_settings().public_url or request_base_url
    return f'{base.rstrip("/")}{SELF_SERVICE_PATH}?{urlencode({"code": format_code(code)})}'
