"""The staff-message mapping."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.storage import Store


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
