"""Group commit through the store: many writers, shared commits, deferred writes, a broken batch."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.storage import QuestionRecord, Store


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
