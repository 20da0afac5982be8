"""QueuedHTTPXRequest: requests beyond the pool wait in front of it, and give up after the pool timeout."""

from __future__ import annotations

import asyncio

import pytest
from telegram.error import TimedOut
from telegram.request import HTTPXRequest

from bot.request import QueuedHTTPXRequest


class InFlight:
    """Stands in for httpx: counts the requests inside the pool at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.now = 0
        self.most = 0

    async def __call__(self, *args: object, **kwargs: object) -> tuple[int, bytes]:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(self.seconds)
        finally:
            self.now -= 1
        return 200, b'{"ok": true, "result": true}'


async def test_no_more_requests_enter_the_pool_than_it_has_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = InFlight(0.01)
    monkeypatch.setattr(HTTPXRequest, "do_request", fake)
    request = QueuedHTTPXRequest(connection_pool_size=3, pool_timeout=5.0)
    results = await asyncio.gather(*(request.do_request("http://x/bot1:a/sendMessage", "POST") for _ in range(20)))
    assert results == [(200, b'{"ok": true, "result": true}')] * 20
    assert fake.most == 3


async def test_a_request_waiting_past_the_pool_timeout_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HTTPXRequest, "do_request", InFlight(1.0))
    request = QueuedHTTPXRequest(connection_pool_size=1, pool_timeout=0.05)
    first = asyncio.ensure_future(request.do_request("http://x/bot1:a/sendMessage", "POST"))
    await asyncio.sleep(0)
    with pytest.raises(TimedOut, match="Pool timeout"):
        await request.do_request("http://x/bot1:a/sendMessage", "POST")
    first.cancel()
    # A failed or cancelled request gives its connection back.
    monkeypatch.setattr(HTTPXRequest, "do_request", InFlight(0.0))
    assert await request.do_request("http://x/bot1:a/sendMessage", "POST", pool_timeout=1.0) == (
        200,
        b'{"ok": true, "result": true}',
    )
