"""The group-commit writer: which writes may share one call, and what a failure costs the others."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.storage import QuestionRecord, Store
from bot.storage.writer import Statement, Write, related, runs


def _statement(sql: str, returns: str | None = None) -> Statement:
    loop = asyncio.new_event_loop()
    try:
        return Statement(loop.create_future(), sql, ((1,),), returns)  # type: ignore[arg-type]
    finally:
        loop.close()


QUESTION = "INSERT INTO questions (id) VALUES (?)"
DONE = "UPDATE inbox SET done_at = 1 WHERE update_id = ?"
JOURNAL = "INSERT INTO inbox (update_id) VALUES (?)"
ITEM = "INSERT INTO unanswered (question_id) VALUES (?)"


def _shape(batch: list[Statement]) -> list[list[int]]:
    index = {id(write): i for i, write in enumerate(batch)}
    return [[index[id(write)] for write in run] for run in runs(batch)]


def test_writes_of_one_kind_join_across_writes_on_unrelated_tables() -> None:
    # question, done mark, question, done mark, ...: the bot's deferred bookkeeping under load
    batch = [_statement(sql) for sql in (QUESTION, DONE, QUESTION, DONE, QUESTION)]
    assert _shape(batch) == [[0, 2, 4], [1, 3]]


def test_a_write_never_passes_one_on_its_table_or_a_related_one() -> None:
    # A done mark must not run before the journal row it marks, nor a question after a hand-off's item
    # that refers to it (foreign key).
    batch = [_statement(sql) for sql in (DONE, JOURNAL, DONE)]
    assert _shape(batch) == [[0], [1], [2]]
    batch = [_statement(sql) for sql in (QUESTION, ITEM, QUESTION)]
    assert _shape(batch) == [[0], [1], [2]]
    assert related(frozenset({"unanswered"})) == {"unanswered", "questions", "staff_messages", "staff_outbox"}


def test_writes_whose_caller_needs_a_result_or_whose_table_is_unknown_stay_alone() -> None:
    batch = [_statement(QUESTION, "rowid"), _statement(QUESTION, "rowid"), _statement("PRAGMA x"), _statement(QUESTION)]
    assert _shape(batch) == [[0], [1], [2], [3]]
    # nothing moves past a write of unknown tables
    batch = [_statement(QUESTION), _statement("PRAGMA x"), _statement(QUESTION)]
    assert _shape(batch) == [[0], [1], [2]]


def test_the_base_write_has_no_way_to_run() -> None:
    with pytest.raises(NotImplementedError):
        asyncio.run(Write.apply(None, []))  # type: ignore[arg-type]


def _record(question_id: int, user: int, text: str) -> QuestionRecord:
    return QuestionRecord(question_id, "2026-12-02T00:00:00+00:00", user, user, "en", text, "unanswered", None, 0.0)


async def test_hand_offs_queued_together_are_written_together_once_per_question(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        ids = [await store.question_id() for _ in range(3)]
        for i, question_id in enumerate(ids):
            store.queue_question(_record(question_id, 10 + i, f"q{i}"))
        asks = [
            store.hand_off(
                question_id=question_id, user_id=10 + i, chat_id=10 + i, lang="en", text=f"q{i}", reason="unanswered"
            )
            for i, question_id in enumerate(ids)
        ]
        again = store.hand_off(question_id=ids[0], user_id=10, chat_id=10, lang="en", text="q0", reason="none_of_these")
        loose = store.hand_off(
            question_id=None,
            user_id=20,
            chat_id=20,
            lang="zh",
            text="没有问题号",
            reason="none_of_these",
            first_name="Li",
        )
        handoffs = await asyncio.gather(*asks, again, loose)
        later = await store.hand_off(
            question_id=ids[1], user_id=11, chat_id=11, lang="en", text="q1", reason="unanswered"
        )
        posts = await store.pending_posts()
        profile = await store.get_user(20)
    finally:
        await store.close()
    assert [h.created for h in handoffs if h] == [True, True, True, False, True]
    first, *_ = handoffs
    assert first is not None and handoffs[3] is not None and handoffs[3].item_id == first.item_id
    assert later is not None and not later.created and later.item_id == handoffs[1].item_id  # type: ignore[union-attr]
    # one post per item, none for the repeats
    assert sorted(p.item_id or 0 for p in posts) == sorted(h.item_id for h in handoffs if h and h.created)
    assert profile is not None and profile.first_name == "Li"


async def test_a_failing_write_fails_alone_and_a_hand_off_is_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    store = await Store.open(path)
    try:
        good = await store.question_id()
        store.queue_question(_record(good, 1, "kept"))
        # No question 999_999 exists: the item's foreign key fails, so neither item nor post may be left.
        broken = store.hand_off(question_id=999_999, user_id=2, chat_id=2, lang="en", text="x", reason="unanswered")
        fine = store.hand_off(question_id=good, user_id=1, chat_id=1, lang="en", text="kept", reason="unanswered")
        bad_many = store.queue_new_updates([(5, "{}"), (2**70, "{}")])  # the second row cannot be bound
        outcomes = await asyncio.gather(broken, fine, bad_many, return_exceptions=True)
    finally:
        await store.close()
    assert isinstance(outcomes[0], sqlite3.IntegrityError)
    assert outcomes[1] is not None and outcomes[1].created  # type: ignore[union-attr]
    assert isinstance(outcomes[2], sqlite3.InterfaceError)
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT text FROM unanswered").fetchall() == [("kept",)]
        assert raw.execute("SELECT COUNT(*) FROM staff_outbox").fetchone()[0] == 1
        assert raw.execute("SELECT COUNT(*) FROM inbox").fetchone()[0] == 0  # none of a failed many-row write
        assert raw.execute("SELECT text FROM questions").fetchall() == [("kept",)]
