"""Issue 12 with the real ``etown-bot run`` process: nothing an update, a hand-off or a signal does can
stall or stop the bot."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

from tests.bot_process import STAFF, Bot, free_port, post_first_update, post_update, spawn_bot
from tests.botapi_server import DEFAULT_TOKEN, FakeBotAPI

QUESTION = "how many biotech companies in BDA?"
UNKNOWN = "What is the office rent per square metre in Yizhuang this month?"
SECRET_WORDS = "my-private-words-9f3a"
TIMEOUT = 60.0


def replies_to(api: FakeBotAPI, chat_id: int) -> list[str]:
    return [
        str(c.params["text"]) for c in api.calls_to("sendMessage") if c.status == 200 and c.params["chat_id"] == chat_id
    ]


def rows(bot: Bot, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(bot.database) as raw:
        return list(raw.execute(sql).fetchall())


def malformed(api: FakeBotAPI, user_id: int) -> list[dict[str, object]]:
    """Updates with fields of the wrong type, as a broken or hostile Bot API server might send."""
    with_text_date = api.message_update(user_id, SECRET_WORDS)
    with_text_date["message"]["date"] = "yesterday"
    return [{"inline_query": "text"}, {"message": 42}, with_text_date]


def test_malformed_updates_are_quarantined_and_the_bot_answers_on(bot: Bot) -> None:
    api = bot.api
    bot.start()
    for update in malformed(api, 4101):
        api.push_update(update)
    api.push_message(4102, QUESTION)
    api.wait_for_count("sendMessage", 1, lambda c: c.status == 200 and c.params["chat_id"] == 4102, timeout=TIMEOUT)
    assert len(rows(bot, "SELECT id FROM quarantine")) == 3
    # Admins are told, in the staff chat (one notice each; they may come as a summary).
    api.wait_for("sendMessage", lambda c: c.params["chat_id"] == STAFF and "Kept aside so far" in c.params["text"])
    assert bot.stop() == 0
    bot.start()  # no crash at the next start, nothing retried
    api.push_message(4102, QUESTION)
    api.wait_for_count("sendMessage", 2, lambda c: c.status == 200 and c.params["chat_id"] == 4102, timeout=TIMEOUT)
    assert bot.stop() == 0
    assert len(rows(bot, "SELECT id FROM quarantine")) == 3
    logs = "".join(path.read_text(encoding="utf-8") for path in bot.logs)
    assert SECRET_WORDS not in logs  # logged once each, without what the user wrote
    assert "CRITICAL" not in logs
    assert logs.count("could not be read") == 3
    assert logs.count("could not be parsed (its content is not logged)") <= 3


def test_a_malformed_update_journaled_before_a_crash_is_quarantined_at_start(bot: Bot) -> None:
    api = bot.api
    bot.start()
    assert bot.stop() == 0
    # As if the process died after journaling it: the payload is in the inbox, unfinished.
    payload = json.dumps({"update_id": 999, **malformed(api, 4201)[2]})
    with sqlite3.connect(bot.database) as raw:
        raw.execute("INSERT INTO inbox (update_id, payload, received_at) VALUES (999, ?, 0)", (payload,))
    for _ in range(2):  # every start, not just the first
        bot.start()
        api.push_message(4202, QUESTION)
        api.wait_for("sendMessage", lambda c: c.status == 200 and c.params["chat_id"] == 4202, timeout=TIMEOUT)
        assert bot.stop() == 0
    assert rows(bot, "SELECT update_id FROM quarantine") == [(999,)]
    assert SECRET_WORDS not in "".join(path.read_text(encoding="utf-8") for path in bot.logs)


def test_a_hundred_hand_offs_never_delay_another_investor(bot: Bot) -> None:
    api = bot.api
    bot.start()
    askers = range(4301, 4306)
    for n in range(20):  # 5 investors x 20 unanswerable questions: 100 staff posts to a rate-limited group
        for user in askers:
            api.push_message(user, f"{UNKNOWN} ({n})")
    api.wait_for_count("sendMessage", 100, lambda c: c.status == 200 and c.params["chat_id"] in askers, timeout=TIMEOUT)
    started = time.monotonic()
    api.push_message(4399, QUESTION)
    api.wait_for("sendMessage", lambda c: c.status == 200 and c.params["chat_id"] == 4399, timeout=TIMEOUT)
    assert time.monotonic() - started < 1.0
    # The staff chat was told about all of them, most in summaries rather than 100 messages.
    staff_messages = replies_to(api, STAFF)
    assert len(staff_messages) < 30
    started = time.monotonic()
    assert bot.stop() == 0
    assert time.monotonic() - started < 15.0
    assert rows(bot, "SELECT COUNT(*) FROM unanswered") == [(100,)]
    bot.start()  # whatever was still pending goes out now
    deadline = time.monotonic() + TIMEOUT
    while rows(bot, "SELECT COUNT(*) FROM staff_outbox WHERE state IN ('pending', 'sending')") != [(0,)]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert bot.stop() == 0
    # Nothing repeated after the restart: one reply per question, one item per question, no post twice.
    per_chat = Counter(int(c.params["chat_id"]) for c in api.calls_to("sendMessage") if c.status == 200)
    assert all(per_chat[user] == 20 for user in askers)
    assert rows(bot, "SELECT COUNT(*) FROM staff_outbox WHERE state = 'pending'") == [(0,)]
    assert rows(bot, "SELECT COUNT(*) FROM staff_outbox") == [(100,)]


def test_a_second_sigterm_does_not_hang_the_shutdown(bot: Bot) -> None:
    api = bot.api
    bot.start()
    api.set_delay("sendMessage", 3.0)  # replies in flight when the signals arrive
    users = range(4401, 4411)
    for user in users:
        api.push_message(user, f"{QUESTION} #{user}")
    api.wait_for_count("sendMessage", 10, timeout=TIMEOUT)  # all ten are being sent
    assert bot.process is not None
    started = time.monotonic()
    bot.process.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    bot.process.send_signal(signal.SIGTERM)
    bot.process.send_signal(signal.SIGINT)
    code = bot.process.wait(timeout=TIMEOUT)
    bot.process = None
    assert code == 0
    assert time.monotonic() - started < 20.0
    api.set_delay("sendMessage", 0.0)
    logged = {int(str(text).rsplit("#", 1)[1]) for (text,) in rows(bot, "SELECT text FROM questions")}
    pending = rows(bot, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL AND payload IS NOT NULL")[0][0]
    assert len(logged) + int(str(pending)) >= 10  # every question logged, or journaled for the next start
    assert "already stopping" in bot.logs[-1].read_text(encoding="utf-8")


def test_a_deleted_database_stops_the_bot_with_a_clear_error(bot: Bot) -> None:
    api = bot.api
    bot.start()
    api.push_message(4501, QUESTION)
    api.wait_for("sendMessage", lambda c: c.status == 200 and c.params["chat_id"] == 4501, timeout=TIMEOUT)
    for suffix in ("", "-wal", "-shm"):
        bot.database.with_name(bot.database.name + suffix).unlink(missing_ok=True)
    assert bot.process is not None
    code = bot.process.wait(timeout=TIMEOUT)
    bot.process = None
    assert code == 1
    log = bot.logs[-1].read_text(encoding="utf-8")
    assert "the database file was deleted while the bot was running" in log


def test_a_malformed_webhook_update_is_quarantined_with_a_200(tmp_path: Path) -> None:
    """python-telegram-bot's webhook answered 400, so Telegram would send the update again and again."""
    port, secret = free_port(), "s3cret-webhook_token"
    database = tmp_path / "log.sqlite3"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database: {database}\ntelegram:\n  webhook:\n    url: https://bot.example.com/hook\n"
        f"    listen: 127.0.0.1\n    port: {port}\n    secret_token: {secret}\n",
        encoding="utf-8",
    )
    with FakeBotAPI(expected_token=DEFAULT_TOKEN) as api:
        log_path = tmp_path / "bot.log"
        process = spawn_bot(config, tmp_path, api.base_url, log_path)
        try:
            api.wait_for("setWebhook", timeout=TIMEOUT)
            local = f"http://127.0.0.1:{port}/hook"
            bad = {"update_id": 1, **malformed(api, 4601)[2]}
            status = post_first_update(local, bad, secret)
            assert status == 200
            assert post_update(local, {"update_id": 2, "message": 42}, secret) == 200
            assert post_update(local, {"update_id": 3, **api.message_update(4602, QUESTION)}, secret) == 200
            api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 4602, timeout=TIMEOUT)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=TIMEOUT) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    with sqlite3.connect(database) as raw:
        assert raw.execute("SELECT update_id FROM quarantine ORDER BY id").fetchall() == [(1,), (2,)]
    log = log_path.read_text(encoding="utf-8")
    assert SECRET_WORDS not in log and "CRITICAL" not in log
