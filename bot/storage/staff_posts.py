"""The staff chat's side of the queue: the outbox of posts to send, and which message shows which item."""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiosqlite

from bot.storage.database import Database
from bot.storage.records import OutboxPost, PostState, utcnow


class StaffPosts(Database):
    """Posts to the staff chat, sent in the background (handlers/staff_outbox.py), and the message mapping
    by which a reply to a post finds its item (after a restart too)."""

    async def queue_notice(self, note: str) -> int:
        """A staff-chat notice that is not about a queue item (e.g. an update set aside); returns its id."""
        return await self._insert(
            "INSERT INTO staff_outbox (reason, note, created_at) VALUES ('notice', ?, ?)", (note, utcnow())
        )

    async def pending_posts(self, limit: int = 100) -> list[OutboxPost]:
        """Posts not yet sent, oldest first."""
        rows = await self._fetch("SELECT * FROM staff_outbox WHERE state = 'pending' ORDER BY id LIMIT ?", (limit,))
        return [OutboxPost(**dict(row)) for row in rows]

    async def set_post_state(
        self, post_ids: Sequence[int], state: PostState, error: str | None = None, *, attempt: bool = False
    ) -> None:
        """Move posts to ``state``; ``attempt`` counts one more try (set with ``sending``, before the send)."""
        if not post_ids:
            return
        done = None if state in ("pending", "sending") else utcnow()
        await self._run(
            "UPDATE staff_outbox SET state = ?, error = ?, done_at = ?, attempts = attempts + ?"
            " WHERE id IN (SELECT value FROM json_each(?))",
            (state, None if error is None else error[:500], done, int(attempt), json.dumps(list(post_ids))),
        )

    async def recover_outbox(self) -> int:
        """At start: posts whose send was cut off by a crash are not sent again (they may have gone out);
        they are marked failed, and stay in /unanswered. Returns how many."""
        return await self._update(
            "UPDATE staff_outbox SET state = 'failed', error = 'interrupted by a restart (may not have been posted)',"
            " done_at = ? WHERE state = 'sending'",
            (utcnow(),),
        )

    async def link_staff_message(self, chat_id: int, message_id: int, item_id: int) -> None:
        """Remember that the staff-chat message ``(chat_id, message_id)`` shows queue item ``item_id``.

        Raises ``sqlite3.IntegrityError`` when the item does not exist.
        """

        async def run(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT INTO staff_messages (chat_id, message_id, item_id, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (chat_id, message_id) DO UPDATE SET item_id = excluded.item_id",
                (chat_id, message_id, item_id, utcnow()),
            )

        await self._write(run)

    async def item_for_staff_message(self, chat_id: int, message_id: int) -> int | None:
        """The queue item a staff-chat message shows, or None (not a staff post, or purged)."""
        rows = await self._fetch(
            "SELECT item_id FROM staff_messages WHERE chat_id = ? AND message_id = ?", (chat_id, message_id)
        )
        return int(rows[0][0]) if rows else None

    async def private_staff_messages(self) -> list[tuple[int, int]]:
        """``(chat_id, message_id)`` of the staff posts in private chats (an admin opened an item there)."""
        rows = await self._fetch("SELECT chat_id, message_id FROM staff_messages WHERE chat_id > 0")
        return [(int(r[0]), int(r[1])) for r in rows]

    async def staff_messages_for_item(self, item_id: int) -> list[tuple[int, int]]:
        """Every ``(chat_id, message_id)`` showing an item, oldest first (to edit them once it is closed)."""
        rows = await self._fetch(
            "SELECT chat_id, message_id FROM staff_messages WHERE item_id = ? ORDER BY rowid",
            (item_id,),
        )
        return [(int(r[0]), int(r[1])) for r in rows]

    async def staff_messages_for_user(self, user_id: int) -> list[tuple[int, int, int]]:
        """``(chat_id, message_id, item_id)`` of every staff post about an investor's items, oldest first.

        Read it before ``forget_user`` to edit those posts: afterwards nothing links them to the investor.
        """
        rows = await self._fetch(
            "SELECT m.chat_id, m.message_id, m.item_id FROM staff_messages AS m"
            " JOIN unanswered AS u ON u.id = m.item_id WHERE u.user_id = ? ORDER BY m.rowid",
            (user_id,),
        )
        return [(int(r[0]), int(r[1]), int(r[2])) for r in rows]
