"""Queue items as the store returns them, for the staff tests."""

from __future__ import annotations

from bot.storage import UnansweredItem


def item(item_id: int, text: str, created_at: str, lang: str = "en", user_id: int | None = 7) -> UnansweredItem:
    return UnansweredItem(
        id=item_id,
        question_id=None,
        created_at=created_at,
        user_id=user_id,
        chat_id=user_id,
        lang=lang,
        text=text,
        status="new",
        reply=None,
        replied_by=None,
        replied_at=None,
    )
