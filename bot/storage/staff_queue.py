"""The staff queue: questions handed to staff, and what became of them (answered, dismissed, undeliverable)."""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.storage.database import Database, settled
from bot.storage.records import Handoff, ItemStatus, PostReason, UnansweredItem, fits_int64, utcnow
from bot.storage.writer import Write

_INSERT_ITEM = (
    "INSERT INTO unanswered (question_id, created_at, user_id, chat_id, lang, text) VALUES (?, ?, ?, ?, ?, ?)"
)
REMEMBER_USER = (
    "INSERT INTO users (user_id, first_name, username, updated_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (user_id) DO UPDATE SET first_name = excluded.first_name,"
    " username = excluded.username, updated_at = excluded.updated_at"
)


@dataclass(frozen=True, eq=False)
class HandOff(Write):
    """A question given to staff: its queue item, its staff-chat post in the outbox and the asker's name,
    all or nothing. Hand-offs queued together are written together: five calls for the lot (two reads,
    three ``executemany``) where one each would take three or four."""

    question_id: int | None
    user_id: int | None
    chat_id: int | None
    lang: str
    text: str
    reason: PostReason
    first_name: str | None
    username: str | None

    @property
    def tables(self) -> frozenset[str]:
        return frozenset({"unanswered", "staff_outbox", "users"})

    @property
    def key(self) -> Hashable | None:
        return HandOff

    @classmethod
    async def apply(cls, db: aiosqlite.Connection, writes: Sequence[HandOff]) -> list[Any]:
        asked = [write.question_id for write in writes if write.question_id is not None]
        # Once per question: one already queued (a second "None of these", a replayed update) keeps its item.
        queued = await _items_for(db, asked)
        outcomes: list[Handoff | None] = [None] * len(writes)
        new: list[int] = []  # indexes of the writes that create an item
        first: dict[int, int] = {}  # question id -> index of the write that creates its item
        for index, write in enumerate(writes):
            if write.question_id in queued:
                outcomes[index] = Handoff(queued[write.question_id], created=False)
            elif write.question_id is None or write.question_id not in first:
                new.append(index)
                if write.question_id is not None:
                    first[write.question_id] = index
        now = utcnow()
        items: dict[int, int] = {}  # write index -> new item id
        if first:
            await db.executemany(_INSERT_ITEM, [_item_row(writes[i], now) for i in first.values()])
            created = await _items_for(db, list(first))
            items.update({i: created[question_id] for question_id, i in first.items()})
        for index in new:
            if writes[index].question_id is None:  # rare (no question id): one call each, for its row id
                cursor = await db.execute(_INSERT_ITEM, _item_row(writes[index], now))
                items[index] = int(cursor.lastrowid or 0)
        await db.executemany(
            "INSERT INTO staff_outbox (item_id, reason, created_at) VALUES (?, ?, ?)",
            [(items[i], writes[i].reason, now) for i in new],
        )
        names = [
            (w.user_id, w.first_name or None, w.username or None, now)
            for w in (writes[i] for i in new)
            if w.user_id is not None and (w.first_name or w.username)
        ]
        if names:
            await db.executemany(REMEMBER_USER, names)
        for index, write in enumerate(writes):
            if index in items:
                outcomes[index] = Handoff(items[index], created=True)
            elif outcomes[index] is None and write.question_id is not None:
                # the same question twice in one batch: the first one's item
                outcomes[index] = Handoff(items[first[write.question_id]], created=False)
        return list(outcomes)


def _item_row(write: HandOff, now: str) -> tuple[Any, ...]:
    return (write.question_id, now, write.user_id, write.chat_id, write.lang, write.text)


async def _items_for(db: aiosqlite.Connection, question_ids: Sequence[int | None]) -> dict[int | None, int]:
    """question id -> its queue item, for the questions already queued."""
    if not question_ids:
        return {}
    rows = await db.execute_fetchall(
        "SELECT question_id, id FROM unanswered WHERE question_id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(question_ids)),),
    )
    return {int(row[0]): int(row[1]) for row in rows}


