"""Issue 12 in process: the store isolates a bad statement, update ids may restart, a hand-off and a vote
happen once, an undelivered reply reaches staff, /forget wins against work in flight."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from telegram import Update

from bot.storage import QuestionRecord, Store
from handlers.inbox import Inbox, JournalingRequest, QuarantiningBot
from tests.botapi_server import DEFAULT_TOKEN, FakeBotAPI
from tests.recording_request import RecordingRequest
from tests.telegram_harness import make_config, running_bot, sent

UNKNOWN = "What is the office rent per square metre in Yizhuang this month?"
QUESTION = "How many biotech companies are in E-Town?"


async def test_one_bad_statement_fails_alone_and_the_batch_is_written(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        good = [
            QuestionRecord(
                await store.question_id(), "2026-12-01T00:00:00+00:00", 7, 7, "en", f"q{i}", "answered", "a", 1.0
            )
            for i in range(3)
        ]
        futures = [store.queue_question(good[0], soon=False)]
        bad = QuestionRecord(
            await store.question_id(), "2026-12-01T00:00:00+00:00", 2**70, 1, "en", "x", "answered", "a", 1.0
        )
        futures.append(store.queue_question(bad, soon=False))
        futures += [store.queue_question(record, soon=False) for record in good[1:]]
        futures.append(store.queue_new_updates([(1, "{}"), (2, "{}")]))  # one batch with all of them
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert isinstance(results[1], sqlite3.Error) and "OverflowError" in str(results[1])
        assert [r for i, r in enumerate(results) if i != 1 and isinstance(r, BaseException)] == []
        assert await store.count_questions() == 3
        assert await store.newest_update_id() == 2
        # An id from outside beyond 64 bits is "not found", never an exception.
        assert await store.get_unanswered(99999999999999999999999) is None
        assert await store.get_question(2**64) is None
    finally:
        await store.close()


async def test_update_ids_that_restart_are_new_updates_not_redeliveries(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        first = json.dumps({"update_id": 1, "message": {"message_id": 10, "chat": {"id": 5}, "date": 100}})
        assert await store.journal_updates([(1, first)]) == {1}
        await store.finish_update(1)
        # The same update again (Telegram re-sends what it was not told about): dropped.
        assert await store.journal_updates([(1, first)]) == set()
        # The Bot API restarted its numbering: id 1 is another message now.
        second = json.dumps({"update_id": 1, "message": {"message_id": 11, "chat": {"id": 5}, "date": 200}})
        assert await store.journal_updates([(1, second)]) == {1}
        assert [payload for _, payload in await store.pending_updates()] == [second]
    finally:
        await store.close()


async def test_the_inbox_takes_new_updates_after_the_ids_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    api = FakeBotAPI(expected_token=config.telegram.token)
    async with running_bot(config, api=api) as tg:
        for n in range(3):
            api.push_message(600 + n, QUESTION)
        for update in await tg.app.bot.get_updates(timeout=0):
            await tg.app.update_queue.put(update)
        assert tg.app.update_queue.qsize() == 3
        while not tg.app.update_queue.empty():
            await tg.handle(tg.app.update_queue.get_nowait())
        api._next_update_id = 1  # a self-hosted Bot API server restarted: ids begin again
        api._updates.clear()
        api.push_message(700, QUESTION)
        api.push_message(701, QUESTION)
        fetched = await tg.app.bot.get_updates(offset=0, timeout=0)
        assert [u.update_id for u in fetched][:1] == [1]
        for update in fetched:
            await tg.app.update_queue.put(update)
        assert tg.app.update_queue.qsize() == 2  # not dropped as "already handled"


async def test_a_batch_with_an_unreadable_update_is_parsed_one_by_one(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    store = await Store.open(config.database)
    api = FakeBotAPI(expected_token=DEFAULT_TOKEN)
    inbox = Inbox()
    await inbox.open(store)
    try:
        journal = JournalingRequest(RecordingRequest(api), inbox)
        bot = QuarantiningBot(DEFAULT_TOKEN, journal=journal, request=RecordingRequest(api))
        async with bot:
            good = api.push_message(42, QUESTION)
            bad = api.push_update({"message": 42})
            huge = api.push_update(api.message_update(2**64, "a user id beyond 64 bits"))
            updates = await bot.get_updates(timeout=0)
            assert [u.update_id for u in updates] == [good, bad, huge]
            assert updates[0].message is not None and updates[1].message is None and updates[2].message is None
            assert await store.count_quarantined() == 2
            # The next getUpdates confirms all three: none is fetched again.
            assert await bot.get_updates(offset=huge + 1, timeout=0) == ()
    finally:
        await inbox.close()
        await store.close()


async def test_a_hand_off_happens_once_per_question_even_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    store = await Store.open(path)
    qid = await store.log_question(
        user_id=7, chat_id=7, lang="en", text=UNKNOWN, status="suggested", entry_id=None, score=0.1
    )
    first = await store.hand_off(
        question_id=qid, user_id=7, chat_id=7, lang="en", text=UNKNOWN, reason="none_of_these", first_name="Li"
    )
    await store.close()
    store = await Store.open(path)
    try:
        again = await store.hand_off(
            question_id=qid, user_id=7, chat_id=7, lang="en", text=UNKNOWN, reason="none_of_these", first_name="Li"
        )
        assert first is not None and again is not None
        assert first.created and not again.created and again.item_id == first.item_id
        assert await store.count_unanswered() == 1
        assert len(await store.pending_posts()) == 1
    finally:
        await store.close()


async def test_one_vote_per_user_and_answer(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        for _ in range(300):
            await store.record_feedback(user_id=7, question_id=None, entry_id="companies", helpful=True)
        assert await store.feedback_counts() == (1, 0)
        assert not await store.record_feedback(user_id=7, question_id=None, entry_id="companies", helpful=False)
        assert await store.feedback_counts() == (0, 1)  # a change of mind, not a second vote
        assert await store.record_feedback(user_id=8, question_id=None, entry_id="companies", helpful=True)
        assert await store.feedback_counts() == (1, 1)
    finally:
        await store.close()


@pytest.mark.parametrize(("question", "status"), [(QUESTION, "answered"), (UNKNOWN, "unanswered")])
async def test_an_undelivered_reply_is_logged_as_such_and_reaches_staff(
    tmp_path: Path, question: str, status: str
) -> None:
    """An answer Telegram would not take, and an unanswerable question whatever happens to its reply."""
    config = make_config(tmp_path)
    async with running_bot(config) as tg:
        tg.api.fail_next("sendMessage", status=500, times=2, description="Internal Server Error")
        await tg.send(31, question)
        store = tg.services.store
        assert store is not None
        (record,) = await store.recent_questions()
        assert record.status == status and not record.delivered
        (item,) = await store.list_unanswered()
        assert item.question_id == record.id
        (post,) = await store.pending_posts()  # no staff chat configured: it waits there
        assert post.reason == ("undelivered" if status == "answered" else "unanswered")


async def test_forget_during_a_slow_reply_leaves_nothing_behind(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with running_bot(config) as tg:
        user = 33
        tg.api.set_delay("sendMessage", 0.5)
        slow = asyncio.create_task(tg.send(user, UNKNOWN, first_name="Li", username="li_invest"))
        answered = asyncio.create_task(tg.send(user, QUESTION, first_name="Li", username="li_invest"))
        await asyncio.sleep(0.2)  # both are being answered, their rows not yet written
        tg.api.set_delay("sendMessage", 0)
        await tg.send(user, "/forget")
        await asyncio.gather(slow, answered)
    # The bot has stopped: everything queued is written (or dropped) now.
    with sqlite3.connect(config.database) as raw:
        assert raw.execute("SELECT COUNT(*) FROM questions WHERE user_id = ?", (user,)).fetchone() == (0,)
        assert raw.execute("SELECT COUNT(*) FROM users WHERE user_id = ?", (user,)).fetchone() == (0,)
        assert raw.execute("SELECT COUNT(*) FROM unanswered WHERE user_id = ?", (user,)).fetchone() == (0,)
        assert raw.execute("SELECT COUNT(*) FROM inbox WHERE payload LIKE '%li_invest%'").fetchone() == (0,)


@pytest.mark.parametrize("update", [{"inline_query": "text"}, {"message": 42}, {"callback_query": []}])
async def test_replayed_garbage_is_quarantined_not_fatal(tmp_path: Path, update: dict[str, object]) -> None:
    config = make_config(tmp_path)
    store = await Store.open(config.database)
    try:
        await store.journal_updates([(5, json.dumps({"update_id": 5, **update}))])
    finally:
        await store.close()
    for _ in range(2):
        async with running_bot(config) as tg:
            assert tg.app.update_queue.qsize() == 0
            tg.api.push_message(34, QUESTION)
            (fresh,) = await tg.app.bot.get_updates(timeout=0)
            assert isinstance(fresh, Update)
            await tg.handle(fresh)
            assert sent(tg.api.calls_to("sendMessage"))
    with sqlite3.connect(config.database) as raw:
        assert raw.execute("SELECT update_id FROM quarantine").fetchall() == [(5,)]


async def test_stats_count_undelivered_replies_and_quarantined_updates(tmp_path: Path) -> None:
    from bot.staff.stats import collect_stats, format_stats, stats_dict

    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        record = QuestionRecord(
            await store.question_id(), "2099-01-01T00:00:00+00:00", 7, 7, "en", "q", "answered", "a", 1.0, False
        )
        await store.queue_question(record)
        await store.quarantine_update(5, "TypeError in a message update", "{}")
        summary = await collect_stats(store)
        assert (summary.undelivered, summary.quarantined) == (1, 1)
        assert "Updates set aside as unreadable: 1" in format_stats(summary)
        assert stats_dict(summary)["quarantined"] == 1 and stats_dict(summary)["undelivered"] == 1
    finally:
        await store.close()
