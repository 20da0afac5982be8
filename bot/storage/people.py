"""Investors as the bot knows them: language choice, the name staff posts show, and their votes on answers."""

from __future__ import annotations

import aiosqlite

from bot.storage.database import Database
from bot.storage.records import UserProfile, utcnow
from bot.storage.staff_queue import REMEMBER_USER


class People(Database):
    """Per-user preferences and profile, and feedback on answers."""

    async def record_feedback(
        self, *, user_id: int | None, question_id: int | None, entry_id: str, helpful: bool
    ) -> bool:
        """One vote per user and answer (question, entry): a second press changes the vote, never adds one.

        Returns True for a new vote, False for a changed or repeated one (or one dropped by /forget).
        """
        if self._forgotten_since(user_id, question_id):
            return False

        async def run(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute(
                "UPDATE feedback SET helpful = ?, created_at = ? WHERE user_id IS ? AND coalesce(question_id, 0) = ?"
                " AND entry_id = ?",
                (int(helpful), utcnow(), user_id, question_id or 0, entry_id),
            )
            if cursor.rowcount:
                return False
            await db.execute(
                "INSERT INTO feedback (created_at, user_id, question_id, entry_id, helpful) VALUES (?, ?, ?, ?, ?)",
                (utcnow(), user_id, question_id, entry_id, int(helpful)),
            )
            return True

        return await self._write(run)

    async def feedback_counts(self, since: str | None = None) -> tuple[int, int]:
        """(helpful, not helpful) over all feedback, or over feedback given at or after ``since``."""
        rows = await self._fetch(
            "SELECT COALESCE(SUM(helpful), 0), COUNT(*) FROM feedback WHERE created_at >= ?", (since or "",)
        )
        helpful, total = int(rows[0][0]), int(rows[0][1])
        return helpful, total - helpful

    async def set_user_lang(self, user_id: int, lang: str) -> None:
        await self._run(
            "INSERT INTO users (user_id, lang, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at",
            (user_id, lang, utcnow()),
        )

    async def get_user_lang(self, user_id: int) -> str | None:
        rows = await self._fetch("SELECT lang FROM users WHERE user_id = ?", (user_id,))
        return str(rows[0][0]) if rows and rows[0][0] else None

    async def user_langs(self) -> dict[int, str]:
        """Every user's explicit language choice."""
        rows = await self._fetch("SELECT user_id, lang FROM users WHERE lang IS NOT NULL")
        return {int(row[0]): str(row[1]) for row in rows}

    async def remember_user(self, user_id: int, first_name: str | None, username: str | None) -> None:
        """Store (or refresh) the name staff posts show; the language preference is kept."""
        await self._run(REMEMBER_USER, (user_id, first_name or None, username or None, utcnow()))

    async def get_user(self, user_id: int) -> UserProfile | None:
        rows = await self._fetch(
            "SELECT user_id, lang, first_name, username, updated_at FROM users WHERE user_id = ?", (user_id,)
        )
        return UserProfile(**dict(rows[0])) if rows else None
