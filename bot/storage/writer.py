"""Group commit: single writes queued by many tasks, written together in one transaction.

Under load one commit serves a whole batch. Each write is a ``Write``: a statement (``Statement``) or a
small unit of several (e.g. a hand-off, ``bot.storage.staff_queue``). Writes of one kind run as one call
(``executemany``) when nothing queued between them touches their tables, because every call is a hop to
aiosqlite's thread: about 50 us here, against about 1.4 us per row inside one ``executemany``
(measured with aiosqlite 0.22 on this machine). The batch is written optimistically, all in one go; if
any write fails, the transaction is rolled back and the batch written again one write at a time, each
in a savepoint, so that a failing write fails only its own caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import aiosqlite

from bot.storage.schema import REFERENCES

log = logging.getLogger(__name__)

T = TypeVar("T")

# How long a deferred write (``Writer.submit(soon=False)``) waits at most for a batch to join.
DEFER_S = 0.05
_TABLE = re.compile(r"^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)
_ANY_TABLE = "*"  # a write whose tables are unknown: nothing moves past it


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """The database is locked by another connection (worth retrying), as opposed to a broken statement."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def related(tables: frozenset[str]) -> frozenset[str]:
    """``tables`` and every table a foreign key links them to, either way."""
    if _ANY_TABLE in tables:
        return tables
    linked = set(tables)
    for table, targets in REFERENCES.items():
        if table in tables:
            linked |= targets
        if targets & tables:
            linked.add(table)
    return frozenset(linked)


@dataclass(frozen=True, eq=False)
class Write:
    """One queued write and the future its caller awaits."""

    result: asyncio.Future[Any] = field(repr=False)
    # (user id, question id): a write about a question that user asked; dropped if they used /forget
    # after the question's id was handed out (it was in flight while their data was deleted).
    guard: tuple[int, int] | None = field(default=None, kw_only=True)

    @property
    def tables(self) -> frozenset[str]:
        """The tables this write changes."""
        return frozenset({_ANY_TABLE})

    @property
    def key(self) -> Hashable | None:
        """Writes with the same key can run as one call (``apply`` with all of them); None: always alone."""
        return None

    @property
    def needs_savepoint(self) -> bool:
        """True when a failure half-way could leave part of this write behind (more than one row or statement)."""
        return True

    @classmethod
    async def apply(cls, db: aiosqlite.Connection, writes: Sequence[Any]) -> list[Any]:
        """Run ``writes`` (all of this class, with one key) on ``db``; one outcome per write, in order."""
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class Statement(Write):
    """One INSERT, UPDATE or DELETE, with one or more parameter rows."""

    sql: str
    rows: tuple[tuple[Any, ...], ...]
    # What the caller gets: the new row's id, the number of rows changed, or None (nothing to wait for
    # but the write itself); only the last kind joins others into one executemany.
    returns: Literal["rowid", "count"] | None = None

    @property
    def tables(self) -> frozenset[str]:
        found = _TABLE.match(self.sql)
        return frozenset({found.group(1).lower() if found else _ANY_TABLE})

    @property
    def key(self) -> Hashable | None:
        return self.sql if self.returns is None else None

    @property
    def needs_savepoint(self) -> bool:
        return len(self.rows) > 1  # one row: SQLite undoes a failed statement by itself

    @classmethod
    async def apply(cls, db: aiosqlite.Connection, writes: Sequence[Statement]) -> list[Any]:
        first = writes[0]
        if first.returns is None:
            await db.executemany(first.sql, [row for write in writes for row in write.rows])
            return [None] * len(writes)
        (row,) = first.rows
        # The cursor is not closed: a DML cursor holds nothing, and closing it is one more hop.
        cursor = await db.execute(first.sql, row)
        return [int(cursor.lastrowid or 0) if first.returns == "rowid" else cursor.rowcount]


