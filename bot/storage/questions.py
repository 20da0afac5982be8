"""The question log: every question, the bot's decision, and whether the reply reached the investor."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiosqlite

from bot.storage.database import Database, settled
from bot.storage.records import QuestionRecord, Status, fits_int64, utcnow

# Question ids reserved at a time: one write per this many questions; a restart skips the unused rest.
QUESTION_ID_BLOCK = 1000
_INSERT_QUESTION = (
    "INSERT INTO questions (id, asked_at, user_id, chat_id, lang, text, status, entry_id, score, delivered)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _question(row: sqlite3.Row) -> QuestionRecord:
    fields = dict(row)
    fields["delivered"] = bool(fields.get("delivered", 1))
    return QuestionRecord(**fields)


class QuestionLog(Database):
    """Question ids handed out ahead of their rows, the rows themselves, and reading them back."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        super().__init__(connection, path)
        self._question_ids: Iterator[int] = iter(())
        self._reserving = asyncio.Lock()

    async def question_id(self) -> int:
        """A new question id, for ``log_question``; from a block reserved for this process (shell or bot)."""
        async with self._reserving:
            for question_id in self._question_ids:
                self._last_question_id = question_id
                return question_id

            async def reserve(db: aiosqlite.Connection) -> int:
                rows = await db.execute_fetchall(
                    "UPDATE id_blocks SET next = next + ? WHERE name = 'questions' RETURNING next", (QUESTION_ID_BLOCK,)
                )
                found = list(rows)
                if not found:
                    raise sqlite3.IntegrityError("id_blocks has no row for questions")
                return int(found[0][0])

            end = await self._write(reserve)
            self._question_ids = iter(range(end - QUESTION_ID_BLOCK + 1, end))
            self._last_question_id = end - QUESTION_ID_BLOCK
            return self._last_question_id

    async def log_question(
        self,
        *,
        user_id: int | None,
        chat_id: int | None,
        lang: str,
        text: str,
        status: Status,
        entry_id: str | None,
        score: float,
        asked_at: str | None = None,
    ) -> int:
        """Record one question and the bot's decision; returns its id."""
        record = QuestionRecord(
            await self.question_id(), asked_at or utcnow(), user_id, chat_id, lang, text, status, entry_id, score
        )
        await settled(self.queue_question(record))
        return record.id

    async def record_pick(self, question_id: int, entry_id: str) -> bool:
        """Note the entry an investor chose from question ``question_id``'s did-you-mean list (the last
        choice counts); False when the question is not in the log (never logged, forgotten, purged)."""
        if not fits_int64(question_id):
            return False

        async def run(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute(
                "UPDATE questions SET picked = ? WHERE id = ? AND status = 'suggested'", (entry_id, question_id)
            )
            return bool(cursor.rowcount)

        return bool(await self._write(run))

    def queue_question(self, record: QuestionRecord, *, soon: bool = True) -> asyncio.Future[None]:
        """Queue a question's row (its id from ``question_id``) without waiting for the write.

        It is written in one transaction with or before anything queued after it (such as its update's
        done mark); ``soon=False`` defers it (``Writer.submit``). The future ends with the write (or its
        error). The row carries its id, so rows queued together go in one ``executemany``.
        """
        row = (
            record.id,
            record.asked_at,
            record.user_id,
            record.chat_id,
            record.lang,
            record.text,
            record.status,
            record.entry_id,
            float(record.score),
            int(record.delivered),
        )
        guard = None if record.user_id is None else (record.user_id, record.id)
        return self._statement(_INSERT_QUESTION, [row], soon=soon, guard=guard)

    async def mark_undelivered(self, question_id: int) -> None:
        """The reply to a logged question never reached the investor."""
        await self._run("UPDATE questions SET delivered = 0 WHERE id = ?", (question_id,))

    async def get_question(self, question_id: int) -> QuestionRecord | None:
        if not fits_int64(question_id):
            return None
        rows = await self._fetch("SELECT * FROM questions WHERE id = ?", (question_id,))
        return _question(rows[0]) if rows else None

    async def recent_questions(self, limit: int = 50) -> list[QuestionRecord]:
        rows = await self._fetch("SELECT * FROM questions ORDER BY id DESC LIMIT ?", (limit,))
        return [_question(r) for r in rows]

    async def count_questions(self) -> int:
        rows = await self._fetch("SELECT COUNT(*) FROM questions")
        return int(rows[0][0])

    async def iter_questions(
        self, start: str | None = None, end: str | None = None, batch: int = 500
    ) -> AsyncIterator[QuestionRecord]:
        """Logged questions with ``start <= asked_at < end`` (either bound optional), oldest first.

        Reads in batches, so exporting a large log does not hold it all in memory.
        """
        last_id = 0
        while True:
            rows = await self._fetch(
                "SELECT * FROM questions WHERE id > ? AND asked_at >= ? AND (? IS NULL OR asked_at < ?)"
                " ORDER BY id LIMIT ?",
                (last_id, start or "", end, end, batch),
            )
            for row in rows:
                yield _question(row)
            if len(rows) < batch:
                return
            last_id = int(rows[-1]["id"])
