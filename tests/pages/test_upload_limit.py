"""pages/upload_limit.py (issue 11): the upload route refused a 60 MB body only after reading it. In front of a tiny
app that records what it read: a body over the limit gets 413 before a byte is read (Content-Length) or at the first
byte over (chunked, no Content-Length); a body within passes; other paths are untouched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pages.upload_limit import MULTIPART_OVERHEAD, UploadLimitMiddleware, upload_body_limit
from services.settings import reset_settings

UPLOAD = '/_nicegui/client/5f1c2d3e/upload/42'


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv('MASSENUPLOAD_MAX_BYTES', '100000')
    reset_settings()
    return upload_body_limit()


class Recorder:
    def __init__(self) -> None:
        self.read = 0

    async def endpoint(self, request: Request) -> JSONResponse:
        async for chunk in request.stream():
            self.read += len(chunk)
        return JSONResponse({'gelesen': self.read})


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(recorder: Recorder) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=[Route(UPLOAD, recorder.endpoint, methods=['POST']),
                            Route('/anderes', recorder.endpoint, methods=['POST'])])
    app.add_middleware(UploadLimitMiddleware)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://127.0.0.1') as client:
        yield client


def test_the_limit_is_the_upload_limit_and_room_for_the_multipart_frame(limit: int) -> None:
    assert limit == 100_000 + MULTIPART_OVERHEAD


async def test_a_declared_oversize_body_is_refused_before_reading(
    client: httpx.AsyncClient, recorder: Recorder, limit: int
) -> None:
    response = await client.post(UPLOAD, content=b'x' * (limit + 1))
    assert response.status_code == 413
    assert response.text == 'Die Datei ist zu groß.'
    assert recorder.read == 0


async def test_a_body_within_the_limit_passes(client: httpx.AsyncClient, recorder: Recorder, limit: int) -> None:
    response = await client.post(UPLOAD, content=b'x' * limit)
    assert response.status_code == 200
    assert recorder.read == limit


async def test_a_streamed_body_without_length_is_cut_off_at_the_limit(
    client: httpx.AsyncClient, recorder: Recorder, limit: int
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(1_000):  # 64 MB if nobody stops it
            sent += 65_536
            yield b'x' * 65_536

    response = await client.post(UPLOAD, content=chunks())
    assert response.status_code == 413
    assert recorder.read <= limit  # the route never got the chunk that crossed the limit
    assert sent <= limit + 65_536  # and the rest was never asked for


async def test_a_content_length_that_is_no_number_is_refused(client: httpx.AsyncClient, recorder: Recorder) -> None:
    response = await client.post(UPLOAD, content=b'abc', headers={'content-length': '1e9'})
    assert response.status_code == 413
    assert recorder.read == 0


async def test_other_paths_are_untouched(client: httpx.AsyncClient, recorder: Recorder, limit: int) -> None:
    response = await client.post('/anderes', content=b'x' * (limit + 1))
    assert response.status_code == 200
    assert recorder.read == limit + 1
