"""End to end: the real ``etown-bot run`` process long-polls the stand-in Bot API server.

An English and a Chinese investor each hold a conversation (start, topics, a fact, a did-you-mean
click, feedback, an unknown question, a sticker, hostile HTML); the test asserts on what the bot sent,
then stops the process with SIGTERM and expects exit code 0 and no token in its logs.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.assistant import Assistant, Knowledge
from bot.config import Config
from tests.bot_process import free_port, post_first_update, post_update, spawn_bot
from tests.botapi_server import DEFAULT_TOKEN, Call, FakeBotAPI, JSONDict

ROOT = Path(__file__).resolve().parents[2]
EN_USER, ZH_USER = 5001, 5002
TIMEOUT = 30.0


def _chat_of(call: Call) -> int | None:
    raw = call.params.get("chat_id")
    if raw is None and isinstance(call.params.get("message"), dict):
        raw = call.params["message"]["chat"]["id"]
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


@dataclass
class Conversation:
    """One investor talking to the bot process; keeps a transcript for the README."""

    api: FakeBotAPI
    user_id: int
    language_code: str
    transcript: list[str] = field(default_factory=list)

    def _wait(self, mark: int, method: str) -> Call:
        def mine(call: Call) -> bool:
            return _chat_of(call) == self.user_id or method in ("answerCallbackQuery", "answerInlineQuery")

        call = self.api.wait_for(method, mine, timeout=TIMEOUT, since=mark)
        self.api.wait_for_response(call, timeout=TIMEOUT)
        return call

    def say(self, text: str, expect: str = "sendMessage") -> JSONDict:
        mark = self.api.mark()
        self.api.push_message(self.user_id, text, language_code=self.language_code)
        self.transcript.append(f"> {text}")
        call = self._wait(mark, expect)
        assert call.status == 200, call.response
        self._record(call)
        return call.params

    def send(self, update: JSONDict, label: str, expect: str = "sendMessage") -> JSONDict:
        mark = self.api.mark()
        self.api.push_update(update)
        self.transcript.append(f"> {label}")
        call = self._wait(mark, expect)
        assert call.status == 200, call.response
        self._record(call)
        return call.params

    def click(self, data: str, label: str, expect: str) -> tuple[JSONDict, JSONDict]:
        """Press a button on the bot's last message; returns (the answerCallbackQuery, the ``expect`` call)."""
        mark = self.api.mark()
        self.api.push_update(self.api.callback_update(self.user_id, data, language_code=self.language_code))
        self.transcript.append(f"> [{label}]")
        answered = self._wait(mark, "answerCallbackQuery")
        call = self._wait(mark, expect) if expect != "answerCallbackQuery" else answered
        assert call.status == 200, call.response
        self._record(call)
        return answered.params, call.params

    def _record(self, call: Call) -> None:
        text = call.params.get("text")
        if text:
            first = str(text).split("\n")
            self.transcript.append("< " + " / ".join(line for line in first[:3] if line.strip())[:300])
        labels = _buttons(call.params)
        if labels:
            self.transcript.append("  buttons: " + " | ".join(label for label, _ in labels))


def _buttons(params: JSONDict) -> list[tuple[str, str]]:
    markup = params.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


def _suggested_question(candidates: list[str]) -> str:
    """A question the shipped knowledge base answers with did-you-mean choices (found, not assumed)."""
    knowledge = Knowledge(Config().knowledge_dir, Config().matching)
    knowledge.load()
    assistant = Assistant(knowledge)
    for question in candidates:
        if assistant.resolve(question).status == "suggested":
            return question
    raise AssertionError(f"none of {candidates} gives a did-you-mean with the shipped knowledge base")


@dataclass
class BotProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI(expected_token=DEFAULT_TOKEN) as server:
        yield server