class Writer:
    """The queue of writes for one connection and the task that writes them.

    ``lock`` is held for each batch's transaction (the store's other transactions take it too);
    ``dropped(guard)`` says whether a guarded write is to be dropped unwritten (settled with None).
    """

    def __init__(
        self, db: aiosqlite.Connection, lock: asyncio.Lock, dropped: Callable[[tuple[int, int]], bool]
    ) -> None:
        self._db = db
        self._lock = lock
        self._dropped = dropped
        self._queued: list[Write] = []
        self._drainer: asyncio.Task[None] | None = None
        self._deferred: asyncio.TimerHandle | None = None  # the drain that writes deferred writes

    @property
    def pending(self) -> bool:
        return bool(self._queued)

    def submit(self, write: Write, *, soon: bool = True) -> None:
        """Queue ``write``; the writes queued meanwhile are written in one transaction, in queued order.

        ``soon=False`` defers it to the next batch that something else starts, or ``DEFER_S`` at the
        latest: bookkeeping (a question's row, an update's done mark) then shares the transaction of
        the next update's journal instead of taking its own.
        """
        self._queued.append(write)
        if soon:
            self.drain_now()
        elif self._deferred is None and (self._drainer is None or self._drainer.done()):
            self._deferred = asyncio.get_running_loop().call_later(DEFER_S, self.drain_now)

    def drain_now(self) -> None:
        """Start writing what is queued (deferred writes included), unless a batch is being written."""
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())

    async def close(self) -> None:
        """Write everything queued, then return."""
        if self._queued:
            self.drain_now()
        if self._drainer is not None:
            await self._drainer

    async def _drain(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            batch = [write for write in batch if not self._drop(write)]
            if not batch:
                continue
            try:
                outcomes = await self.transact(batch)
            except Exception as exc:  # busy past every retry, a failed commit, a closed connection, ...
                # ... every caller gets an error rather than waiting forever.
                error = exc if isinstance(exc, sqlite3.Error) else sqlite3.OperationalError(f"write failed: {exc!r}")
                outcomes = [error] * len(batch)
            for write, outcome in zip(batch, outcomes, strict=True):
                if write.result.done():
                    continue
                if isinstance(outcome, sqlite3.Error):
                    write.result.set_exception(outcome)
                else:
                    write.result.set_result(outcome)

    def _drop(self, write: Write) -> bool:
        if write.guard is None or not self._dropped(write.guard):
            return False
        if not write.result.done():
            write.result.set_result(None)
        log.info("dropped a write in flight for an investor who used /forget")
        return True

    async def transact(self, batch: Sequence[Write]) -> list[Any]:
        """Write ``batch`` in one transaction (retried while the database is busy); an outcome per write."""
        async with self._lock:
            return await retrying(lambda: self._once(batch))

    async def _once(self, batch: Sequence[Write]) -> list[Any]:
        db = self._db
        try:
            try:
                outcomes = await _together(db, batch)
            except sqlite3.OperationalError as exc:
                if is_busy(exc):
                    raise
                outcomes = None
            except (sqlite3.Error, OverflowError, ValueError, TypeError):
                outcomes = None
            if outcomes is None:
                # Something failed: undo the batch and write it again one write at a time.
                await db.rollback()
                outcomes = await _one_by_one(db, batch)
            await db.commit()
        except BaseException:
            with contextlib.suppress(sqlite3.Error, ValueError):  # ValueError: the connection is closed
                await db.rollback()
            raise
        return outcomes


def runs(batch: Sequence[Write]) -> list[list[Write]]:
    """``batch`` in runs that can each be one call: a write joins the latest run of its key when no run
    after that one touches its tables (or tables linked to them by a foreign key); else it starts one.

    Writes keep their order wherever it could matter: two writes on related tables never swap.
    """
    grouped: list[list[Write]] = []
    touched: list[frozenset[str]] = []  # per run: its tables and their relatives
    for write in batch:
        key, tables = write.key, write.tables
        target = None
        if key is not None:
            for index in range(len(grouped) - 1, -1, -1):
                if grouped[index][0].key == key:
                    target = index
                    break
                if _ANY_TABLE in touched[index] or _ANY_TABLE in tables or touched[index] & tables:
                    break
        if target is None:
            grouped.append([write])
            touched.append(related(tables))
        else:
            grouped[target].append(write)
    return grouped


async def _together(db: aiosqlite.Connection, batch: Sequence[Write]) -> list[Any]:
    outcomes: dict[int, Any] = {}
    for run in runs(batch):
        for write, outcome in zip(run, await type(run[0]).apply(db, run), strict=True):
            outcomes[id(write)] = outcome
    return [outcomes[id(write)] for write in batch]


async def _one_by_one(db: aiosqlite.Connection, batch: Sequence[Write]) -> list[Any]:
    """Each write alone, so a failing one fails only its caller; a busy database still fails them all
    (the whole batch is rolled back and retried)."""
    if not db.in_transaction:
        await db.execute("BEGIN")  # else RELEASE would commit the transaction a SAVEPOINT began
    outcomes: list[Any] = []
    for write in batch:
        savepoint = write.needs_savepoint
        if savepoint:
            await db.execute("SAVEPOINT write")
        try:
            (outcome,) = await type(write).apply(db, [write])
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise
            outcome = exc
        except sqlite3.Error as exc:  # a constraint
            outcome = exc
        except (OverflowError, ValueError, TypeError) as exc:
            # Refused at binding (an int beyond 64 bits, a value SQLite cannot store): nothing of it was
            # written. It fails its own caller, never the batch it rides with.
            outcome = sqlite3.InterfaceError(f"{type(exc).__name__}: {exc}")
        if savepoint:
            if isinstance(outcome, sqlite3.Error):
                await db.execute("ROLLBACK TO write")
            await db.execute("RELEASE write")
        outcomes.append(outcome)
    return outcomes


async def retrying(attempt_once: Callable[[], Awaitable[T]], attempts: int = 8) -> T:
    """Await ``attempt_once()`` until it does not fail with a busy database, with backoff; the caller
    holds the connection's lock."""
    delay = 0.05
    for attempt in range(1, attempts + 1):
        try:
            return await attempt_once()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or attempt == attempts:
                raise
            log.warning("database busy (attempt %d/%d): %s", attempt, attempts, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")
