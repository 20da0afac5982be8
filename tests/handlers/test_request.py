"""BotAPIRequest: JSON bodies (multipart for uploads), a queue in front of the pool, python-telegram-bot's errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from handlers.request import BotAPIRequest
from tests.botapi_server import DEFAULT_TOKEN, FakeBotAPI

URL = "http://api.invalid/bot1:a/sendMessage"


class FakeHTTPX:
    """Stands in for httpx's client: records each request and how many are inside the pool at once."""

    def __init__(self, seconds: float = 0.0, error: Exception | None = None) -> None:
        self.seconds = seconds
        self.error = error
        self.now = 0
        self.most = 0
        self.calls: list[dict[str, Any]] = []

    async def request(self, **kwargs: Any) -> httpx.Response:
        self.calls.append(kwargs)
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(self.seconds)
            if self.error is not None:
                raise self.error
        finally:
            self.now -= 1
        return httpx.Response(200, content=b'{"ok": true, "result": true}')


def with_fake(request: BotAPIRequest, fake: FakeHTTPX, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request._client, "request", fake.request)


def data(**values: object) -> RequestData:
    return RequestData([RequestParameter.from_input(key, value) for key, value in values.items()])


async def test_no_more_requests_enter_the_pool_than_it_has_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    request = BotAPIRequest(connection_pool_size=3, pool_timeout=5.0)
    fake = FakeHTTPX(0.01)
    with_fake(request, fake, monkeypatch)
    results = await asyncio.gather(*(request.do_request(URL, "POST", data(chat_id=1)) for _ in range(20)))
    assert results == [(200, b'{"ok": true, "result": true}')] * 20
    assert fake.most == 3


async def test_a_request_waiting_past_the_pool_timeout_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    request = BotAPIRequest(connection_pool_size=1, pool_timeout=0.05)
    with_fake(request, FakeHTTPX(1.0), monkeypatch)
    first = asyncio.ensure_future(request.do_request(URL, "POST", data(chat_id=1)))
    await asyncio.sleep(0)
    with pytest.raises(TimedOut, match="Pool timeout"):
        await request.do_request(URL, "POST", data(chat_id=1))
    first.cancel()
    # A failed or cancelled request gives its connection back.
    with_fake(request, FakeHTTPX(0.0), monkeypatch)
    assert await request.do_request(URL, "POST", data(chat_id=1), pool_timeout=1.0) == (
        200,
        b'{"ok": true, "result": true}',
    )


async def test_bodies_are_json_and_uploads_multipart(monkeypatch: pytest.MonkeyPatch) -> None:
    request = BotAPIRequest(connection_pool_size=2, pool_timeout=1.0)
    fake = FakeHTTPX()
    with_fake(request, fake, monkeypatch)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("亦庄", callback_data="a:zh:x")]])
    await request.do_request(URL, "POST", data(chat_id=7, text="<b>E-Town</b> 亦庄", reply_markup=markup))
    sent = fake.calls[-1]
    assert sent["headers"]["Content-Type"] == "application/json"
    assert json.loads(sent["content"]) == {
        "chat_id": 7,
        "text": "<b>E-Town</b> 亦庄",
        "reply_markup": {"inline_keyboard": [[{"text": "亦庄", "callback_data": "a:zh:x"}]]},
    }
    await request.do_request(URL, "POST", data(chat_id=7, document=InputFile(b"a,b\n1,2\n", filename="log.csv")))
    upload = fake.calls[-1]
    assert upload["content"] is None and "Content-Type" not in upload["headers"]
    assert upload["files"] and upload["data"] == {"chat_id": "7"}
    assert upload["timeout"].write == 20.0  # uploads get the longer write timeout


@pytest.mark.parametrize(
    ("error", "raised"),
    [(httpx.ReadTimeout("slow"), TimedOut), (httpx.ConnectError("refused"), NetworkError)],
)
async def test_httpx_errors_become_python_telegram_bot_errors(
    monkeypatch: pytest.MonkeyPatch, error: Exception, raised: type[Exception]
) -> None:
    monkeypatch.setattr("handlers.request.RETRY_DELAYS_S", (0.0,))
    request = BotAPIRequest(connection_pool_size=1, pool_timeout=1.0)
    with_fake(request, FakeHTTPX(error=error), monkeypatch)
    with pytest.raises(raised):
        await request.do_request(URL, "POST", data(chat_id=1))
    with_fake(request, FakeHTTPX(), monkeypatch)
    assert (await request.do_request(URL, "POST", data(chat_id=1)))[0] == 200  # the connection was given back


async def test_telegram_accepts_what_it_sends() -> None:
    """Against the stand-in server, which parses JSON and multipart bodies as Telegram does."""
    from telegram import Bot

    with FakeBotAPI(expected_token=DEFAULT_TOKEN) as api:
        request = BotAPIRequest(connection_pool_size=4, pool_timeout=5.0)
        bot = Bot(DEFAULT_TOKEN, base_url=api.base_url, request=request, get_updates_request=request)
        async with bot:
            markup = InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="f:1:5:x")]])
            message = await bot.send_message(7, "<b>5,000</b> companies 亦庄", parse_mode="HTML", reply_markup=markup)
            assert message.text == "5,000 companies 亦庄" and message.reply_markup == markup
            document = await bot.send_document(7, InputFile(b"a,b\n", filename="log.csv"))
            assert document.document is not None and document.document.file_name == "log.csv"
        call = api.calls_to("sendMessage")[-1]
        assert call.content_type == "application/json" and call.status == 200


async def test_a_server_error_or_a_dropped_connection_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12: a 500 or a lost connection on a reply gave the investor an apology without a retry."""
    monkeypatch.setattr("handlers.request.RETRY_DELAYS_S", (0.0, 0.0))
    with FakeBotAPI(expected_token=DEFAULT_TOKEN) as api:
        request = BotAPIRequest(connection_pool_size=2, pool_timeout=5.0)
        await request.initialize()
        url = f"{api.base_url}{DEFAULT_TOKEN}/sendMessage"
        try:
            api.fail_next("sendMessage", status=500, times=1, description="Internal Server Error")
            api.drop_next("sendMessage")
            status, _ = await request.do_request(url, "POST", data(chat_id=7, text="hello"))
            assert status == 200
            assert [c.status for c in api.calls_to("sendMessage")][-1] == 200
            assert len(api.calls_to("sendMessage")) >= 2
            api.fail_next("sendMessage", status=502, times=3, description="Bad Gateway")  # every attempt
            status, _ = await request.do_request(url, "POST", data(chat_id=7, text="hello"))
            assert status == 502  # given up after the retries: python-telegram-bot raises NetworkError
            api.fail_next("sendMessage", status=400, times=1, description="Bad Request: chat not found")
            before = len(api.calls_to("sendMessage"))
            status, _ = await request.do_request(url, "POST", data(chat_id=7, text="hello"))
            assert status == 400 and len(api.calls_to("sendMessage")) == before + 1  # a client error: once
        finally:
            await request.shutdown()
