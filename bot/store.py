"""The question log: one SQLite file (WAL) behind an async API (aiosqlite).

Schema changes are forward migrations numbered by ``PRAGMA user_version``; opening a file runs the
missing ones in order. Writes retry for a while when another process holds the lock, so a busy
database costs latency, not data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import aiosqlite

log = logging.getLogger(__name__)

T = TypeVar("T")
Status = Literal["answered", "suggested", "unanswered"]
ItemStatus = Literal["new", "answered", "dismissed"]

MIGRATIONS: tuple[str, ...] = (
    # 1: the question log, the staff queue, feedback and per-user preferences.
    """
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        asked_at TEXT NOT NULL,
        user_id INTEGER,
        chat_id INTEGER,
        lang TEXT NOT NULL,
        text TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('answered', 'suggested', 'unanswered')),
        entry_id TEXT,
        score REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX questions_asked_at ON questions (asked_at);
    CREATE INDEX questions_user ON questions (user_id);
    CREATE TABLE unanswered (
        id INTEGER PRIMARY KEY,
        question_id INTEGER REFERENCES questions (id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        user_id INTEGER,
        chat_id INTEGER,
        lang TEXT NOT NULL,
        text TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'answered', 'dismissed')),
        reply TEXT,
        replied_by INTEGER,
        replied_at TEXT
    );
    CREATE INDEX unanswered_status ON unanswered (status, created_at);
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        user_id INTEGER,
        question_id INTEGER REFERENCES questions (id) ON DELETE SET NULL,
        entry_id TEXT NOT NULL,
        helpful INTEGER NOT NULL CHECK (helpful IN (0, 1))
    );
    CREATE TABLE users (
        user_id INTEGER PRIMARY KEY,
        lang TEXT,
        updated_at TEXT NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The database could not be used (unreadable, newer schema, ...); the message is for users."""


@dataclass(frozen=True)
class QuestionRecord:
    id: int
    asked_at: str
    user_id: int | None
    chat_id: int | None
    lang: str
    text: str
    status: Status
    entry_id: str | None
    score: float


@dataclass(frozen=True)
class UnansweredItem:
    id: int
    question_id: int | None
    created_at: str
    user_id: int | None
    chat_id: int | None
    lang: str
    text: str
    status: ItemStatus
    reply: str | None
    replied_by: int | None
    replied_at: str | None


def utcnow() -> str:
    """Timestamps are stored as ISO 8601 UTC text, which sorts and compares correctly."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Owner-only from the first byte: the log holds investors' questions and ids.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Store:
    """Async access to the log; create with ``await Store.open(path)`` and ``await store.close()``."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, busy_timeout_ms: int = 5000) -> Store:
        """Open (creating folder, file and schema as needed) and migrate to the current schema."""
        try:
            await asyncio.to_thread(_create_private, path)
            connection = await aiosqlite.connect(path, timeout=busy_timeout_ms / 1000)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{path}: cannot open the database: {exc}") from None
        store = cls(connection, path)
        try:
            await store._setup(busy_timeout_ms)
        except sqlite3.DatabaseError as exc:
            await connection.close()
            raise StoreError(f"{path}: not a usable database: {exc}") from None
        except StoreError:
            await connection.close()
            raise
        return store

    async def _setup(self, busy_timeout_ms: int) -> None:
        db = self._db
        db.row_factory = sqlite3.Row
        await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL survives a process crash
        await db.execute("PRAGMA foreign_keys = ON")
        async with db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this etown-bot ({SCHEMA_VERSION}); upgrade it"
            )
        for number in range(version, SCHEMA_VERSION):
            # executescript commits first; the version bump is part of the same script.
            await db.executescript(f"BEGIN; {MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;")
            log.info("database %s migrated to schema %d", self.path, number + 1)

    async def close(self) -> None:
        await self._db.close()

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    # --- plumbing

    async def _write(self, operation: Callable[[aiosqlite.Connection], Awaitable[T]], attempts: int = 8) -> T:
        """Run a write in a transaction, retrying with backoff while the database is locked."""
        delay = 0.05
        async with self._write_lock:
            for attempt in range(1, attempts + 1):
                try:
                    result = await operation(self._db)
                    await self._db.commit()
                    return result
                except sqlite3.OperationalError as exc:
                    await self._db.rollback()
                    if not _is_busy(exc) or attempt == attempts:
                        raise
                    log.warning("database busy (attempt %d/%d): %s", attempt, attempts, exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    async def _insert(self, sql: str, params: Iterable[Any]) -> int:
        async def run(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(sql, tuple(params))
            row_id = cursor.lastrowid
            await cursor.close()
            assert row_id is not None
            return row_id

        return await self._write(run)

    async def _update(self, sql: str, params: Iterable[Any]) -> int:
        async def run(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(sql, tuple(params))
            count = cursor.rowcount
            await cursor.close()
            return count

        return await self._write(run)

    async def _fetch(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._db.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    # --- questions

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
        return await self._insert(
            "INSERT INTO questions (asked_at, user_id, chat_id, lang, text, status, entry_id, score)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (asked_at or utcnow(), user_id, chat_id, lang, text, status, entry_id, float(score)),
        )

    async def get_question(self, question_id: int) -> QuestionRecord | None:
        rows = await self._fetch("SELECT * FROM questions WHERE id = ?", (question_id,))
        return QuestionRecord(**dict(rows[0])) if rows else None

    async def recent_questions(self, limit: int = 50) -> list[QuestionRecord]:
        rows = await self._fetch("SELECT * FROM questions ORDER BY id DESC LIMIT ?", (limit,))
        return [QuestionRecord(**dict(r)) for r in rows]

    async def count_questions(self) -> int:
        rows = await self._fetch("SELECT COUNT(*) FROM questions")
        return int(rows[0][0])

    # --- the staff queue

    async def add_unanswered(
        self, *, question_id: int | None, user_id: int | None, chat_id: int | None, lang: str, text: str
    ) -> int:
        """Queue a question for staff; returns the item id."""
        return await self._insert(
            "INSERT INTO unanswered (question_id, created_at, user_id, chat_id, lang, text) VALUES (?, ?, ?, ?, ?, ?)",
            (question_id, utcnow(), user_id, chat_id, lang, text),
        )

    async def get_unanswered(self, item_id: int) -> UnansweredItem | None:
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

    async def answer_unanswered(self, item_id: int, reply: str, by: int | None) -> bool:
        """Mark an item answered with the staff reply; False when it does not exist."""
        count = await self._update(
            "UPDATE unanswered SET status = 'answered', reply = ?, replied_by = ?, replied_at = ? WHERE id = ?",
            (reply, by, utcnow(), item_id),
        )
        return count > 0

    async def dismiss_unanswered(self, item_id: int, by: int | None) -> bool:
        count = await self._update(
            "UPDATE unanswered SET status = 'dismissed', replied_by = ?, replied_at = ? WHERE id = ?",
            (by, utcnow(), item_id),
        )
        return count > 0

    # --- feedback and preferences

    async def record_feedback(
        self, *, user_id: int | None, question_id: int | None, entry_id: str, helpful: bool
    ) -> int:
        return await self._insert(
            "INSERT INTO feedback (created_at, user_id, question_id, entry_id, helpful) VALUES (?, ?, ?, ?, ?)",
            (utcnow(), user_id, question_id, entry_id, int(helpful)),
        )

    async def feedback_counts(self) -> tuple[int, int]:
        """(helpful, not helpful) over all feedback."""
        rows = await self._fetch("SELECT COALESCE(SUM(helpful), 0), COUNT(*) FROM feedback")
        helpful, total = int(rows[0][0]), int(rows[0][1])
        return helpful, total - helpful

    async def set_user_lang(self, user_id: int, lang: str) -> None:
        async def run(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT INTO users (user_id, lang, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at",
                (user_id, lang, utcnow()),
            )

        await self._write(run)

    async def get_user_lang(self, user_id: int) -> str | None:
        rows = await self._fetch("SELECT lang FROM users WHERE user_id = ?", (user_id,))
        return str(rows[0][0]) if rows and rows[0][0] else None
