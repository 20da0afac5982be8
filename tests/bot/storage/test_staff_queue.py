"""Queue items: delivery failures and race-safe closing."""

from __future__ import annotations

from pathlib import Path

from bot.storage import Store


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