@pytest.fixture
def bot_process(api: FakeBotAPI, tmp_path: Path) -> Iterator[BotProcess]:
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {tmp_path / 'log.sqlite3'}\nlog_level: DEBUG\n", encoding="utf-8")
    log_path = tmp_path / "bot.log"
    process = spawn_bot(config, tmp_path, api.base_url, log_path)
    try:
        api.wait_for("getUpdates", timeout=TIMEOUT)  # initialised, menus set, polling
        yield BotProcess(process, log_path)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_english_and_chinese_conversations(api: FakeBotAPI, bot_process: BotProcess) -> None:
    assert [c["command"] for c in api.commands()] == ["start", "topics", "lang", "help", "forget"]
    assert api.commands(language_code="zh")

    en = Conversation(api, EN_USER, "en")
    start = en.say("/start")
    assert "Beijing E-Town" in start["text"]
    topics = _buttons(start)
    assert topics and all(data.startswith("t:en:") for _, data in topics)
    _, menu = en.click(topics[0][1], topics[0][0], "editMessageText")
    entries = [b for b in _buttons(menu) if b[1].startswith("a:en:")]
    assert entries
    _, answer = en.click(entries[0][1], entries[0][0], "sendMessage")
    assert "<b>" in answer["text"] and "href=" in answer["text"]

    fact = en.say("How many biotech and health companies are there in Beijing E-Town?")
    assert "companies" in fact["text"] and "Source" in fact["text"] and "published" in fact["text"]
    helpful = next(data for label, data in _buttons(fact) if "Helpful" in label and "Not" not in label)
    thanks, _ = en.click(helpful, "👍 Helpful", "answerCallbackQuery")
    assert thanks["text"] == "Thank you for the feedback!"

    question = _suggested_question(
        ["incentives", "talent", "tell me about talent", "awards for r&d", "biopark", "support for parks"]
    )
    unsure = en.say(question)
    choices = _buttons(unsure)
    assert unsure["text"].startswith("I'm not sure") and choices[-1][0] == "None of these"
    _, chosen = en.click(choices[0][1], choices[0][0], "sendMessage")
    assert "<b>" in chosen["text"]

    unknown = en.say("What is the office rent per square metre in Yizhuang this month?")
    assert "passed your question to our staff" in unknown["text"]
    sticker = en.send(api.sticker_update(EN_USER), "(a sticker)")
    assert "only read text" in sticker["text"]
    hostile = en.say('<script>alert("x")</script><b>bold</b> & <a href="javascript:x">click</a>')
    assert "<script>" not in hostile["text"]

    zh = Conversation(api, ZH_USER, "zh-hans")
    start_zh = zh.say("/start")
    assert "经开区" in start_zh["text"]
    topics_zh = _buttons(start_zh)
    _, menu_zh = zh.click(topics_zh[0][1], topics_zh[0][0], "editMessageText")
    entries_zh = [b for b in _buttons(menu_zh) if b[1].startswith("a:zh:")]
    _, answer_zh = zh.click(entries_zh[0][1], entries_zh[0][0], "sendMessage")
    assert "来源" in answer_zh["text"]
    fact_zh = zh.say("亦庄有多少家生物医药企业？")
    assert "家企业" in fact_zh["text"] and "来源" in fact_zh["text"]
    unsure_zh = zh.say(_suggested_question(["政策", "人才", "经开区人才", "亦庄奖励", "园区支持"]))
    assert unsure_zh["text"].startswith("我不太确定")
    none_data = _buttons(unsure_zh)[-1][1]
    _, handed = zh.click(none_data, "都不是", "editMessageText")
    assert "已转给工作人员" in handed["text"]
    unknown_zh = zh.say("北京经开区写字楼租金每平米多少钱？")
    assert "工作人员" in unknown_zh["text"]
    zh.send(api.photo_update(ZH_USER, language_code="zh"), "（一张图片）")

    # Every callback query was answered exactly once.
    queries = [c for c in api.calls if c.method == "answerCallbackQuery"]
    assert len(queries) == len({c.params["callback_query_id"] for c in queries}) == 7

    bot_process.process.send_signal(signal.SIGTERM)
    assert bot_process.process.wait(timeout=TIMEOUT) == 0
    log = bot_process.log()
    assert DEFAULT_TOKEN not in log
    assert DEFAULT_TOKEN.split(":")[1] not in log
    assert "Traceback" not in log, log

    print("\n".join(["", "--- English ---", *en.transcript, "--- 中文 ---", *zh.transcript]))


def test_traditional_chinese_and_small_talk_with_the_real_process(api: FakeBotAPI, bot_process: BotProcess) -> None:
    # issue 15: Traditional questions got Simplified answers; greetings and "?" were passed to staff
    hant = Conversation(api, ZH_USER + 1, "zh-hant")
    start = hant.say("/start")
    assert "經開區" in start["text"]
    topics = _buttons(start)
    assert topics and all(data.startswith("t:zh-Hant:") for _, data in topics)
    _, menu = hant.click(topics[0][1], topics[0][0], "editMessageText")
    entries = [b for b in _buttons(menu) if b[1].startswith("a:zh-Hant:")]
    assert entries and "经" not in "".join(label for label, _ in entries)
    _, answer = hant.click(entries[0][1], entries[0][0], "sendMessage")
    assert "來源" in answer["text"]
    fact = hant.say("亦莊有多少家生物醫藥企業？")
    assert "超過5000家企業" in fact["text"] and "來源" in fact["text"] and "超过" not in fact["text"]
    labels = [label for label, _ in _buttons(fact)]
    assert labels[-2:] == ["👍 有幫助", "👎 沒幫助"] and all(label.startswith("相關：") for label in labels[:-2])
    hello = hant.say("您好")
    assert hello["text"].startswith("您好！") and _buttons(hello)  # the greeting shows the topics
    thanks = hant.say("謝謝！")
    assert thanks["text"].startswith("不客氣！")
    unclear = hant.say("？？")
    assert "換個說法" in unclear["text"]  # no letters: the client's language, Traditional
    # a follow-up dialogue: a pronoun, then a bare period, in the same chat
    park = hant.say("國際醫藥創新公園是什麼？")
    assert "國際醫藥創新公園" in park["text"]
    near = hant.say("它周邊有多少家三甲醫院？")
    assert "三甲醫院" in near["text"] and "來源" in near["text"]
    person = hant.say("我要跟真人聯繫")
    assert "轉給北京經開區招商工作人員" in person["text"]

    bot_process.process.send_signal(signal.SIGTERM)
    assert bot_process.process.wait(timeout=TIMEOUT) == 0
    assert "Traceback" not in bot_process.log()
    with sqlite3.connect(bot_process.log_path.parent / "log.sqlite3") as db:
        statuses = [row[0] for row in db.execute("SELECT status FROM questions ORDER BY id")]
        queued = [row[0] for row in db.execute("SELECT text FROM unanswered")]
    assert statuses == ["answered", "smalltalk", "smalltalk", "unclear", "answered", "answered", "answered"]
    assert queued == ["我要跟真人聯繫"]  # asking for a person is the one hand-off
    print("\n".join(["", "--- 繁體中文 ---", *hant.transcript]))


