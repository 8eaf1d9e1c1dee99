"""Refuse oversize upload bodies before reading them: a pure ASGI middleware in front of NiceGUI's upload routes.

NiceGUI's `ui.upload` posts to `/_nicegui/client/<client>/upload/<element>`, and Starlette's form parser reads the
whole body (spooled to disk) before the page's handler sees a byte; the browser's `max-file-size` is only a hint.
Here a body that says it is larger than the limit (Content-Length) gets 413 without a byte read, and a body that
does not say (chunked) is counted while it streams and cut off with 413 at the first byte over.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from services.settings import get_settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_PATH = re.compile(r'/_nicegui/client/[^/]+/upload/[^/]+')
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the one file
TOO_LARGE = 'Die Datei ist zu groß.'.encode()


class _BodyTooLarge(Exception):
    """Raised into the route from `receive` once the streamed body passes the limit."""


def upload_body_limit() -> int:
    return get_settings().massenupload_max_bytes + MULTIPART_OVERHEAD


class UploadLimitMiddleware:
    """413 for upload bodies over `upload_body_limit()`; every other request passes untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http' or not UPLOAD_PATH.fullmatch(scope['path']):
            await self.app(scope, receive, send)
            return
        limit = upload_body_limit()
        length = dict(scope['headers']).get(b'content-length')
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _refuse(send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message['type'] == 'http.request':
                received += len(message.get('body', b''))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message['type'] == 'http.response.start'
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _BodyTooLarge:
            if not started:
                await _refuse(send)


async def _refuse(send: Send) -> None:
    await send({'type': 'http.response.start', 'status': 413, 'headers': [
        (b'content-type', b'text/plain; charset=utf-8'), (b'content-length', str(len(TOO_LARGE)).encode()),
        (b'connection', b'close'),
    ]})
    await send({'type': 'http.response.body', 'body': TOO_LARGE})
