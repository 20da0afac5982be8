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
        assert await store.schema_version() == SCHEMA_VERSION == 5
        item = (await store.list_unanswered())[0]
        assert item.text == "old question" and item.delivery_error is None
        profile = await store.get_user(5)
        assert profile is not None and profile.lang == "zh" and profile.first_name is None
        await store.link_staff_message(-100, 1, item.id)
        assert await store.item_for_staff_message(-100, 1) == item.id
    finally:
        await store.close()