class StaffQueue(Database):
    """Queue items: created by a hand-off, closed by a reply or a dismissal."""

    async def add_unanswered(
        self, *, question_id: int | None, user_id: int | None, chat_id: int | None, lang: str, text: str
    ) -> int:
        """Queue a question for staff (no staff post); returns the item id."""
        return await self._insert(_INSERT_ITEM, (question_id, utcnow(), user_id, chat_id, lang, text))

    async def hand_off(
        self,
        *,
        question_id: int | None,
        user_id: int | None,
        chat_id: int | None,
        lang: str,
        text: str,
        reason: PostReason,
        first_name: str | None = None,
        username: str | None = None,
    ) -> Handoff | None:
        """Give a question to staff, in one transaction: the queue item, its staff-chat post in the outbox,
        and the asker's name for that post.

        Once per question: for a question already queued (a second "None of these", a replayed update)
        this returns the existing item with ``created=False`` and queues no second post. None: the asker
        used /forget while this was in flight, so nothing was written.
        """
        if self._forgotten_since(user_id, question_id):
            return None
        future = self._new_future()
        guard = None if user_id is None or question_id is None else (user_id, question_id)
        self._submit(
            HandOff(future, question_id, user_id, chat_id, lang, text, reason, first_name, username, guard=guard)
        )
        handoff: Handoff | None = await settled(future)
        return handoff

    async def get_unanswered(self, item_id: int) -> UnansweredItem | None:
        if not fits_int64(item_id):
            return None
        rows = await self._fetch("SELECT * FROM unanswered WHERE id = ?", (item_id,))
        return UnansweredItem(**dict(rows[0])) if rows else None

    async def list_unanswered(
        self, status: ItemStatus | None = "new", limit: int = 100, offset: int = 0
    ) -> list[UnansweredItem]:
        if status is None:
            rows = await self._fetch("SELECT * FROM unanswered ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset))
        else:
            rows = await self._fetch(
                "SELECT * FROM unanswered WHERE status = ? ORDER BY id DESC LIMIT ? OFFSET ?",
                (status, limit, offset),
            )
        return [UnansweredItem(**dict(r)) for r in rows]

    async def count_unanswered(self, status: ItemStatus | None = "new") -> int:
        if status is None:
            rows = await self._fetch("SELECT COUNT(*) FROM unanswered")
        else:
            rows = await self._fetch("SELECT COUNT(*) FROM unanswered WHERE status = ?", (status,))
        return int(rows[0][0])

    async def answer_unanswered(self, item_id: int, reply: str, by: int | None, *, only_open: bool = False) -> bool:
        """Mark an item answered with the staff reply, who and when; False when it does not exist.

        Call it only once the reply reached the investor. ``only_open`` makes it False for an item
        already answered or dismissed, so two staff members replying at once cannot both win.
        """
        count = await self._update(
            "UPDATE unanswered SET status = 'answered', reply = ?, replied_by = ?, replied_at = ?,"
            " delivery_error = NULL, delivery_failed_at = NULL"
            " WHERE id = ? AND (? = 0 OR status = 'new')",
            (reply, by, utcnow(), item_id, int(only_open)),
        )
        return count > 0

    async def dismiss_unanswered(self, item_id: int, by: int | None, *, only_open: bool = False) -> bool:
        """Close an item without a reply; False when it does not exist (or, with ``only_open``, is closed)."""
        count = await self._update(
            "UPDATE unanswered SET status = 'dismissed', replied_by = ?, replied_at = ?"
            " WHERE id = ? AND (? = 0 OR status = 'new')",
            (by, utcnow(), item_id, int(only_open)),
        )
        return count > 0

    async def note_delivery_failed(self, item_id: int, reason: str) -> bool:
        """Record that a reply could not reach the investor (e.g. they blocked the bot).

        The item stays open, so staff can see why and try again; False when it does not exist.
        """
        count = await self._update(
            "UPDATE unanswered SET delivery_error = ?, delivery_failed_at = ? WHERE id = ?",
            (reason[:500], utcnow(), item_id),
        )
        return count > 0
