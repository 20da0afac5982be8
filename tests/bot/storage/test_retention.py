"""/forget and the retention purge."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.storage import Store


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
