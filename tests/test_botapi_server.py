"""The stand-in Bot API server, exercised through python-telegram-bot's own client."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResultArticle, InputTextMessageContent
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CommandHandler, ContextTypes

from tests.botapi_server import DEFAULT_TOKEN, TOKEN_PATTERN, FakeBotAPI, parse_html, utf16_len


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


def make_bot(api: FakeBotAPI) -> telegram.Bot:
    return telegram.Bot(api.token, base_url=api.base_url)


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("press", callback_data=data)]])


def test_default_token_is_well_formed() -> None:
    assert TOKEN_PATTERN.fullmatch(DEFAULT_TOKEN)


@pytest.mark.asyncio
async def test_get_me(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:  # initialize() already calls getMe
        me = await bot.get_me()
    assert me.username == "etown_test_bot"
    assert me.is_bot
    assert me.supports_inline_queries
    assert me.can_join_groups
    assert me.id == int(api.token.split(":")[0])
    assert [c.method for c in api.calls] == ["getMe", "getMe"]


@pytest.mark.asyncio
async def test_send_message_form_encoded_and_with_keyboard(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        first = await bot.send_message(42, "hello")
        second = await bot.send_message(42, "pick", reply_markup=keyboard("pick:1"))
        other = await bot.send_message(7, "elsewhere")
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert first.chat.id == 42
    assert first.chat.type == "private"
    assert first.from_user is not None
    assert first.from_user.username == "etown_test_bot"
    assert first.text == "hello"
    assert isinstance(first.date, dt.datetime)
    assert second.reply_markup == keyboard("pick:1")
    call = api.calls_to("sendMessage")[1]
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.params["chat_id"] == 42
    assert call.params["reply_markup"] == {"inline_keyboard": [[{"text": "press", "callback_data": "pick:1"}]]}
    assert [m["text"] for m in api.sent_messages(42)] == ["hello", "pick"]


@pytest.mark.asyncio
async def test_html_entities_are_parsed_like_telegram(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        msg = await bot.send_message(1, "<b>Bold</b> &lt;tag&gt; <a href='https://e.town'>link</a>", parse_mode="HTML")
    assert msg.text == "Bold <tag> link"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [("bold", 0, 4), ("text_link", 11, 4)]
    assert msg.entities[1].url == "https://e.town"


@pytest.mark.asyncio
async def test_refusals_match_telegram(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(1, "x" * 4097)
        await bot.send_message(1, "x" * 4096)
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(1, "😀" * 2049)  # 4098 UTF-16 units
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(1, "  ")
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await bot.send_message(1, "menu", reply_markup=keyboard("é" * 33))  # 66 bytes
        await bot.send_message(1, "menu", reply_markup=keyboard("é" * 32))  # exactly 64 bytes
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported start tag"):
            await bot.send_message(1, "1 < 2", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)can't find end tag"):
            await bot.send_message(1, "<b>open", parse_mode="HTML")
    statuses = [c.status for c in api.calls_to("sendMessage")]
    assert statuses == [400, 200, 400, 400, 400, 200, 400, 400]
    assert len(api.sent_messages(1)) == 2


def test_parse_html_rules() -> None:
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre> &#128512; &nbsp;')
    assert text == "x = 1 😀 &nbsp;"
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]
    assert utf16_len("😀") == 2
    text, entities = parse_html("<span class='tg-spoiler'>s</span><blockquote expandable>q</blockquote>")
    assert [e["type"] for e in entities] == ["spoiler", "expandable_blockquote"]
    for bad, reason in [
        ("<b>x</i>", "Unmatched end tag"),
        ("</b>", "Unexpected end tag"),
        ("<span>x</span>", 'Tag "span" must have class'),
        ("<br>", 'Unsupported start tag "br"'),
        ("<b", "Unclosed start tag"),
    ]:
        with pytest.raises(Exception, match=reason):
            parse_html(bad)


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limit_and_server_errors(api: FakeBotAPI) -> None:
    api.fail_next("sendMessage", status=429, retry_after=3)
    api.fail_next("sendMessage", status=500)
    async with make_bot(api) as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(1, "a")
        retry_after = caught.value.retry_after  # int now (deprecated), timedelta with PTB_TIMEDELTA=1
        assert (retry_after.total_seconds() if isinstance(retry_after, dt.timedelta) else retry_after) == 3
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(1, "b")
        assert (await bot.send_message(1, "c")).message_id == 1
    first = api.calls_to("sendMessage")[0]
    assert first.status == 429
    assert first.response is not None
    assert first.response["parameters"] == {"retry_after": 3}


@pytest.mark.asyncio
async def test_delay_drop_and_refused_connections(api: FakeBotAPI) -> None:
    api.set_delay("sendChatAction", 1.0)
    api.drop_next("sendMessage")
    async with make_bot(api) as bot:
        with pytest.raises(TimedOut):
            await bot.send_chat_action(1, "typing", read_timeout=0.2)
        api.set_delay("sendChatAction", 0)
        with pytest.raises(NetworkError):
            await bot.send_message(1, "dropped")
        api.refuse_connections(0.5)
        with pytest.raises(NetworkError):
            await bot.send_message(1, "refused")
        await asyncio.sleep(0.6)
        assert await bot.send_chat_action(1, "typing")
        with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
            await bot.send_chat_action(1, "dancing")


@pytest.mark.asyncio
async def test_get_updates_long_poll_and_offset(api: FakeBotAPI) -> None:
    first = api.push_update(api.message_update(5, "/start hello"))
    async with make_bot(api) as bot:
        updates = await bot.get_updates(timeout=5, allowed_updates=["message", "callback_query"])
        assert [u.update_id for u in updates] == [first]
        message = updates[0].message
        assert message is not None
        assert message.text == "/start hello"
        assert message.entities[0].type == "bot_command"
        assert message.entities[0].length == 6
        assert message.from_user is not None
        assert message.from_user.language_code == "en"
        assert api.allowed_updates == ["message", "callback_query"]

        # Without a new offset the same update is delivered again.
        assert [u.update_id for u in await bot.get_updates(timeout=0)] == [first]

        # A long poll returns as soon as an update is pushed.
        threading.Timer(0.3, lambda: api.push_update(api.message_update(5, "later"))).start()
        started = time.monotonic()
        updates = await bot.get_updates(offset=first + 1, timeout=5)
        assert time.monotonic() - started < 3
        assert [u.message.text for u in updates if u.message] == ["later"]

        # Confirming with offset drops them for good; an empty poll waits out its timeout.
        started = time.monotonic()
        assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1) == ()
        assert time.monotonic() - started >= 0.9
        assert api.pending_updates == []

        # Updates of kinds not in allowed_updates are dropped.
        api.push_update(api.inline_update(5, "q"))
        assert await bot.get_updates(timeout=0) == ()


@pytest.mark.asyncio
async def test_webhook_conflicts_with_polling(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        assert await bot.set_webhook("https://example.org/hook")
        assert api.webhook is not None
        assert api.webhook["url"] == "https://example.org/hook"
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        api.push_update(api.message_update(1, "old"))
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert await bot.get_updates(timeout=0) == ()


@pytest.mark.asyncio
async def test_send_document_multipart_round_trip(api: FakeBotAPI) -> None:
    payload = bytes(range(256)) + b"\r\n--boundary-lookalike\r\n\r\n"
    async with make_bot(api) as bot:
        sent = await bot.send_document(
            9, document=payload, filename="報告 report.bin", caption="<i>Q3</i>", parse_mode="HTML"
        )
        photo = await bot.send_photo(9, photo=b"\x89PNG fake", caption="chart")
    assert sent.document is not None
    assert sent.document.file_name == "報告 report.bin"
    assert sent.document.file_size == len(payload)
    assert sent.caption == "Q3"
    assert sent.caption_entities[0].type == "italic"
    assert photo.photo
    assert photo.caption == "chart"
    assert photo.message_id == 2
    assert api.calls_to("sendDocument")[0].content_type == "multipart/form-data"
    document, picture = api.uploads(9)
    assert (document.method, document.filename, document.data, document.caption) == (
        "sendDocument",
        "報告 report.bin",
        payload,
        "Q3",
    )
    assert (picture.method, picture.data) == ("sendPhoto", b"\x89PNG fake")


@pytest.mark.asyncio
async def test_callback_query_answer_and_edits(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        menu = await bot.send_message(3, "menu", reply_markup=keyboard("more"))
        api.push_update(api.callback_update(3, "more"))
        (update,) = await bot.get_updates(timeout=2)
        query = update.callback_query
        assert query is not None
        assert query.data == "more"
        assert query.message is not None
        assert query.message.message_id == menu.message_id
        assert await bot.answer_callback_query(query.id, text="Loading…")
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query(query.id)

        edited = await bot.edit_message_text("menu, page 2", chat_id=3, message_id=menu.message_id)
        assert isinstance(edited, telegram.Message)
        assert edited.reply_markup is None
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("menu, page 2", chat_id=3, message_id=menu.message_id)
        restored = await bot.edit_message_reply_markup(3, menu.message_id, reply_markup=keyboard("back"))
        assert isinstance(restored, telegram.Message)
        assert restored.reply_markup == keyboard("back")
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=3, message_id=99)
    assert api.answers("answerCallbackQuery")[0]["text"] == "Loading…"
    assert api.sent_messages(3)[0]["text"] == "menu, page 2"


@pytest.mark.asyncio
async def test_answer_inline_query(api: FakeBotAPI) -> None:
    api.push_update(api.inline_update(8, "biotech"))
    async with make_bot(api) as bot:
        (update,) = await bot.get_updates(timeout=2)
        assert update.inline_query is not None
        assert update.inline_query.query == "biotech"
        result = InlineQueryResultArticle("r1", "E-Town", InputTextMessageContent("Beijing E-Town"))
        assert await bot.answer_inline_query(update.inline_query.id, [result], cache_time=0)
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_inline_query("12345", [result])
    (answer,) = api.answers("answerInlineQuery")
    assert answer["results"][0]["id"] == "r1"
    assert answer["cache_time"] == 0


@pytest.mark.asyncio
async def test_my_commands_per_language(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        assert await bot.set_my_commands([("start", "Start"), ("help", "Help")])
        assert await bot.set_my_commands([("start", "Beginnen")], language_code="de")
        german = await bot.get_my_commands(language_code="de")
        assert [(c.command, c.description) for c in german] == [("start", "Beginnen")]
        assert len(await bot.get_my_commands()) == 2
        with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
            await bot.set_my_commands([("Bad-Command", "x")])
        assert await bot.delete_my_commands(language_code="de")
        assert await bot.get_my_commands(language_code="de") == ()
    assert api.commands(language_code="") == [
        {"command": "start", "description": "Start"},
        {"command": "help", "description": "Help"},
    ]


@pytest.mark.asyncio
async def test_blocked_chat_and_bad_token(api: FakeBotAPI) -> None:
    api.block_chat(66)
    async with make_bot(api) as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(66, "hi")
        with pytest.raises(Forbidden):
            await bot.send_chat_action(66, "typing")
        api.unblock_chat(66)
        assert (await bot.send_message(66, "hi")).message_id == 1
    with pytest.raises(InvalidToken):
        async with telegram.Bot("123:short", base_url=api.base_url):
            pass
    assert api.calls[-1].status == 401


def test_raw_http_json_get_and_unknown_method(api: FakeBotAPI) -> None:
    url = f"{api.base_url}{api.token}"
    with httpx.Client(timeout=5) as client:
        sent = client.post(f"{url}/sendMessage", json={"chat_id": "12", "text": "json body"})
        assert sent.status_code == 200
        assert sent.json()["result"]["text"] == "json body"
        assert client.get(f"{url}/getMe").json()["result"]["username"] == "etown_test_bot"
        got = client.get(f"{url}/sendmessage", params={"chat_id": 12, "text": "via GET"})
        assert got.json()["result"]["message_id"] == 2  # method names are case-insensitive
        missing = client.post(f"{url}/sendSticker", data={"chat_id": 1})
        assert missing.status_code == 404
        assert missing.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        api.fail_next("getMe", status=429, retry_after=7)
        limited = client.get(f"{url}/getMe")
        assert limited.status_code == 429
        assert limited.json()["parameters"] == {"retry_after": 7}
        bad = client.post(f"{api.base_url}nonsense/getMe")
        assert bad.status_code == 401
        assert bad.json()["description"] == "Unauthorized"


def test_update_builders_parse_as_ptb_updates(api: FakeBotAPI) -> None:
    bot = make_bot(api)
    api.push_update(api.message_update(5, "hi @etown_test_bot /help@etown_test_bot", chat_type="supergroup"))
    api.push_update(api.message_update(5, "answer", reply_to_message=1, chat_type="supergroup"))
    api.push_update(api.sticker_update(5))
    api.push_update(api.photo_update(5, caption="look https://e.town"))
    api.push_update(api.edited_message_update(5, "hi again", chat_type="supergroup"))
    api.push_update(api.channel_post_update("news"))
    updates = [telegram.Update.de_json(u, bot) for u in api.pending_updates]
    group, reply, sticker, photo, edited, post = updates
    assert group.effective_chat is not None
    assert group.effective_chat.type == "supergroup"
    assert group.message is not None
    assert [e.type for e in group.message.entities] == ["mention", "bot_command"]
    assert reply.message is not None
    assert reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.text == group.message.text
    assert sticker.message is not None
    assert sticker.message.sticker is not None
    assert photo.message is not None
    assert len(photo.message.photo) == 3
    assert photo.message.caption_entities[0].type == "url"
    assert edited.edited_message is not None
    assert edited.edited_message.message_id == 2
    assert post.channel_post is not None
    assert post.channel_post.sender_chat is not None
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)


def test_wait_for_consumes_calls_in_order(api: FakeBotAPI) -> None:
    def send(text: str) -> None:
        httpx.post(f"{api.base_url}{api.token}/sendMessage", data={"chat_id": 1, "text": text}, timeout=5)

    threading.Timer(0.2, send, args=("one",)).start()
    assert api.wait_for("sendMessage", timeout=5).params["text"] == "one"
    send("two")
    assert api.wait_for("sendMessage").params["text"] == "two"
    assert api.wait_for_count("sendMessage", 2)[0].params["text"] == "one"
    with pytest.raises(TimeoutError):
        api.wait_for("sendMessage", timeout=0.2)
    method, params, _when = api.calls[0]
    assert (method, params["text"]) == ("sendMessage", "one")


@pytest.mark.asyncio
async def test_ptb_application_polls_and_replies(api: FakeBotAPI) -> None:
    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Welcome, {context.args}", reply_markup=keyboard("menu"))

    app = Application.builder().token(api.token).base_url(api.base_url).build()
    app.add_handler(CommandHandler("start", start))
    api.push_update(api.message_update(11, "/start deep-link"))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dt.timedelta(seconds=2), drop_pending_updates=False)
        call = await asyncio.to_thread(api.wait_for, "sendMessage", None, 10.0)
        response = await asyncio.to_thread(api.wait_for_response, call)
        await app.updater.stop()
        await app.stop()
    assert call.params["chat_id"] == 11
    assert call.params["text"] == "Welcome, ['deep-link']"
    assert response["result"]["reply_markup"] == {"inline_keyboard": [[{"text": "press", "callback_data": "menu"}]]}
    assert api.pending_updates == []  # the final getUpdates on stop confirmed the update
    assert {"deleteWebhook", "getUpdates", "sendMessage"} <= {c.method for c in api.calls}


def test_restart_keeps_port_and_state() -> None:
    api = FakeBotAPI().start()
    try:
        url = api.base_url
        api.push_update(api.message_update(1, "kept"))
        api.stop()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}{api.token}/getMe", timeout=2)
        api.start()
        assert api.base_url == url
        body = httpx.get(f"{url}{api.token}/getUpdates", timeout=5).json()
        assert [u["message"]["text"] for u in body["result"]] == ["kept"]
        assert json.loads(json.dumps(body))["ok"] is True
    finally:
        api.stop()
