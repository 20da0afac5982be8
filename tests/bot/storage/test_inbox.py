"""The inbox of incoming updates."""

from __future__ import annotations

from pathlib import Path

from bot.storage import Store


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
