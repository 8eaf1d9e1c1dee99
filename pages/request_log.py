"""One log line per HTTP request (method, path, status, duration, client), for LOG_FORMAT=json.

The path is logged without its query string: some queries carry one-time tickets (/anmeldung/abschluss?ticket=…)
or tokens that must not end up in log files. Pure ASGI, so streamed responses and websockets pass untouched.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.logs import FIELDS

log = logging.getLogger('portal.request')


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http' or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees when the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message['type'] == 'http.response.start':
                status = message['status']
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            fields = {
                'method': scope['method'], 'path': scope['path'], 'status': status,
                'ms': round((time.perf_counter() - started) * 1000, 1),
                'client': scope['client'][0] if scope.get('client') else '',
            }
            log.info('%s %s %s', fields['method'], fields['path'], status, extra={FIELDS: fields})
