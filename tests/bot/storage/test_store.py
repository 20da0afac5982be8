from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.storage import SCHEMA_VERSION, QuestionRecord, Status, Store, StoreError


async def test_creates_folder_private_file_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "log.sqlite3"
    store = await Store.open(path)
    try:
        assert path.exists()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert await store.schema_version() == SCHEMA_VERSION
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_question_log_queue_feedback_and_prefs(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        qid = await store.log_question(
            user_id=7, chat_id=70, lang="en", text="rents?", status="unanswered", entry_id=None, score=0.1
        )
        record = await store.get_question(qid)
        assert record is not None and record.text == "rents?" and record.status == "unanswered"
        item_id = await store.add_unanswered(question_id=qid, user_id=7, chat_id=70, lang="en", text="rents?")
        assert [i.id for i in await store.list_unanswered()] == [item_id]
        assert await store.answer_unanswered(item_id, "We will send a list.", by=99)
        item = await store.get_unanswered(item_id)
        assert item is not None and item.status == "answered" and item.replied_by == 99 and item.replied_at
        assert await store.list_unanswered() == []
        assert not await store.dismiss_unanswered(12345, by=1)
        await store.record_feedback(user_id=7, question_id=qid, entry_id="x", helpful=True)
        await store.record_feedback(user_id=8, question_id=None, entry_id="x", helpful=False)
        assert await store.feedback_counts() == (1, 1)
        assert await store.get_user_lang(7) is None
        await store.set_user_lang(7, "zh")
        await store.set_user_lang(7, "en")
        assert await store.get_user_lang(7) == "en"
        assert await store.count_questions() == 1
    finally:
        await store.close()


async def test_data_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    store = await Store.open(path)
    await store.log_question(user_id=1, chat_id=1, lang="zh", text="你好", status="answered", entry_id="a", score=0.9)
    await store.close()
    store = await Store.open(path)
    try:
        assert (await store.recent_questions())[0].text == "你好"
    finally:
        await store.close()


async def test_concurrent_writes_lose_nothing(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        await asyncio.gather(
            *(
                store.log_question(
                    user_id=i, chat_id=i, lang="en", text=f"q{i}", status="answered", entry_id="a", score=1
                )
                for i in range(200)
            )
        )
        assert await store.count_questions() == 200
    finally:
        await store.close()


async def test_writes_retry_while_another_process_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    store = await Store.open(path, busy_timeout_ms=50)
    blocker = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        task = asyncio.create_task(
            store.log_question(user_id=1, chat_id=1, lang="en", text="q", status="answered", entry_id="a", score=1)
        )
        await asyncio.sleep(0.3)
        assert not task.done()  # waiting, not failed
        blocker.execute("COMMIT")
        assert await asyncio.wait_for(task, 5) > 0
    finally:
        blocker.close()
        await store.close()


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        await Store.open(path)


async def test_garbage_file_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a usable database"):
        await Store.open(path)


# --- staff follow-up loop, privacy, retention, statistics (schema 2)


async def test_version_1_database_is_migrated_with_its_rows(tmp_path: Path) -> None:
    from bot.storage import MIGRATIONS

    path = tmp_path / "log.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
        raw.execute(
            "INSERT INTO unanswered (created_at, user_id, chat_id, lang, text) VALUES ('2026-01-01T00:00:00+00:00',"
            " 5, 5, 'en', 'old question')"
        )
        raw.execute("INSERT INTO users (user_id, lang, updated_at) VALUES (5, 'zh', '2026-01-01T00:00:00+00:00')")
    store = await Store.open(path)
    try:
        assert await store.schema_version() == SCHEMA_VERSION == 5
        item = (await store.list_unanswered())[0]
        assert item.text == "old question" and item.delivery_error is None
        profile = await store.get_user(5)
        assert profile is not None and profile.lang == "zh" and profile.first_name is None
        await store.link_staff_message(-100, 1, item.id)
        assert await store.item_for_staff_message(-100, 1) == item.id
    finally:
        await store.close()


async def test_staff_message_mapping_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    store = await Store.open(path)
    item_id = await store.add_unanswered(question_id=None, user_id=7, chat_id=7, lang="en", text="rents?")
    other = await store.add_unanswered(question_id=None, user_id=8, chat_id=8, lang="en", text="land?")
    await store.link_staff_message(-1001, 55, item_id)
    await store.link_staff_message(-1001, 56, other)
    await store.link_staff_message(42, 3, item_id)  # the same item also shown in an admin's private chat
    with pytest.raises(sqlite3.IntegrityError):
        await store.link_staff_message(-1001, 57, 999_999)
    await store.close()

    store = await Store.open(path)
    try:
        assert await store.item_for_staff_message(-1001, 55) == item_id
        assert await store.item_for_staff_message(-1001, 56) == other
        assert await store.item_for_staff_message(-1001, 57) is None
        assert await store.item_for_staff_message(-1002, 55) is None  # ids are per chat
        assert await store.staff_messages_for_item(item_id) == [(-1001, 55), (42, 3)]
    finally:
        await store.close()


async def test_profiles_keep_language_and_refresh_names(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        assert await store.get_user(7) is None
        await store.set_user_lang(7, "zh")
        await store.remember_user(7, "Li", "li_invest")
        profile = await store.get_user(7)
        assert profile is not None
        assert (profile.lang, profile.first_name, profile.username) == ("zh", "Li", "li_invest")
        await store.remember_user(7, "Li Wei", None)
        await store.set_user_lang(7, "en")
        profile = await store.get_user(7)
        assert profile is not None
        assert (profile.lang, profile.first_name, profile.username) == ("en", "Li Wei", None)
        await store.remember_user(9, "", "")
        nine = await store.get_user(9)
        assert nine is not None and nine.first_name is None and nine.username is None and nine.lang is None
    finally:
        await store.close()


async def test_failed_delivery_keeps_the_item_open_and_closing_is_race_safe(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        item_id = await store.add_unanswered(question_id=None, user_id=7, chat_id=7, lang="en", text="rents?")
        assert await store.note_delivery_failed(item_id, "Forbidden: bot was blocked by the user")
        item = await store.get_unanswered(item_id)
        assert item is not None and item.status == "new" and item.reply is None
        assert item.delivery_error == "Forbidden: bot was blocked by the user" and item.delivery_failed_at
        assert await store.count_unanswered() == 1
        assert not await store.note_delivery_failed(999, "x")

        assert await store.answer_unanswered(item_id, "Try the park office.", by=99, only_open=True)
        item = await store.get_unanswered(item_id)
        assert item is not None and item.status == "answered" and item.replied_by == 99
        assert item.delivery_error is None  # delivered in the end
        # A second staff member answering the same item loses the race, and the first reply stays.
        assert not await store.answer_unanswered(item_id, "Other text", by=100, only_open=True)
        assert not await store.dismiss_unanswered(item_id, by=100, only_open=True)
        item = await store.get_unanswered(item_id)
        assert item is not None and item.reply == "Try the park office." and item.status == "answered"
        assert await store.count_unanswered() == 0 and await store.count_unanswered("answered") == 1
        assert await store.count_unanswered(None) == 1
    finally:
        await store.close()


async def test_forget_user_removes_their_rows_and_anonymises_open_items(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        mine = [
            await store.log_question(
                user_id=7, chat_id=7, lang="en", text=f"q{i}", status="unanswered", entry_id=None, score=0
            )
            for i in range(3)
        ]
        theirs = await store.log_question(
            user_id=8, chat_id=8, lang="en", text="other", status="answered", entry_id="a", score=1
        )
        open_item = await store.add_unanswered(question_id=mine[0], user_id=7, chat_id=7, lang="en", text="q0")
        closed = await store.add_unanswered(question_id=mine[1], user_id=7, chat_id=7, lang="en", text="q1")
        await store.answer_unanswered(closed, "answer", by=1)
        dismissed = await store.add_unanswered(question_id=mine[2], user_id=7, chat_id=7, lang="en", text="q2")
        await store.dismiss_unanswered(dismissed, by=1)
        other_item = await store.add_unanswered(question_id=theirs, user_id=8, chat_id=8, lang="en", text="x")
        await store.link_staff_message(-100, 1, open_item)
        await store.link_staff_message(-100, 2, closed)
        await store.record_feedback(user_id=7, question_id=mine[0], entry_id="a", helpful=False)
        await store.record_feedback(user_id=8, question_id=theirs, entry_id="a", helpful=True)
        await store.remember_user(7, "Li", "li")
        await store.remember_user(8, "Wang", None)
        await store.link_staff_message(-100, 3, other_item)
        assert await store.staff_messages_for_user(7) == [(-100, 1, open_item), (-100, 2, closed)]

        counts = await store.forget_user(7)
        assert (counts.questions, counts.feedback, counts.items_deleted, counts.items_anonymised, counts.users) == (
            3,
            1,
            2,
            1,
            1,
        )
        assert counts.total == 8
        assert [q.user_id for q in await store.recent_questions()] == [8]
        assert await store.feedback_counts() == (1, 0)
        assert await store.get_user(7) is None and await store.get_user(8) is not None
        item = await store.get_unanswered(open_item)
        assert item is not None and item.text == "q0" and item.status == "new"
        assert (item.user_id, item.chat_id, item.question_id) == (None, None, None)
        assert await store.get_unanswered(closed) is None and await store.get_unanswered(dismissed) is None
        assert await store.item_for_staff_message(-100, 1) == open_item  # staff can still answer it in the FAQ
        assert await store.item_for_staff_message(-100, 2) is None
        assert await store.staff_messages_for_user(7) == []
        assert await store.staff_messages_for_user(8) == [(-100, 3, other_item)]
        other = await store.get_unanswered(other_item)
        assert other is not None and other.user_id == 8
        with sqlite3.connect(store.path) as raw:
            assert raw.execute("SELECT COUNT(*) FROM questions WHERE user_id = 7 OR chat_id = 7").fetchone()[0] == 0
            assert raw.execute("SELECT COUNT(*) FROM unanswered WHERE user_id = 7 OR chat_id = 7").fetchone()[0] == 0
        assert (await store.forget_user(7)).total == 0
    finally:
        await store.close()


async def test_purge_keeps_recent_rows_and_open_items(tmp_path: Path) -> None:
    import datetime as dt

    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    old = "2025-10-01T08:00:00+00:00"
    recent = "2026-11-20T08:00:00+00:00"
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        old_q = await store.log_question(
            user_id=1, chat_id=1, lang="en", text="old", status="unanswered", entry_id=None, score=0, asked_at=old
        )
        await store.log_question(
            user_id=2, chat_id=2, lang="en", text="new", status="answered", entry_id="a", score=1, asked_at=recent
        )
        old_open = await store.add_unanswered(question_id=old_q, user_id=1, chat_id=1, lang="en", text="old")
        old_closed = await store.add_unanswered(question_id=None, user_id=3, chat_id=3, lang="en", text="closed")
        await store.record_feedback(user_id=1, question_id=old_q, entry_id="a", helpful=True)
        await store.remember_user(3, "Idle", None)
        await store.remember_user(2, "Active", None)
        with sqlite3.connect(store.path) as raw:
            raw.execute("UPDATE unanswered SET created_at = ?", (old,))
            raw.execute("UPDATE unanswered SET status = 'dismissed', replied_at = ? WHERE id = ?", (old, old_closed))
            raw.execute("UPDATE feedback SET created_at = ?", (old,))
            raw.execute("UPDATE users SET updated_at = ?", (old,))

        counts = await store.purge_older_than(365, now=now)
        assert (counts.questions, counts.feedback, counts.items, counts.users) == (1, 1, 1, 1)
        assert [q.text for q in await store.recent_questions()] == ["new"]
        kept = await store.get_unanswered(old_open)
        assert kept is not None and kept.status == "new" and kept.text == "old"
        assert await store.get_unanswered(old_closed) is None
        assert await store.get_user(3) is None  # idle, nothing refers to it
        assert await store.get_user(2) is not None  # has a recent question
        assert (await store.purge_older_than(365, now=now)).total == 0
        with pytest.raises(ValueError):
            await store.purge_older_than(0)
    finally:
        await store.close()


async def test_statistics_queries(tmp_path: Path) -> None:
    import datetime as dt

    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        rows: list[tuple[str, Status, str | None]] = [
            ("2026-11-25T09:00:00+00:00", "answered", "a"),
            ("2026-11-25T10:00:00+00:00", "answered", "b"),
            ("2026-11-24T23:59:59+00:00", "unanswered", None),
            ("2026-11-20T10:00:00+00:00", "answered", "a"),
            ("2026-11-20T11:00:00+00:00", "suggested", None),
            ("2026-10-01T10:00:00+00:00", "answered", "c"),  # outside 30 days
        ]
        for asked_at, status, entry in rows:
            await store.log_question(
                user_id=1, chat_id=1, lang="en", text="q", status=status, entry_id=entry, score=0.5, asked_at=asked_at
            )
        since_week = "2026-11-18T12:00:00+00:00"
        counts = await store.status_counts(since_week)
        assert (counts.answered, counts.suggested, counts.unanswered, counts.total) == (3, 1, 1, 5)
        assert (await store.status_counts()).total == 6
        assert await store.top_entries(since_week) == [("a", 2), ("b", 1)]
        assert await store.top_entries(None, limit=1) == [("a", 2)]

        days = await store.daily_counts(30, today=dt.date(2026, 11, 25))
        assert len(days) == 30 and days[0].day == "2026-10-27" and days[-1].day == "2026-11-25"
        by_day = {d.day: d for d in days}
        assert (by_day["2026-11-25"].answered, by_day["2026-11-25"].not_answered) == (2, 0)
        assert by_day["2026-11-24"].unanswered == 1
        assert (by_day["2026-11-20"].answered, by_day["2026-11-20"].suggested) == (1, 1)
        assert sum(d.answered + d.not_answered for d in days) == 5

        await store.record_feedback(user_id=1, question_id=None, entry_id="a", helpful=True)
        assert await store.feedback_counts(since="2999-01-01") == (0, 0)
        assert await store.feedback_counts(since="2000-01-01") == (1, 0)
    finally:
        await store.close()


async def test_iter_questions_between_dates_in_batches(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        for day in range(1, 31):
            for hour in (0, 23):
                await store.log_question(
                    user_id=1,
                    chat_id=1,
                    lang="en",
                    text=f"{day}-{hour}",
                    status="answered",
                    entry_id="a",
                    score=1,
                    asked_at=f"2026-11-{day:02d}T{hour:02d}:00:00+00:00",
                )
        everything = [q.text async for q in store.iter_questions(batch=7)]
        assert len(everything) == 60 and everything[0] == "1-0" and everything[-1] == "30-23"
        window = [q.text async for q in store.iter_questions("2026-11-10", "2026-11-12", batch=3)]
        assert window == ["10-0", "10-23", "11-0", "11-23"]
        assert [q.text async for q in store.iter_questions(start="2026-11-30")] == ["30-0", "30-23"]
        assert [q.text async for q in store.iter_questions(end="2026-11-02")] == ["1-0", "1-23"]
    finally:
        await store.close()


async def test_inbox_journals_once_and_forgets_finished_ids_after_an_hour(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        assert await store.journal_updates([(1, "{}"), (2, "{}"), (3, "{}")], now=1000.0) == {1, 2, 3}
        assert await store.journal_updates([(3, "{}"), (4, "{}")], now=1001.0) == {4}
        await store.finish_update(1, now=1000.0)
        await store.finish_update(2, now=5000.0)
        assert [update_id for update_id, _ in await store.pending_updates()] == [3, 4]
        assert await store.purge_inbox(3600.0, now=5000.0) == 1  # 1 only: 2 finished too recently
        assert await store.journal_updates([(1, "{}")]) == {1}  # forgotten ids are new again
    finally:
        await store.close()


async def test_concurrent_single_writes_share_commits_and_fail_alone(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:

        async def ask(i: int) -> int:
            return await store.log_question(
                user_id=i, chat_id=i, lang="en", text=f"q{i}", status="answered", entry_id="a", score=1
            )

        bad = store._insert(  # violates the status CHECK: only this caller fails, the batch commits
            "INSERT INTO questions (asked_at, lang, text, status) VALUES ('x', 'en', 'bad', 'bogus')", ()
        )
        results = await asyncio.gather(
            *(ask(i) for i in range(50)), bad, *(ask(i) for i in range(50, 100)), return_exceptions=True
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        assert len(failed) == 1 and isinstance(failed[0], sqlite3.IntegrityError)
        ids = [r for r in results if isinstance(r, int)]
        assert len(set(ids)) == 100
        texts = {r.id: r.text for r in await store.recent_questions(limit=200)}
        assert all(texts[question_id] == f"q{i}" for i, question_id in enumerate(ids))
        # Statements still queued when the store closes are written, not dropped.
        pending = asyncio.ensure_future(ask(100))
        await asyncio.sleep(0)
    finally:
        await store.close()
    assert pending.done() and pending.result() > 0
    with sqlite3.connect(tmp_path / "log.sqlite3") as raw:
        assert raw.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 101


async def test_question_ids_come_from_blocks_that_never_collide_between_processes(tmp_path: Path) -> None:
    from bot.storage import QUESTION_ID_BLOCK

    path = tmp_path / "log.sqlite3"
    bot, shell = await Store.open(path), await Store.open(path)  # e.g. the bot and `etown-bot shell`
    try:

        async def ask(store: Store, text: str) -> int:
            return await store.log_question(
                user_id=1, chat_id=1, lang="en", text=text, status="answered", entry_id="a", score=1
            )

        ids = [await ask(store, f"{name}{i}") for i in range(3) for name, store in (("b", bot), ("s", shell))]
        reserved = await bot.question_id()  # handed out, never written: a gap, not a clash
        ids += [await ask(bot, "b3"), await ask(shell, "s3")]
    finally:
        await bot.close()
        await shell.close()
    assert len(set(ids)) == len(ids) and reserved not in ids
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 8
    again = await Store.open(path)  # a restart starts a fresh block after both
    try:
        assert await again.question_id() == 2 * QUESTION_ID_BLOCK + 1
    finally:
        await again.close()


async def test_a_version_3_database_hands_out_ids_after_its_questions(tmp_path: Path) -> None:
    from bot.storage import MIGRATIONS

    path = tmp_path / "log.sqlite3"
    with sqlite3.connect(path) as raw:
        for number in range(3):
            raw.executescript(f"BEGIN; {MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;")
        raw.execute(
            "INSERT INTO questions (id, asked_at, lang, text, status) VALUES (41, 'x', 'en', 'old', 'answered')"
        )
    store = await Store.open(path)
    try:
        new = await store.log_question(
            user_id=1, chat_id=1, lang="en", text="new", status="answered", entry_id="a", score=1
        )
        assert new == 42
    finally:
        await store.close()


async def test_a_batch_that_cannot_be_written_fails_its_callers_instead_of_hanging(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:

        async def broken(*args: object, **kwargs: object) -> object:
            raise RuntimeError("the disk went away")

        store._writer.transact = broken  # type: ignore[method-assign,assignment]
        with pytest.raises(sqlite3.OperationalError, match="the disk went away"):
            await asyncio.wait_for(
                store.queue_question(
                    QuestionRecord(1, "2026-11-26T00:00:00+00:00", 1, 1, "en", "q", "answered", "a", 1.0)
                ),
                5,
            )
    finally:
        del store._writer.transact
        await store.close()


async def test_deferred_writes_join_the_next_batch_or_go_alone_soon_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "log.sqlite3"
    store = await Store.open(path)
    transactions = 0
    transact = store._writer.transact

    async def counting(work: object) -> object:
        nonlocal transactions
        transactions += 1
        return await transact(work)  # type: ignore[arg-type]

    monkeypatch.setattr(store._writer, "transact", counting)

    def question(question_id: int, text: str) -> asyncio.Future[None]:
        record = QuestionRecord(question_id, "2026-11-26T00:00:00+00:00", 1, 1, "en", text, "answered", "a", 1.0)
        return store.queue_question(record, soon=False)

    try:
        deferred = question(1, "rides along")
        await asyncio.sleep(0)
        assert not deferred.done()  # waiting for company
        await store.queue_new_updates([(5, "{}")])  # e.g. the next update's journal
        assert deferred.done() and transactions == 1  # one transaction for both
        alone = question(2, "nobody else comes")
        await asyncio.wait_for(asyncio.shield(alone), 5)  # written on its own after DEFER_S
        assert transactions == 2
        last = question(3, "queued as the store closes")
    finally:
        await store.close()
    assert last.done()
    with sqlite3.connect(path) as raw:
        assert [row[0] for row in raw.execute("SELECT text FROM questions ORDER BY id")] == [
            "rides along",
            "nobody else comes",
            "queued as the store closes",
        ]
