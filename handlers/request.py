"""The HTTP layer for Bot API calls: python-telegram-bot's ``BaseRequest`` on httpx, tuned for this bot.

- Requests wait for a free connection here, in front of httpx's pool. httpcore hands out connections by
  scanning every queued request against every connection, twice per request (when it is queued and
  when its response is closed); with 64 updates handled at once and 16 connections, up to 48 requests
  waited in that queue and the scans cost more CPU than the requests themselves. A semaphore wakes
  one waiter per freed connection.
- Bodies are JSON (Telegram's ``application/json``), except uploads, which stay multipart as in
  python-telegram-bot's own ``HTTPXRequest``. Form-encoding an answer (1-2 KB of HTML and a keyboard)
  took ~0.07 ms of the event loop's time per reply, JSON ~0.006 ms.

Timeouts, the user agent and the errors raised (``TimedOut``, ``NetworkError``) are those of
``HTTPXRequest``.
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

TIMEOUT_S = 5.0  # connect, read and write: python-telegram-bot's defaults
# A reply that meets a server error or a dropped connection is tried again after these pauses, instead of
# failing at once (the investor would get an apology for an answer the bot had). A 5xx is the server's
# own failure, so the call most likely did nothing, and a rare repeated message beats an answer lost; a
# read timeout is not retried, since the message may well have gone out.
RETRY_DELAYS_S = (0.5, 2.0)
RETRY_STATUSES = frozenset({500, 502, 503, 504})
MEDIA_WRITE_TIMEOUT_S = 20.0

log = logging.getLogger(__name__)


def _seconds(value: object, default: float | None) -> float | None:
    """A timeout python-telegram-bot passed: ``BaseRequest.DEFAULT_NONE`` (not given) means ``default``."""
    if value is BaseRequest.DEFAULT_NONE:
        return default
    return None if value is None else float(value)  # type: ignore[arg-type]


def _method(url: str) -> str:
    """The Bot API method of a request URL (never the URL itself: it holds the token)."""
    return url.rsplit("/", 1)[-1]


class BotAPIRequest(BaseRequest):
    """At most ``connection_pool_size`` requests in httpx's pool; the rest wait up to ``pool_timeout`` here."""

    def __init__(self, connection_pool_size: int, pool_timeout: float | None) -> None:
        self._slots = asyncio.Semaphore(connection_pool_size)
        self._timeout = httpx.Timeout(TIMEOUT_S, pool=pool_timeout)
        self._limits = httpx.Limits(max_connections=connection_pool_size)
        self._client = self._new_client()

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._timeout, limits=self._limits)

    @property
    def read_timeout(self) -> float | None:
        return self._timeout.read

    async def initialize(self) -> None:
        if self._client.is_closed:
            self._client = self._new_client()

    async def shutdown(self) -> None:
        if not self._client.is_closed:
            await self._client.aclose()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._client.is_closed:
            raise RuntimeError("This BotAPIRequest is not initialized!")
        uploads = request_data is not None and request_data.contains_files
        pool = _seconds(pool_timeout, self._timeout.pool)
        write_default = MEDIA_WRITE_TIMEOUT_S if uploads else self._timeout.write
        timeout = httpx.Timeout(
            connect=_seconds(connect_timeout, self._timeout.connect),
            read=_seconds(read_timeout, self._timeout.read),
            write=_seconds(write_timeout, write_default),
            pool=pool,
        )
        headers = {"User-Agent": self.USER_AGENT}
        content: bytes | None = None
        if request_data is not None and not uploads:
            headers["Content-Type"] = "application/json"
            content = json.dumps(request_data.parameters, ensure_ascii=False).encode()
        for delay in (*RETRY_DELAYS_S, None):
            try:
                async with asyncio.timeout(pool):
                    await self._slots.acquire()
            except TimeoutError:
                raise TimedOut(
                    "Pool timeout: all connections to the Bot API are busy; the request was not sent"
                ) from None
            try:
                response = await self._client.request(
                    method=method,
                    url=url,
                    headers=headers,
                    timeout=timeout,
                    content=content,
                    files=request_data.multipart_data if uploads and request_data is not None else None,
                    data=request_data.json_parameters if uploads and request_data is not None else None,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                # Not connected, or the connection dropped before an answer: tried again (below).
                if delay is None:
                    if isinstance(exc, httpx.ConnectTimeout):
                        raise TimedOut from exc
                    raise NetworkError(f"httpx.{exc.__class__.__name__}: {exc}") from exc
                log.warning("Bot API %s failed (%s); retrying in %.1f s", _method(url), type(exc).__name__, delay)
            except httpx.TimeoutException as exc:
                raise TimedOut from exc
            except httpx.HTTPError as exc:
                raise NetworkError(f"httpx.{exc.__class__.__name__}: {exc}") from exc
            else:
                if response.status_code not in RETRY_STATUSES or delay is None:
                    return response.status_code, response.content
                log.warning("Bot API %s answered %d; retrying in %.1f s", _method(url), response.status_code, delay)
            finally:
                self._slots.release()
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")
