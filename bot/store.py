"""The question log: one SQLite file (WAL) behind an async API (aiosqlite).

Schema changes are forward migrations numbered by ``PRAGMA user_version``; opening a file runs the
missing ones in order. Writes retry for a while when another process holds the lock, so a busy
database costs latency, not data.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
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
    # 2: the staff follow-up loop. Staff posts map to queue items by numeric ids (a reply to a post
    # still finds its item after a restart); names for staff posts; failed deliveries stay visible.
    """
    CREATE TABLE staff_messages (
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        item_id INTEGER NOT NULL REFERENCES unanswered (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        PRIMARY KEY (chat_id, message_id)
    );
    CREATE INDEX staff_messages_item ON staff_messages (item_id);
    ALTER TABLE users ADD COLUMN first_name TEXT;
    ALTER TABLE users ADD COLUMN username TEXT;
    ALTER TABLE unanswered ADD COLUMN delivery_error TEXT;
    ALTER TABLE unanswered ADD COLUMN delivery_failed_at TEXT;
    CREATE INDEX feedback_created_at ON feedback (created_at);
    CREATE INDEX feedback_user ON feedback (user_id);
    CREATE INDEX unanswered_user ON unanswered (user_id);
    """,
    # 3: the inbox. Each incoming Telegram update is written here before Telegram is told it arrived,
    # and marked done (its payload dropped) once handled: a crash loses none, a re-delivery is spotted.
    """
    CREATE TABLE inbox (
        update_id INTEGER PRIMARY KEY,
        payload TEXT,
        received_at REAL NOT NULL,
        done_at REAL
    );
    CREATE INDEX inbox_done_at ON inbox (done_at);
    """,
    # 4: question ids handed out ahead of the row, in blocks per process, so a reply (whose buttons carry
    # the id) goes out while its question is being written. Every question insert takes its id here.
    """
    CREATE TABLE id_blocks (
        name TEXT PRIMARY KEY,
        next INTEGER NOT NULL
    );
    INSERT INTO id_blocks (name, next) SELECT 'questions', coalesce(max(id), 0) + 1 FROM questions;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
_INBOX_INSERT = "INSERT INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)"
# How long a deferred write (``Store._queue(soon=False)``) waits at most for a batch to join.
DEFER_S = 0.05
# Question ids reserved at a time: one write per this many questions; a restart skips the unused rest.
QUESTION_ID_BLOCK = 1000


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
    delivery_error: str | None = None  # why the last reply could not be delivered (the item stays open)
    delivery_failed_at: str | None = None


@dataclass(frozen=True)
class UserProfile:
    """What staff posts show about an investor; every field but the id may be unknown."""

    user_id: int
    lang: str | None
    first_name: str | None
    username: str | None
    updated_at: str


@dataclass(frozen=True)
class ForgetCounts:
    """Rows removed (or stripped of identity) by ``forget_user``."""

    questions: int
    feedback: int
    items_deleted: int  # answered or dismissed staff items
    items_anonymised: int  # open staff items: text kept, ids removed
    users: int

    @property
    def total(self) -> int:
        return self.questions + self.feedback + self.items_deleted + self.items_anonymised + self.users


@dataclass(frozen=True)
class PurgeCounts:
    """Rows deleted by ``purge_older_than``."""

    questions: int
    feedback: int
    items: int
    users: int

    @property
    def total(self) -> int:
        return self.questions + self.feedback + self.items + self.users


@dataclass(frozen=True)
class StatusCounts:
    """Logged questions by the bot's decision."""

    answered: int = 0
    suggested: int = 0
    unanswered: int = 0

    @property
    def total(self) -> int:
        return self.answered + self.suggested + self.unanswered


@dataclass(frozen=True)
class DayCount:
    """Questions of one UTC day (``day`` is YYYY-MM-DD)."""

    day: str
    answered: int = 0
    suggested: int = 0
    unanswered: int = 0

    @property
    def not_answered(self) -> int:
        return self.suggested + self.unanswered


def utcnow() -> str:
    """Timestamps are stored as ISO 8601 UTC text, which sorts and compares correctly."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def timestamp(moment: dt.datetime) -> str:
    """``moment`` in the stored format (aware datetimes are converted to UTC; naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Owner-only from the first byte: the log holds investors' questions and ids.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


async def _changed_rows(db: aiosqlite.Connection, sql: str, params: Iterable[Any]) -> int:
    """Run one statement and return how many rows it deleted or updated."""
    cursor = await db.execute(sql, params)
    changed = cursor.rowcount
    await cursor.close()
    return changed


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@dataclass(frozen=True)
class _Statement:
    """One queued INSERT/UPDATE/DELETE and the future its caller awaits."""

    sql: str
    params: tuple[Any, ...] | list[tuple[Any, ...]]  # a list: run with executemany
    insert: bool  # the result is the new row's id (else: the number of rows changed)
    result: asyncio.Future[int]


async def _connect(path: Path, busy_timeout_ms: int) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(path, timeout=busy_timeout_ms / 1000)
    connection.row_factory = sqlite3.Row
    await connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    return connection


async def _settled(future: asyncio.Future[T]) -> T:
    # Shielded: a caller that gives up (cancelled) does not cancel a write the batch may already contain.
    return await asyncio.shield(future)


def _on_thread(db: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> Awaitable[T]:
    """Run ``work`` with the underlying sqlite3 connection on aiosqlite's thread for it, as one call.

    aiosqlite's own methods are built on ``_execute`` the same way; it is not public API, hence the
    pinned aiosqlite version (pyproject.toml) and tests/test_store.py covering every path through here.
    """
    return db._execute(work, db._conn)  # type: ignore[no-untyped-call]


class Store:
    """Async access to the log; create with ``await Store.open(path)`` and ``await store.close()``.

    One connection, with its own thread (aiosqlite). Single writes queue up and are written together
    (``_queue``); the question log and the inbox share that queue, so a question logged before its
    update's done mark is committed with it or before it.
    """

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self.path = path
        self._db = connection
        self._lock = asyncio.Lock()  # one transaction at a time on the connection
        self._queued: list[_Statement] = []
        self._drainer: asyncio.Task[None] | None = None
        self._deferred: asyncio.TimerHandle | None = None  # the drain that writes deferred statements
        self._question_ids: Iterator[int] = iter(())
        self._reserving = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, busy_timeout_ms: int = 5000) -> Store:
        """Open (creating folder, file and schema as needed) and migrate to the current schema."""
        try:
            await asyncio.to_thread(_create_private, path)
            connection = await _connect(path, busy_timeout_ms)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{path}: cannot open the database: {exc}") from None
        store = cls(connection, path)
        try:
            await store._setup()
        except sqlite3.DatabaseError as exc:
            await store.close()
            raise StoreError(f"{path}: not a usable database: {exc}") from None
        except StoreError:
            await store.close()
            raise
        return store

    async def _setup(self) -> None:
        db = self._db
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
        if self._queued:
            self._drain_now()  # statements already queued, deferred ones included, are written, not dropped
        if self._drainer is not None:
            await self._drainer
        await self._db.close()

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    # --- plumbing

    async def _write(self, operation: Callable[[aiosqlite.Connection], Awaitable[T]], attempts: int = 8) -> T:
        """Run a write in a transaction, retrying with backoff while the database is locked."""

        async def once() -> T:
            try:
                result = await operation(self._db)
                await self._db.commit()
            except Exception:
                with contextlib.suppress(sqlite3.Error, ValueError):  # ValueError: the connection is closed
                    await self._db.rollback()
                raise
            return result

        return await self._retrying(once, attempts)

    async def _transact(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` and its commit as one call on the connection's thread, retrying while locked.

        One thread hop for a whole transaction, where ``_write`` takes one per statement, fetch and
        commit. Each hop is two context switches: at one investor at a time the bot made 12 an update
        with a hop per statement, about 3 with this (the echo bot of ``make bench``: 0.7).
        """

        def run(connection: sqlite3.Connection) -> T:
            try:
                result = work(connection)
                connection.commit()
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    connection.rollback()
                raise
            return result

        return await self._retrying(lambda: _on_thread(self._db, run))

    async def _retrying(self, attempt_once: Callable[[], Awaitable[T]], attempts: int = 8) -> T:
        delay = 0.05
        async with self._lock:
            for attempt in range(1, attempts + 1):
                try:
                    return await attempt_once()
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc) or attempt == attempts:
                        raise
                    log.warning("database busy (attempt %d/%d): %s", attempt, attempts, exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    async def _insert(self, sql: str, params: Iterable[Any]) -> int:
        """Run one INSERT; returns the new row's id."""
        return await _settled(self._queue(sql, params, insert=True))

    async def _update(self, sql: str, params: Iterable[Any], *, soon: bool = True) -> int:
        """Run one UPDATE or DELETE; returns how many rows it changed (``soon``: see ``_queue``)."""
        return await _settled(self._queue(sql, params, insert=False, soon=soon))

    def _queue(
        self, sql: str, params: Iterable[Any], *, insert: bool, soon: bool = True, many: bool = False
    ) -> asyncio.Future[int]:
        """Queue a single statement; the statements queued meanwhile are written in one transaction.

        Group commit: under load, one commit and one thread hop for a whole batch. Statements are
        written in the order queued. A failing statement fails only its own future; a busy database
        retries the whole batch (``_retrying``). ``soon=False`` defers the write to the next batch that
        something else starts, or ``DEFER_S`` at the latest: bookkeeping (a question's row, an update's
        done mark) then shares the transaction of the next update's journal instead of taking its own.
        ``many``: ``params`` is a sequence of parameter tuples (executemany; the result is rows changed).
        """
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        rows = [tuple(p) for p in params] if many else tuple(params)
        self._queued.append(_Statement(sql, rows, insert, future))
        if soon:
            self._drain_now()
        elif self._deferred is None and (self._drainer is None or self._drainer.done()):
            self._deferred = asyncio.get_running_loop().call_later(DEFER_S, self._drain_now)
        return future

    def _drain_now(self) -> None:
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []

            def run(db: sqlite3.Connection, batch: list[_Statement] = batch) -> list[int | sqlite3.Error]:
                results: list[int | sqlite3.Error] = []
                for statement in batch:
                    try:
                        if isinstance(statement.params, list):
                            results.append(db.executemany(statement.sql, statement.params).rowcount)
                            continue
                        cursor = db.execute(statement.sql, statement.params)
                        results.append(int(cursor.lastrowid or 0) if statement.insert else cursor.rowcount)
                    except sqlite3.OperationalError as exc:
                        if _is_busy(exc):
                            raise  # the whole batch is rolled back and retried
                        results.append(exc)
                    except sqlite3.Error as exc:  # a constraint: SQLite undid that statement only
                        results.append(exc)
                return results

            try:
                outcomes = await self._transact(run)
            except Exception as exc:  # busy past every retry, a failed commit, a closed connection, ...
                # ... every caller gets an error rather than waiting forever.
                error = exc if isinstance(exc, sqlite3.Error) else sqlite3.OperationalError(f"write failed: {exc!r}")
                outcomes = [error] * len(batch)
            for statement, outcome in zip(batch, outcomes, strict=True):
                if statement.result.done():
                    continue
                if isinstance(outcome, sqlite3.Error):
                    statement.result.set_exception(outcome)
                else:
                    statement.result.set_result(outcome)

    async def _fetch(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._db.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    # --- questions

    async def question_id(self) -> int:
        """A new question id, for ``log_question``; from a block reserved for this process (shell or bot)."""
        async with self._reserving:
            for question_id in self._question_ids:
                return question_id

            def run(db: sqlite3.Connection) -> int:
                row = db.execute(
                    "UPDATE id_blocks SET next = next + ? WHERE name = 'questions' RETURNING next", (QUESTION_ID_BLOCK,)
                ).fetchone()
                if row is None:
                    raise sqlite3.IntegrityError("id_blocks has no row for questions")
                return int(row[0])

            end = await self._transact(run)
            self._question_ids = iter(range(end - QUESTION_ID_BLOCK + 1, end))
            return end - QUESTION_ID_BLOCK

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
        await _settled(self.queue_question(record))
        return record.id

    def queue_question(self, record: QuestionRecord, *, soon: bool = True) -> asyncio.Future[int]:
        """Queue a question's row (its id from ``question_id``) without waiting for the write.

        It is written in one transaction with or before anything queued after it (such as its update's
        done mark); ``soon=False`` defers it (``_queue``). The future ends with the write (or its error).
        """
        return self._queue(
            "INSERT INTO questions (id, asked_at, user_id, chat_id, lang, text, status, entry_id, score)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.asked_at,
                record.user_id,
                record.chat_id,
                record.lang,
                record.text,
                record.status,
                record.entry_id,
                float(record.score),
            ),
            insert=True,
            soon=soon,
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

    # --- staff posts

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

    # --- feedback and preferences

    async def record_feedback(
        self, *, user_id: int | None, question_id: int | None, entry_id: str, helpful: bool
    ) -> int:
        return await self._insert(
            "INSERT INTO feedback (created_at, user_id, question_id, entry_id, helpful) VALUES (?, ?, ?, ?, ?)",
            (utcnow(), user_id, question_id, entry_id, int(helpful)),
        )

    async def feedback_counts(self, since: str | None = None) -> tuple[int, int]:
        """(helpful, not helpful) over all feedback, or over feedback given at or after ``since``."""
        rows = await self._fetch(
            "SELECT COALESCE(SUM(helpful), 0), COUNT(*) FROM feedback WHERE created_at >= ?", (since or "",)
        )
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

    async def user_langs(self) -> dict[int, str]:
        """Every user's explicit language choice."""
        rows = await self._fetch("SELECT user_id, lang FROM users WHERE lang IS NOT NULL")
        return {int(row[0]): str(row[1]) for row in rows}

    async def remember_user(self, user_id: int, first_name: str | None, username: str | None) -> None:
        """Store (or refresh) the name staff posts show; the language preference is kept."""

        async def run(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT INTO users (user_id, first_name, username, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET first_name = excluded.first_name,"
                " username = excluded.username, updated_at = excluded.updated_at",
                (user_id, first_name or None, username or None, utcnow()),
            )

        await self._write(run)

    async def get_user(self, user_id: int) -> UserProfile | None:
        rows = await self._fetch(
            "SELECT user_id, lang, first_name, username, updated_at FROM users WHERE user_id = ?", (user_id,)
        )
        return UserProfile(**dict(rows[0])) if rows else None

    # --- privacy and retention

    async def forget_user(self, user_id: int) -> ForgetCounts:
        """Delete an investor's questions, feedback and profile, in one transaction.

        Their open staff items keep the question text (staff may still want to answer it in the FAQ)
        but lose user and chat ids, so nothing can be sent to or traced back to them; their closed
        items go. Staff posts of open items stay linked.
        """

        async def run(db: aiosqlite.Connection) -> ForgetCounts:
            async def count(sql: str) -> int:
                return await _changed_rows(db, sql, (user_id,))

            feedback = await count("DELETE FROM feedback WHERE user_id = ?")
            items_deleted = await count("DELETE FROM unanswered WHERE user_id = ? AND status != 'new'")
            items_anonymised = await count("UPDATE unanswered SET user_id = NULL, chat_id = NULL WHERE user_id = ?")
            questions = await count("DELETE FROM questions WHERE user_id = ?")
            users = await count("DELETE FROM users WHERE user_id = ?")
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
                return await _changed_rows(db, sql, (cutoff,))

            feedback = await count("DELETE FROM feedback WHERE created_at < ?")
            items = await count("DELETE FROM unanswered WHERE status != 'new' AND COALESCE(replied_at, created_at) < ?")
            questions = await count("DELETE FROM questions WHERE asked_at < ?")
            users = await count(
                "DELETE FROM users WHERE updated_at < ?"
                " AND user_id NOT IN (SELECT user_id FROM questions WHERE user_id IS NOT NULL)"
                " AND user_id NOT IN (SELECT user_id FROM unanswered WHERE user_id IS NOT NULL)"
            )
            return PurgeCounts(questions, feedback, items, users)

        return await self._write(run)

    # --- the inbox of incoming updates

    async def journal_updates(self, updates: Sequence[tuple[int, str]], now: float | None = None) -> set[int]:
        """Keep updates (update_id, JSON) until ``finish_update``, in one transaction.

        Returns the ids that were new; an id already in the inbox (a re-delivery) is left as it was.
        """
        received = time.time() if now is None else now
        unique = dict(updates)
        if not unique:
            return set()

        def run(db: sqlite3.Connection) -> set[int]:
            # Telegram numbers updates sequentially: one range query finds the ids already here.
            seen = {
                int(row[0])
                for row in db.execute(
                    "SELECT update_id FROM inbox WHERE update_id BETWEEN ? AND ?", (min(unique), max(unique))
                )
            }
            fresh = [(update_id, payload, received) for update_id, payload in unique.items() if update_id not in seen]
            db.executemany(_INBOX_INSERT, fresh)
            return {update_id for update_id, _, _ in fresh}

        return await self._transact(run)

    def queue_new_updates(self, updates: Sequence[tuple[int, str]], now: float | None = None) -> asyncio.Future[int]:
        """Queue updates (update_id, JSON) known to be new for the inbox, for the next batch written.

        ``journal_updates`` checks for ids already there; this is for ids newer than all of them.
        """
        received = time.time() if now is None else now
        return self._queue(
            _INBOX_INSERT,
            [(update_id, payload, received) for update_id, payload in updates],
            insert=False,
            many=True,
        )

    async def finish_update(self, update_id: int, now: float | None = None) -> None:
        """Mark an update handled; its payload (the investor's message) is dropped, its id kept for dedup.

        Deferred (``_queue(soon=False)``): it rides with the next batch, usually the next update's journal.
        """
        await self._update(
            "UPDATE inbox SET payload = NULL, done_at = ? WHERE update_id = ?",
            (time.time() if now is None else now, update_id),
            soon=False,
        )

    async def newest_update_id(self) -> int | None:
        """The highest update id in the inbox (None if it is empty)."""
        rows = await self._fetch("SELECT max(update_id) FROM inbox")
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    async def pending_updates(self) -> list[tuple[int, str]]:
        """Updates journaled but never finished (the process stopped first), oldest first."""
        rows = await self._fetch(
            "SELECT update_id, payload FROM inbox WHERE done_at IS NULL AND payload IS NOT NULL ORDER BY update_id",
        )
        return [(int(row[0]), str(row[1])) for row in rows]

    async def purge_inbox(self, older_than_s: float, now: float | None = None) -> int:
        """Forget the ids of updates finished more than ``older_than_s`` seconds ago; returns rows deleted."""
        cutoff = (time.time() if now is None else now) - older_than_s
        return await self._update("DELETE FROM inbox WHERE done_at < ?", (cutoff,))

    # --- statistics and export

    async def status_counts(self, since: str | None = None) -> StatusCounts:
        """Questions asked at or after ``since`` (a stored timestamp; None: all) by decision."""
        rows = await self._fetch(
            "SELECT status, COUNT(*) FROM questions WHERE asked_at >= ? GROUP BY status", (since or "",)
        )
        return StatusCounts(**{str(r[0]): int(r[1]) for r in rows})

    async def top_entries(self, since: str | None = None, limit: int = 5) -> list[tuple[str, int]]:
        """The entries answered most often since ``since``: (entry id, count), most first."""
        rows = await self._fetch(
            "SELECT entry_id, COUNT(*) AS n FROM questions WHERE status = 'answered' AND entry_id IS NOT NULL"
            " AND asked_at >= ? GROUP BY entry_id ORDER BY n DESC, entry_id LIMIT ?",
            (since or "", limit),
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    async def daily_counts(self, days: int = 30, today: dt.date | None = None) -> list[DayCount]:
        """One ``DayCount`` per UTC day for the ``days`` days ending ``today``, oldest first, zeros included."""
        today = today or dt.datetime.now(dt.UTC).date()
        first = today - dt.timedelta(days=days - 1)
        end = today + dt.timedelta(days=1)
        rows = await self._fetch(
            "SELECT substr(asked_at, 1, 10) AS day, status, COUNT(*) FROM questions"
            " WHERE asked_at >= ? AND asked_at < ? GROUP BY day, status",
            (first.isoformat(), end.isoformat()),
        )
        found: dict[str, dict[str, int]] = {}
        for row in rows:
            found.setdefault(str(row[0]), {})[str(row[1])] = int(row[2])
        result = []
        for offset in range(days):
            day = (first + dt.timedelta(days=offset)).isoformat()
            result.append(DayCount(day, **found.get(day, {})))
        return result

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
                yield QuestionRecord(**dict(row))
            if len(rows) < batch:
                return
            last_id = int(rows[-1]["id"])
