"""End to end, the staff loop: the real ``etown-bot run`` process against the stand-in Bot API, with a
restart between the investor's question and the staff reply."""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from shutil import copytree

from tests.bot_process import ADMIN, STAFF, TIMEOUT, Bot
from tests.botapi_server import DEFAULT_TOKEN, Call, FakeBotAPI, JSONDict
from tests.conftest import MINI_KB

INVESTOR, STRANGER = 6001, 6666


def to_chat(chat_id: int) -> object:
    def check(call: Call) -> bool:
        return str(call.params.get("chat_id")) == str(chat_id)

    return check


def say(api: FakeBotAPI, user: int, text: str, expect_chat: int | None = None, **kwargs: object) -> JSONDict:
    mark = api.mark()
    api.push_message(user, text, **kwargs)
    chat = expect_chat if expect_chat is not None else int(kwargs.get("chat_id", user))  # type: ignore[call-overload]
    call = api.wait_for("sendMessage", to_chat(chat), timeout=TIMEOUT, since=mark)  # type: ignore[arg-type]
    api.wait_for_response(call)
    return call.params


def test_question_restart_staff_reply_admin_tools_and_forget(bot: Bot) -> None:
    api = bot.api
    bot.start()
    mark = api.mark()
    api.push_message(INVESTOR, "What is the office rent per square metre in Yizhuang?", first_name="Wei")
    honest = api.wait_for("sendMessage", to_chat(INVESTOR), timeout=TIMEOUT, since=mark)  # type: ignore[arg-type]
    assert "passed your question to our staff" in honest.params["text"]
    post_call = api.wait_for("sendMessage", to_chat(STAFF), timeout=TIMEOUT, since=mark)  # type: ignore[arg-type]
    assert "office rent per square metre" in post_call.params["text"]
    post = api.last_message(STAFF)
    assert post is not None
    assert bot.stop() == 0

    bot.start()  # a new process: the staff post -> question link comes from the database
    reply = say(
        api,
        ADMIN,
        "Rents depend on the park; we will call you.",
        expect_chat=INVESTOR,
        chat_id=STAFF,
        chat_type="supergroup",
        reply_to_message=post,
    )
    assert "Answer from the Beijing E-Town team" in reply["text"]
    assert "we will call you" in reply["text"]

    for command in ("/unanswered", "/stats", "/export", "/reload", "/answer 1 hi", "/dismiss 1"):
        assert say(api, STRANGER, command)["text"] == "This command is not available.", command
    mark = api.mark()
    api.push_update(api.callback_update(STRANGER, "s:d:1", chat_id=STAFF, message=post))
    refused = api.wait_for("answerCallbackQuery", timeout=TIMEOUT, since=mark)
    assert refused.params["text"] == "This command is not available."

    mark = api.mark()
    api.push_message(ADMIN, "/export")
    api.wait_for("sendDocument", timeout=TIMEOUT, since=mark)
    (upload,) = api.uploads(ADMIN)
    rows = list(csv.DictReader(io.StringIO(upload.data.decode("utf-8-sig"))))
    assert rows[0]["text"].startswith("What is the office rent")

    # A broken edit of faq/: /reload refuses it and answers stay as they were.
    (bot.faq / "entries.yaml").write_text("- id: [broken\n", encoding="utf-8")
    report = say(api, ADMIN, "/reload")
    assert report["text"].startswith("❌ Reload refused") and "entries.yaml:" in report["text"]
    answer = say(api, INVESTOR, "how many biotech companies in BDA?")
    assert "more than 5,000" in answer["text"]

    forget = say(api, INVESTOR, "/forget")
    assert "deleted" in forget["text"]
    assert bot.stop() == 0
    with sqlite3.connect(bot.database) as db:
        assert db.execute("SELECT COUNT(*) FROM questions WHERE user_id = ?", (INVESTOR,)).fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM feedback WHERE user_id = ?", (INVESTOR,)).fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM users WHERE user_id = ?", (INVESTOR,)).fetchone()[0] == 0
    for log in bot.logs:
        text = log.read_text()
        assert DEFAULT_TOKEN not in text
    assert "refused" in bot.logs[-1].read_text()


def test_the_watcher_reloads_faq_edits_and_tells_the_staff_chat(bot: Bot) -> None:
    api = bot.api
    bot.start()
    mark = api.mark()
    time.sleep(0.05)
    (bot.faq / "entries.yaml").write_text("- id: [broken\n", encoding="utf-8")
    notice = api.wait_for("sendMessage", to_chat(STAFF), timeout=TIMEOUT, since=mark)  # type: ignore[arg-type]
    assert "Reload refused" in notice.params["text"]
    assert "more than 5,000" in say(api, INVESTOR, "how many biotech companies in BDA?")["text"]
    copytree(MINI_KB, bot.faq, dirs_exist_ok=True)  # staff fix the file
    mark = api.mark()
    notice = api.wait_for("sendMessage", to_chat(STAFF), timeout=TIMEOUT, since=mark)  # type: ignore[arg-type]
    assert "Knowledge base reloaded" in notice.params["text"]
    assert bot.stop() == 0


def test_staff_answer_with_an_entry_teaches_the_real_bot(bot: Bot) -> None:
    # issue 17: queued, answered with an entry and learned in Telegram; the next investor asking the same way
    # is answered without staff; the learned file passes check; undo removes it.
    from bot.knowledge.load import load_knowledge_base

    api = bot.api
    bot.start()
    question = "tally of life-science firms in the zone"
    mark = api.mark()
    api.push_message(INVESTOR, question, first_name="Wei")
    post_call = api.wait_for("sendMessage", to_chat(STAFF), timeout=TIMEOUT, since=mark)  # type: ignore[arg-type]
    assert question in post_call.params["text"]
    post = api.last_message(STAFF)
    assert post is not None
    markup = post_call.params.get("reply_markup") or {}
    learn = next(
        b["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for b in row
        if b.get("callback_data", "").startswith("s:p:")
    )
    assert learn.endswith(":companies")
    mark = api.mark()
    api.push_update(api.callback_update(ADMIN, learn, chat_id=STAFF, message=post))
    answer = api.wait_for("sendMessage", to_chat(INVESTOR), timeout=TIMEOUT, since=mark)  # type: ignore[arg-type]
    assert "more than 5,000" in answer.params["text"]
    learned = api.wait_for(
        "sendMessage",
        lambda c: str(c.params.get("chat_id")) == str(STAFF) and "faq/learned.yaml" in c.params.get("text", ""),
        timeout=TIMEOUT,
        since=mark,
    )
    assert load_knowledge_base(bot.faq).kb is not None  # the learned file passes check
    # The watcher reloads within seconds: the same question from another investor needs no staff.
    deadline = time.monotonic() + TIMEOUT
    while True:
        reply = say(api, STRANGER, question)
        if "more than 5,000" in reply["text"] or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert "more than 5,000" in reply["text"]
    undo = next(
        b["callback_data"]
        for row in (learned.params.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
        if b.get("callback_data", "").startswith("s:x:")
    )
    confirmation = api.last_message(STAFF)
    mark = api.mark()
    api.push_update(api.callback_update(ADMIN, undo, chat_id=STAFF, message=confirmation))
    removed = api.wait_for("sendMessage", to_chat(STAFF), timeout=TIMEOUT, since=mark)  # type: ignore[arg-type]
    assert "is removed" in removed.params["text"]
    assert not (bot.faq / "learned.yaml").exists()
    assert bot.stop() == 0
