"""X-Forwarded-For names the client only when a configured proxy (FORWARDED_ALLOW_IPS) sends it.

The portal's throttles count per client address. uvicorn trusts the header from 127.0.0.1 by default, so a forged
header from a trusted address chose the address the locks counted. These tests take the options `serve()` hands to
`ui.run` and put requests through uvicorn's own start-up wrapping (`Config.load`), as the running server does.
"""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn

import main
from services.settings import get_settings, reset_settings


def options_of_serve(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The keyword arguments serve() passes to ui.run (nothing is started)."""
    return main.run_options(get_settings())


async def client_seen(options: dict[str, Any], peer: str, forwarded_for: str) -> str:
    """The client address the portal sees for a request from `peer` that claims `forwarded_for`."""
    seen: list[str] = []

    async def portal(scope: dict, receive: Any, send: Any) -> None:
        seen.append(scope['client'][0])

    uvicorn_options = {name: options[name] for name in ('proxy_headers', 'forwarded_allow_ips') if name in options}
    config = uvicorn.Config(portal, **uvicorn_options)
    config.load()
    scope = {
        'type': 'http', 'http_version': '1.1', 'method': 'GET', 'path': '/login', 'raw_path': b'/login',
        'query_string': b'', 'scheme': 'http', 'client': (peer, 50000), 'server': ('127.0.0.1', 8080),
        'headers': [(b'host', b'portal'), (b'x-forwarded-for', forwarded_for.encode())],
    }
    await config.loaded_app(scope, None, None)
    return seen[0]


@pytest.fixture
def no_forwarded_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv('FORWARDED_ALLOW_IPS', raising=False)
    reset_settings()


@pytest.mark.parametrize('peer', ['127.0.0.1', '::1', '192.0.2.44'])
async def test_by_default_a_forged_header_is_ignored(
    monkeypatch: pytest.MonkeyPatch, no_forwarded_setting: None, peer: str
) -> None:
    """Finding: from 127.0.0.1 a forged X-Forwarded-For picked the address the throttles counted."""
    options = options_of_serve(monkeypatch)
    assert options['proxy_headers'] is False
    assert await client_seen(options, peer, '198.51.100.77') == peer


async def test_a_configured_proxy_is_trusted_and_nobody_else(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('FORWARDED_ALLOW_IPS', '10.0.0.5, 10.1.0.0/16')
    reset_settings()
    options = options_of_serve(monkeypatch)
    assert await client_seen(options, '10.0.0.5', '198.51.100.77') == '198.51.100.77'
    assert await client_seen(options, '10.1.2.3', '198.51.100.78') == '198.51.100.78'
    assert await client_seen(options, '127.0.0.1', '198.51.100.77') == '127.0.0.1'
    assert await client_seen(options, '192.0.2.44', '198.51.100.77') == '192.0.2.44'
