"""Deleting data: one investor's on request (/forget), and everyone's past the retention period."""

from __future__ import annotations

import datetime as dt

import aiosqlite

from bot.storage.database import Database, changed_rows
from bot.storage.records import ForgetCounts, PurgeCounts, epoch, timestamp

# The update fields that carry the sender (``from``) in the kinds the bot receives.
_UPDATE_KINDS = ("message", "edited_message", "callback_query", "inline_query", "chosen_inline_result")


class Retention(Database):
    """/forget and the retention purge, each one transaction."""

    async def forget_user(self, user_id: int) -> ForgetCounts:
        """Delete an investor's questions, feedback and profile, in one transaction.

        Their open staff items keep the question text (staff may still want to answer it in the FAQ)
        but lose user and chat ids, so nothing can be sent to or traced back to them; their closed
        items go. Staff posts of open items stay linked.

        Work still in flight for them is covered too: a question whose id was handed out before this
        call is never written afterwards (nor its hand-off, vote or name), and the raw updates of theirs
        still in the inbox or in quarantine lose their payload, so no restart replays them.
        """
        if len(self._forgotten) > 10_000:  # in-flight work lasts seconds; bound the memory
            self._forgotten.clear()
        self._forgotten[user_id] = self._last_question_id
        if self._writer.pending:
            self._writer.drain_now()  # writes already queued: dropped by the guard, or written before the delete

        async def run(db: aiosqlite.Connection) -> ForgetCounts:
            async def count(sql: str) -> int:
                return await changed_rows(db, sql, (user_id,))

            feedback = await count("DELETE FROM feedback WHERE user_id = ?")
            items_deleted = await count("DELETE FROM unanswered WHERE user_id = ? AND status != 'new'")
            items_anonymised = await count("UPDATE unanswered SET user_id = NULL, chat_id = NULL WHERE user_id = ?")
            questions = await count("DELETE FROM questions WHERE user_id = ?")
            users = await count("DELETE FROM users WHERE user_id = ?")
            for table in ("inbox", "quarantine"):
                senders = ", ".join(f"json_extract(payload, '$.{kind}.from.id')" for kind in _UPDATE_KINDS)
                await db.execute(
                    f"UPDATE {table} SET payload = NULL"  # noqa: S608 (names from constants, the id is a parameter)
                    f" WHERE payload IS NOT NULL AND json_valid(payload) AND ? IN ({senders})",
                    (user_id,),
                )
            return ForgetCounts(questions, feedback, items_deleted, items_anonymised, users)

        return await self._write(run)

    async def purge_older_than(self, days: int, now: dt.datetime | None = None) -> PurgeCounts:
        """Delete log rows older than ``days``: questions, feedback, closed staff items, idle profiles.

        Open staff items are kept whatever their age: they are work still to do. A profile goes when
        it was not refreshed within ``days`` and no remaining question or open item refers to it.
        """
        if days < 1:
            raise ValueError("days must be at least 1")
        cutoff = timestamp((now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days))

        async def run(db: aiosqlite.Connection) -> PurgeCounts:
            async def count(sql: str) -> int:
                return await changed_rows(db, sql, (cutoff,))

            feedback = await count("DELETE FROM feedback WHERE created_at < ?")
            await db.execute("DELETE FROM staff_outbox WHERE state != 'pending' AND done_at < ?", (cutoff,))
            await db.execute("DELETE FROM quarantine WHERE received_at < ?", (epoch(cutoff),))
            items = await count("DELETE FROM unanswered WHERE status != 'new' AND COALESCE(replied_at, created_at) < ?")
            questions = await count("DELETE FROM questions WHERE asked_at < ?")
            users = await count(
                "DELETE FROM users WHERE updated_at < ?"
                " AND user_id NOT IN (SELECT user_id FROM questions WHERE user_id IS NOT NULL)"
                " AND user_id NOT IN (SELECT user_id FROM unanswered WHERE user_id IS NOT NULL)"
            )
            return PurgeCounts(questions, feedback, items, users)

        return await self._write(run)
