"""Opening, migrating and refusing database files; retries while another process writes."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.storage import SCHEMA_VERSION, Store, StoreError


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
        assert await store.schema_version() == SCHEMA_VERSION == 7
        item = (await store.list_unanswered())[0]
        assert item.text == "old question" and item.delivery_error is None
        profile = await store.get_user(5)
        assert profile is not None and profile.lang == "zh" and profile.first_name is None
        await store.link_staff_message(-100, 1, item.id)
        assert await store.item_for_staff_message(-100, 1) == item.id
    finally:
        await store.close()


async def test_version_5_database_keeps_its_links_when_questions_gain_the_chat_statuses(tmp_path: Path) -> None:
    """Schema 6 rebuilds the questions table (a CHECK constraint cannot change): the staff items and
    feedback that refer to its rows must keep pointing at them."""
    from bot.storage import MIGRATIONS

    path = tmp_path / "log.sqlite3"
    with sqlite3.connect(path) as raw:
        for number in range(5):
            raw.executescript(f"BEGIN; {MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;")
        raw.execute("PRAGMA foreign_keys = ON")
        raw.execute(
            "INSERT INTO questions (id, asked_at, user_id, chat_id, lang, text, status, entry_id, score, delivered)"
            " VALUES (41, '2026-11-01T00:00:00+00:00', 5, 5, 'en', 'old', 'unanswered', NULL, 0.1, 0)"
        )
        raw.execute(
            "INSERT INTO unanswered (question_id, created_at, user_id, chat_id, lang, text)"
            " VALUES (41, '2026-11-01T00:00:00+00:00', 5, 5, 'en', 'old')"
        )
        raw.execute(
            "INSERT INTO feedback (created_at, user_id, question_id, entry_id, helpful)"
            " VALUES ('2026-11-01T00:00:00+00:00', 5, 41, 'a', 1)"
        )
    store = await Store.open(path)
    try:
        assert await store.schema_version() == SCHEMA_VERSION
        record = await store.get_question(41)
        assert record is not None and record.text == "old" and not record.delivered
        assert (await store.list_unanswered())[0].question_id == 41
        await store.log_question(user_id=5, chat_id=5, lang="en", text="hi", status="smalltalk", entry_id=None, score=0)
        await store.log_question(user_id=5, chat_id=5, lang="en", text="?", status="unclear", entry_id=None, score=0)
        counts = await store.status_counts()
        assert (counts.unanswered, counts.smalltalk, counts.unclear, counts.total) == (1, 1, 1, 1)
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT question_id FROM feedback").fetchone()[0] == 41
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        indexes = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'questions'")}
        assert {"questions_asked_at", "questions_user"} <= indexes
        with pytest.raises(sqlite3.IntegrityError):
            raw.execute("INSERT INTO questions (asked_at, lang, text, status) VALUES ('x', 'en', 'y', 'bogus')")
