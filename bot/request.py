"""The HTTP layer for Bot API calls: python-telegram-bot's HTTPXRequest, with a queue in front of its pool.

httpcore's pool hands out connections by scanning every queued request against every connection,
twice per request (when it is queued and when its response is closed). With 64 updates handled at
once and 16 connections, up to 48 requests waited in that queue and the scans cost more CPU than the
requests themselves. Here a request waits for a free connection on a semaphore (O(1) per wake-up)
and only enters the pool when one is free.
"""

from __future__ import annotations

import asyncio

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import HTTPXRequest, RequestData


class QueuedHTTPXRequest(HTTPXRequest):
    """At most ``connection_pool_size`` requests in the pool; the rest wait up to ``pool_timeout`` here."""

    def __init__(self, connection_pool_size: int, pool_timeout: float | None) -> None:
        super().__init__(connection_pool_size=connection_pool_size, pool_timeout=pool_timeout)
        self._slots = asyncio.Semaphore(connection_pool_size)
        self._pool_timeout = pool_timeout

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        wait = pool_timeout if isinstance(pool_timeout, int | float) else self._pool_timeout
        try:
            async with asyncio.timeout(wait):
                await self._slots.acquire()
        except TimeoutError:
            # What python-telegram-bot raises when httpx's own pool times out.
            raise TimedOut("Pool timeout: all connections to the Bot API are busy") from None
        try:
            return await super().do_request(
                url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
            )
        finally:
            self._slots.release()
