"""The question log: one SQLite file (WAL) behind an async API (aiosqlite).

Schema changes are forward migrations numbered by ``PRAGMA user_version``; opening a file runs the
missing ones in order. Writes retry for a while when another process holds the lock, so a busy
database costs latency, not data.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
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
    # 5: nothing stalls or repeats. Staff posts go through an outbox drained in the background (a
    # hand-off never waits for the staff chat's rate limit); an update that cannot be parsed is set
    # aside in quarantine; inbox rows keep a digest of their payload, so a reused update id (the Bot
    # API restarted its sequence) is told from a re-delivery; one hand-off per question and one vote
    # per user and answer; a reply that never reached the investor is marked as such.
    """
    ALTER TABLE inbox ADD COLUMN digest TEXT;
    CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY,
        update_id INTEGER,
        received_at REAL NOT NULL,
        reason TEXT NOT NULL,
        payload TEXT
    );
    CREATE TABLE staff_outbox (
        id INTEGER PRIMARY KEY,
        item_id INTEGER REFERENCES unanswered (id) ON DELETE CASCADE,
        reason TEXT NOT NULL,
        note TEXT,
        created_at TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'sending', 'sent', 'summarised', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        done_at TEXT
    );
    CREATE INDEX staff_outbox_state ON staff_outbox (state, id);
    UPDATE unanswered SET question_id = NULL WHERE question_id IS NOT NULL AND id NOT IN
        (SELECT min(id) FROM unanswered WHERE question_id IS NOT NULL GROUP BY question_id);
    CREATE UNIQUE INDEX unanswered_question ON unanswered (question_id) WHERE question_id IS NOT NULL;
    DELETE FROM feedback WHERE id NOT IN
        (SELECT max(id) FROM feedback GROUP BY user_id, coalesce(question_id, 0), entry_id);
    CREATE UNIQUE INDEX feedback_vote ON feedback (user_id, coalesce(question_id, 0), entry_id);
    ALTER TABLE questions ADD COLUMN delivered INTEGER NOT NULL DEFAULT 1;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
# An id newer than every one in the inbox is new, unless the Bot API restarted its numbering: then the
# row it meets is an older, different update, and is replaced.
_INBOX_INSERT = (
    "INSERT INTO inbox (update_id, payload, received_at, digest) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (update_id) DO UPDATE SET payload = excluded.payload, received_at = excluded.received_at,"
    " digest = excluded.digest, done_at = NULL"
)
_REMEMBER_USER = (
    "INSERT INTO users (user_id, first_name, username, updated_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (user_id) DO UPDATE SET first_name = excluded.first_name,"
    " username = excluded.username, updated_at = excluded.updated_at"
)
# The update fields that carry the sender (``from``) in the kinds the bot receives.
_UPDATE_KINDS = ("message", "edited_message", "callback_query", "inline_query", "chosen_inline_result")
# SQLite integers are signed 64-bit; a bigger Python int fails at binding (OverflowError).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
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
    delivered: bool = True  # False: the reply could not be sent (Telegram error); staff were told


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


PostReason = Literal["unanswered", "none_of_these", "undelivered", "notice"]
PostState = Literal["pending", "sending", "sent", "summarised", "failed"]


@dataclass(frozen=True)
class OutboxPost:
    """A staff-chat post waiting in the outbox: a queue item (``item_id``) or a notice (``note``)."""

    id: int
    item_id: int | None
    reason: PostReason
    note: str | None
    created_at: str
    state: PostState
    attempts: int
    error: str | None
    done_at: str | None


@dataclass(frozen=True)
class Handoff:
    """A question given to staff: its queue item, and whether this call created it (False: already queued)."""

    item_id: int
    created: bool


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


