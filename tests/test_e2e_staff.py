"""End to end, the staff loop: the real ``etown-bot run`` process against the stand-in Bot API, with a
restart between the investor's question and the staff reply."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from shutil import copytree

import pytest

from tests.botapi_server import DEFAULT_SUPERGROUP_ID, DEFAULT_TOKEN, Call, FakeBotAPI, JSONDict
from tests.conftest import MINI_KB

INVESTOR, ADMIN, STRANGER = 6001, 6900, 6666
STAFF = DEFAULT_SUPERGROUP_ID
TIMEOUT = 30.0


class Bot:
    """Starts and stops the real bot process on one config."""

    def __init__(self, api: FakeBotAPI, tmp_path: Path) -> None:
        self.api = api
        self.tmp_path = tmp_path
        self.faq = tmp_path / "faq"
        copytree(MINI_KB, self.faq)
        self.database = tmp_path / "log.sqlite3"
        self.config = tmp_path / "config.yaml"
        self.config.write_text(
            f"database: {self.database}\nfaq_dir: {self.faq}\nstaff:\n  admins: [{ADMIN}]\n  chat_id: {STAFF}\n",
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []

    def start(self) -> None:
        log = self.tmp_path / f"bot-{len(self.logs)}.log"
        self.logs.append(log)
        mark = self.api.mark()
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN, "TELEGRAM_API_BASE_URL": self.api.base_url}
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "--config", str(self.config), "run"],
                cwd=self.tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.api.wait_for("getUpdates", timeout=TIMEOUT, since=mark)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=TIMEOUT)
        self.process = None
        return code

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Bot]:
    with FakeBotAPI(expected_token=DEFAULT_TOKEN) as api:
        running = Bot(api, tmp_path)
        try:
            yield running
        finally:
            running.kill()


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
