"""The store as a whole: one pass through every table group."""

from __future__ import annotations

from pathlib import Path

from bot.storage import Store


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