def digest(payload: str) -> str:
    """What tells two updates with the same id apart: a re-delivery is the same event, a new one is not.

    The event is named by what Telegram never reuses: a message by chat, message id and date, a button
    press or inline query by its own id. The same update reaches the bot as raw JSON (polling) or
    re-serialised by python-telegram-bot (webhook), so the whole payload would not compare equal.
    """
    try:
        raw = json.loads(payload)
    except ValueError:
        raw = None
    key: object = payload
    if isinstance(raw, dict):
        key = sorted((kind, _event_key(value)) for kind, value in raw.items() if kind != "update_id")
    text = json.dumps(key, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def _event_key(value: object) -> object:
    if not isinstance(value, dict):
        return value
    if "id" in value and not isinstance(value.get("id"), dict):
        return {"id": value["id"]}  # callback_query, inline_query, ...
    chat = value.get("chat")
    if "message_id" in value:
        return {
            "chat": chat.get("id") if isinstance(chat, dict) else chat,
            "m": value["message_id"],
            "d": value.get("date"),
        }
    return value


def fits_int64(value: object) -> bool:
    """True for an int SQLite can store (bools excluded); ids from outside are checked with this."""
    return isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX


class Forgotten(Exception):
    """A write for an investor who used /forget after it was started: dropped, never written."""


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Owner-only from the first byte: the log holds investors' questions and ids.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _epoch(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp).timestamp()


def _question(row: sqlite3.Row) -> QuestionRecord:
    fields = dict(row)
    fields["delivered"] = bool(fields.get("delivered", 1))
    return QuestionRecord(**fields)


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


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
    # (user id, question id): a write about a question that user asked; dropped if they used /forget
    # after the question's id was handed out (it was in flight while their data was deleted).
    guard: tuple[int, int] | None = None


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
    pinned aiosqlite version (pyproject.toml) and tests/bot/test_store.py covering every path through here.
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
        self._last_question_id = 0  # the newest question id handed out by this process
        self._reserving = asyncio.Lock()
        # user id -> the newest question id handed out when they used /forget: a write about one of
        # their questions up to that id was in flight during the deletion and is dropped. Kept in memory
        # only (an id alone, for in-flight work); bounded like the other per-user caches.
        self._forgotten: dict[int, int] = {}
        self._identity = _file_identity(path)

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
        self,
        sql: str,
        params: Iterable[Any],
        *,
        insert: bool,
        soon: bool = True,
        many: bool = False,
        guard: tuple[int, int] | None = None,
    ) -> asyncio.Future[int]:
        """Queue a single statement; the statements queued meanwhile are written in one transaction.

        Group commit: under load, one commit and one thread hop for a whole batch. Statements are
        written in the order queued. A failing statement fails only its own future; a busy database
        retries the whole batch (``_retrying``). ``soon=False`` defers the write to the next batch that
        something else starts, or ``DEFER_S`` at the latest: bookkeeping (a question's row, an update's
        done mark) then shares the transaction of the next update's journal instead of taking its own.
        ``many``: ``params`` is a sequence of parameter tuples (executemany; the result is rows changed).
        ``guard``: see ``_Statement.guard``.
        """
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        rows = [tuple(p) for p in params] if many else tuple(params)
        self._queued.append(_Statement(sql, rows, insert, future, guard))
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
            batch = [statement for statement in batch if not self._drop_forgotten(statement)]
            if not batch:
                continue

            def run(db: sqlite3.Connection, batch: list[_Statement] = batch) -> list[int | sqlite3.Error]:
                results: list[int | sqlite3.Error] = []
                for statement in batch:
                    try:
                        if isinstance(statement.params, list):
                            # A savepoint, so a row that fails half-way leaves none of its statement behind.
                            if not db.in_transaction:
                                db.execute("BEGIN")  # or RELEASE would commit a transaction SAVEPOINT began
                            db.execute("SAVEPOINT many")
                            try:
                                results.append(db.executemany(statement.sql, statement.params).rowcount)
                            except BaseException:
                                db.execute("ROLLBACK TO many")
                                raise
                            finally:
                                db.execute("RELEASE many")
                            continue
                        cursor = db.execute(statement.sql, statement.params)
                        results.append(int(cursor.lastrowid or 0) if statement.insert else cursor.rowcount)
                    except sqlite3.OperationalError as exc:
                        if _is_busy(exc):
                            raise  # the whole batch is rolled back and retried
                        results.append(exc)
                    except sqlite3.Error as exc:  # a constraint: SQLite undid that statement only
                        results.append(exc)
                    except (OverflowError, ValueError, TypeError) as exc:
                        # Refused at binding (an int beyond 64 bits, a value SQLite cannot store): nothing
                        # of it was written. It fails its own caller, never the batch it rides with.
                        results.append(sqlite3.InterfaceError(f"{type(exc).__name__}: {exc}"))
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

    def _forgotten_since(self, user_id: int | None, question_id: int | None) -> bool:
        """True when ``user_id`` used /forget after question ``question_id`` was handed out (its write was
        in flight during the deletion)."""
        if user_id is None or question_id is None:
            return False
        return self._forgotten.get(user_id, -1) >= question_id

    def _drop_forgotten(self, statement: _Statement) -> bool:
        """Settle (with 0, unwritten) a statement about a question whose asker has since used /forget."""
        if statement.guard is None:
            return False
        if not self._forgotten_since(*statement.guard):
            return False
        if not statement.result.done():
            statement.result.set_result(0)
        log.info("dropped a write in flight for an investor who used /forget")
        return True

    def check_file(self) -> str | None:
        """Why the database file is no longer the one this store opened (deleted, replaced), or None.

        SQLite keeps writing to an open file that was deleted: everything since would vanish at the next
        start. The bot checks this periodically and stops with this message instead.
        """
        now = _file_identity(self.path)
        if now is None:
            return f"{self.path}: the database file was deleted while the bot was running"
        if self._identity is not None and now != self._identity:
            return f"{self.path}: the database file was replaced while the bot was running"
        return None

    async def _fetch(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._db.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    # --- questions

    async def question_id(self) -> int:
        """A new question id, for ``log_question``; from a block reserved for this process (shell or bot)."""
        async with self._reserving:
            for question_id in self._question_ids:
                self._last_question_id = question_id
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
        await _settled(self.queue_question(record))
        return record.id

    def queue_question(self, record: QuestionRecord, *, soon: bool = True) -> asyncio.Future[int]:
        """Queue a question's row (its id from ``question_id``) without waiting for the write.

        It is written in one transaction with or before anything queued after it (such as its update's
        done mark); ``soon=False`` defers it (``_queue``). The future ends with the write (or its error).
        """
        return self._queue(
            "INSERT INTO questions (id, asked_at, user_id, chat_id, lang, text, status, entry_id, score, delivered)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                int(record.delivered),
            ),
            insert=True,
            soon=soon,
            guard=None if record.user_id is None else (record.user_id, record.id),
        )

    async def mark_undelivered(self, question_id: int) -> None:
        """The reply to a logged question never reached the investor."""
        await self._update("UPDATE questions SET delivered = 0 WHERE id = ?", (question_id,))

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

    # --- the staff queue

    async def add_unanswered(
        self, *, question_id: int | None, user_id: int | None, chat_id: int | None, lang: str, text: str
    ) -> int:
        """Queue a question for staff; returns the item id."""
        return await self._insert(
            "INSERT INTO unanswered (question_id, created_at, user_id, chat_id, lang, text) VALUES (?, ?, ?, ?, ?, ?)",
            (question_id, utcnow(), user_id, chat_id, lang, text),
        )

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

        def run(db: sqlite3.Connection) -> Handoff:
            if question_id is not None:
                row = db.execute("SELECT id FROM unanswered WHERE question_id = ?", (question_id,)).fetchone()
                if row is not None:
                    return Handoff(int(row[0]), created=False)
            now = utcnow()
            item_id = db.execute(
                "INSERT INTO unanswered (question_id, created_at, user_id, chat_id, lang, text)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (question_id, now, user_id, chat_id, lang, text),
            ).lastrowid
            assert item_id is not None
            db.execute(
                "INSERT INTO staff_outbox (item_id, reason, created_at) VALUES (?, ?, ?)", (item_id, reason, now)
            )
            if user_id is not None and (first_name or username):
                db.execute(_REMEMBER_USER, (user_id, first_name or None, username or None, now))
            return Handoff(int(item_id), created=True)

        return await self._transact(run)

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

    # --- the staff outbox: posts to the staff chat, sent in the background (handlers/staff_outbox.py)

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
        await self._update(
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

    # --- updates that could not be parsed

    async def quarantine_update(self, update_id: int | None, reason: str, payload: str) -> int:
        """Set aside an update the bot cannot read (kept for inspection, never handled); returns its row id."""
        return await self._insert(
            "INSERT INTO quarantine (update_id, received_at, reason, payload) VALUES (?, ?, ?, ?)",
            (update_id if fits_int64(update_id) else None, time.time(), reason[:500], payload),
        )

    async def count_undelivered(self, since: str | None = None) -> int:
        """Questions asked at or after ``since`` whose reply never reached the investor."""
        rows = await self._fetch("SELECT COUNT(*) FROM questions WHERE delivered = 0 AND asked_at >= ?", (since or "",))
        return int(rows[0][0])

    async def count_quarantined(self) -> int:
        rows = await self._fetch("SELECT COUNT(*) FROM quarantine")
        return int(rows[0][0])

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

    # --- feedback and preferences

    async def record_feedback(
        self, *, user_id: int | None, question_id: int | None, entry_id: str, helpful: bool
    ) -> bool:
        """One vote per user and answer (question, entry): a second press changes the vote, never adds one.

        Returns True for a new vote, False for a changed or repeated one (or one dropped by /forget).
        """
        if self._forgotten_since(user_id, question_id):
            return False

        def run(db: sqlite3.Connection) -> bool:
            changed = db.execute(
                "UPDATE feedback SET helpful = ?, created_at = ? WHERE user_id IS ? AND coalesce(question_id, 0) = ?"
                " AND entry_id = ?",
                (int(helpful), utcnow(), user_id, question_id or 0, entry_id),
            ).rowcount
            if changed:
                return False
            db.execute(
                "INSERT INTO feedback (created_at, user_id, question_id, entry_id, helpful) VALUES (?, ?, ?, ?, ?)",
                (utcnow(), user_id, question_id, entry_id, int(helpful)),
            )
            return True

        return await self._transact(run)

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
            await db.execute(_REMEMBER_USER, (user_id, first_name or None, username or None, utcnow()))

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

        Work still in flight for them is covered too: a question whose id was handed out before this
        call is never written afterwards (nor its hand-off, vote or name), and the raw updates of theirs
        still in the inbox or in quarantine lose their payload, so no restart replays them.
        """
        if len(self._forgotten) > 10_000:  # in-flight work lasts seconds; bound the memory
            self._forgotten.clear()
        self._forgotten[user_id] = self._last_question_id
        if self._queued:
            self._drain_now()  # statements already queued: dropped by the guard, or written before the delete

        async def run(db: aiosqlite.Connection) -> ForgetCounts:
            async def count(sql: str) -> int:
                return await _changed_rows(db, sql, (user_id,))

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
                return await _changed_rows(db, sql, (cutoff,))

            feedback = await count("DELETE FROM feedback WHERE created_at < ?")
            await db.execute("DELETE FROM staff_outbox WHERE state != 'pending' AND done_at < ?", (cutoff,))
            await db.execute("DELETE FROM quarantine WHERE received_at < ?", (_epoch(cutoff),))
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

        Returns the ids that were new. An id already in the inbox with the same payload (a re-delivery)
        is left as it was; with another payload it is a new update that reuses the id (the Bot API
        restarted its numbering: Telegram does after a week without updates, a self-hosted server at
        its own restart), and replaces the old row.
        """
        received = time.time() if now is None else now
        unique = {update_id: (payload, digest(payload)) for update_id, payload in updates}
        if not unique:
            return set()

        def run(db: sqlite3.Connection) -> set[int]:
            # Telegram numbers updates sequentially: one range query finds the ids already here.
            seen = {
                int(row[0]): row[1]
                for row in db.execute(
                    "SELECT update_id, digest FROM inbox WHERE update_id BETWEEN ? AND ?", (min(unique), max(unique))
                )
            }
            fresh = [
                (update_id, payload, received, hashed)
                for update_id, (payload, hashed) in unique.items()
                # A row from before schema 5 has no digest: taken as the same update, as it always was.
                if update_id not in seen or (seen[update_id] is not None and seen[update_id] != hashed)
            ]
            db.executemany(_INBOX_INSERT, fresh)
            return {row[0] for row in fresh}

        return await self._transact(run)

    def queue_new_updates(self, updates: Sequence[tuple[int, str]], now: float | None = None) -> asyncio.Future[int]:
        """Queue updates (update_id, JSON) known to be new for the inbox, for the next batch written.

        ``journal_updates`` checks for ids already there; this is for ids newer than all of them.
        """
        received = time.time() if now is None else now
        return self._queue(
            _INBOX_INSERT,
            [(update_id, payload, received, digest(payload)) for update_id, payload in updates],
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
                yield _question(row)
            if len(rows) < batch:
                return
            last_id = int(rows[-1]["id"])
