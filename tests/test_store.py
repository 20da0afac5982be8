from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.store import SCHEMA_VERSION, Store, StoreError


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