def test_missing_or_malformed_token_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    for token, expected in (("", "no Telegram token"), ("12345:short", "not a bot token")):
        env["TELEGRAM_BOT_TOKEN"] = token
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0]
        if token:
            assert token not in result.stderr


def test_a_token_telegram_refuses_exits_2(api: FakeBotAPI, tmp_path: Path) -> None:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": "999:" + "x" * 35, "TELEGRAM_API_BASE_URL": api.base_url}
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {tmp_path / 'log.sqlite3'}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Telegram refused the token" in result.stderr
    assert "x" * 35 not in result.stderr


def test_webhook_mode_requires_the_secret_token(api: FakeBotAPI, tmp_path: Path) -> None:
    port, secret = free_port(), "s3cret-webhook_token"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database: {tmp_path / 'log.sqlite3'}\n"
        "telegram:\n"
        "  webhook:\n"
        "    url: https://bot.example.com/etown/hook\n"
        "    listen: 127.0.0.1\n"
        f"    port: {port}\n"
        f"    secret_token: {secret}\n",
        encoding="utf-8",
    )
    log_path = tmp_path / "bot.log"
    process = spawn_bot(config, tmp_path, api.base_url, log_path)
    try:
        set_webhook = api.wait_for("setWebhook", timeout=TIMEOUT)
        assert set_webhook.params["url"] == "https://bot.example.com/etown/hook"
        assert set_webhook.params["secret_token"] == secret
        local = f"http://127.0.0.1:{port}/etown/hook"
        update = {"update_id": 1, **api.message_update(EN_USER, "/help")}
        status = post_first_update(local, update, None)
        assert status == 403  # no secret: refused, not processed
        assert post_update(local, {"update_id": 2, **api.message_update(EN_USER, "/help")}, "wrong") == 403
        mark = api.mark()
        help_update = {"update_id": 3, **api.message_update(EN_USER, "/help")}
        assert post_update(local, help_update, secret) == 200
        reply = api.wait_for("sendMessage", timeout=TIMEOUT, since=mark)
        assert "/topics" in reply.params["text"]
        assert len(api.calls_to("sendMessage")) == 1
        # Telegram re-sends an update (the same one) when it did not get the 200 in time: journaled, so
        # answered once.
        assert post_update(local, help_update, secret) == 200
        assert post_update(local, {"update_id": 4, **api.message_update(EN_USER, "/lang")}, secret) == 200
        api.wait_for_count("sendMessage", 2, timeout=TIMEOUT)
        time.sleep(0.5)  # time for a wrong second reply to /help to show up
        assert len(api.calls_to("sendMessage")) == 2
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    log = log_path.read_text(encoding="utf-8")
    assert secret not in log and DEFAULT_TOKEN not in log


def test_sigterm_lets_in_flight_updates_finish(api: FakeBotAPI, bot_process: BotProcess) -> None:
    api.set_delay("sendMessage", 1.5)  # replies are slow, so they are still in flight at SIGTERM
    users = range(7001, 7006)
    for user in users:
        api.push_message(user, "How many biotech companies are there in BDA?")
    api.wait_for_count("sendMessage", len(users), timeout=TIMEOUT)  # all five replies are on their way
    bot_process.process.send_signal(signal.SIGTERM)
    assert bot_process.process.wait(timeout=TIMEOUT) == 0
    calls = api.calls_to("sendMessage")
    assert sorted(int(c.params["chat_id"]) for c in calls) == list(users)
    assert all(c.status == 200 for c in calls)  # each finished before the process exited
