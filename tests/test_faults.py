"""Faults with the real bot process: Bot API outages and errors, kill -9 during load, restarts."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter

from tests.bot_process import Bot
from tests.botapi_server import FakeBotAPI

QUESTION = "how many biotech companies in BDA?"
TIMEOUT = 60.0


def replies_per_chat(api: FakeBotAPI) -> Counter[int]:
    return Counter(int(c.params["chat_id"]) for c in api.calls_to("sendMessage") if c.status == 200)


def settle(api: FakeBotAPI, seconds: float = 1.5) -> None:
    """Give a duplicate reply, if there were to be one, time to show up."""
    time.sleep(seconds)


def test_outages_and_errors_then_every_update_answered_exactly_once(bot: Bot) -> None:
    api = bot.api
    bot.start()
    users = list(range(8001, 8021))
    api.refuse_connections(3.0)  # the Bot API is unreachable for a while
    for user in users[:5]:
        api.push_message(user, QUESTION)
    api.wait_for_count("sendMessage", 5, lambda c: c.status == 200, timeout=TIMEOUT)
    api.fail_next("getUpdates", status=500, times=3, description="Internal Server Error")
    api.drop_next("getUpdates")  # a request that times out / loses its connection
    for user in users[5:10]:
        api.push_message(user, QUESTION)
    api.wait_for_count("sendMessage", 10, lambda c: c.status == 200, timeout=TIMEOUT)
    api.fail_next("sendMessage", status=429, retry_after=1, times=2, description="Too Many Requests: retry after 1")
    for user in users[10:]:
        api.push_message(user, QUESTION)
    api.wait_for_count("sendMessage", 20, lambda c: c.status == 200, timeout=TIMEOUT)
    settle(api)
    assert replies_per_chat(api) == Counter(dict.fromkeys(users, 1))
    assert bot.process is not None and bot.process.poll() is None  # still running
    assert bot.stop() == 0


def test_kill_9_during_load_loses_no_acknowledged_question(bot: Bot) -> None:
    api = bot.api
    bot.start()
    api.set_delay("sendMessage", 0.05)  # replies trickle out, so the kill lands mid-run
    users = list(range(9001, 9121))
    for user in users:
        api.push_message(user, f"{QUESTION} #{user}")
    api.wait_for_count("sendMessage", 30, lambda c: c.status == 200, timeout=TIMEOUT)
    bot.kill()  # SIGKILL: no shutdown code runs
    acknowledged = set(replies_per_chat(api))
    assert 30 <= len(acknowledged) < len(users)
    with sqlite3.connect(bot.database) as db:
        logged = {int(row[0]) for row in db.execute("SELECT user_id FROM questions")}
    assert acknowledged <= logged  # WAL: every question the bot answered before the kill is in the log
    api.set_delay("sendMessage", 0.0)

    bot.start()
    later = list(range(9201, 9211))
    for user in later:
        api.push_message(user, QUESTION)
    api.wait_for_count("sendMessage", len(acknowledged) + len(later), lambda c: c.status == 200, timeout=TIMEOUT)
    settle(api)
    replies = replies_per_chat(api)
    assert all(replies[user] == 1 for user in later)
    # The restarted bot starts from the confirmed offset: nothing answered before the kill comes again.
    assert all(count == 1 for count in replies.values()), [u for u, n in replies.items() if n > 1]
    assert not api.pending_updates
    assert bot.stop() == 0
