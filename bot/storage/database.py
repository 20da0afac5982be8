"""The connection under every table group: opening and migrating the file, reads, transactions, the writer.

One SQLite file (WAL) behind aiosqlite's public API. Writes retry for a while when another process holds
the lock, so a busy database costs latency, not data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

import aiosqlite

from bot.storage.records import StoreError
from bot.storage.schema import MIGRATIONS, SCHEMA_VERSION
from bot.storage.writer import Statement, Write, Writer, retrying

log = logging.getLogger(__name__)

T = TypeVar("T")


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Owner-only from the first byte: the log holds investors' questions and ids.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


async def _connect(path: Path, busy_timeout_ms: int) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(path, timeout=busy_timeout_ms / 1000)
    connection.row_factory = sqlite3.Row
    await connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    return connection


async def settled(future: asyncio.Future[T]) -> T:
    """The write's outcome; shielded, so a caller that gives up (cancelled) does not cancel a write the
    batch may already contain."""
    return await asyncio.shield(future)


async def changed_rows(db: aiosqlite.Connection, sql: str, params: Iterable[Any]) -> int:
    """Run one statement and return how many rows it deleted or updated."""
    cursor = await db.execute(sql, tuple(params))
    return cursor.rowcount


class Database:
    """One connection, its thread (aiosqlite) and its writer; the table groups build on this.

    Create with ``await Store.open(path)`` and finish with ``await store.close()``.
    """

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self.path = path
        self._db = connection
        self._lock = asyncio.Lock()  # one transaction at a time on the connection
        self._writer = Writer(connection, self._lock, self._guard_dropped)
        self._last_question_id = 0  # the newest question id handed out by this process
        # user id -> the newest question id handed out when they used /forget: a write about one of
        # their questions up to that id was in flight during the deletion and is dropped. Kept in memory
        # only (an id alone, for in-flight work); bounded like the other per-user caches.
        self._forgotten: dict[int, int] = {}
        self._identity = _file_identity(path)

    @classmethod
    async def open(cls, path: Path, busy_timeout_ms: int = 5000) -> Self:
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
        version = await self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this etown-bot ({SCHEMA_VERSION}); upgrade it"
            )
        if version < SCHEMA_VERSION:
            # Off while migrating (it cannot change inside a transaction): a migration that rebuilds a table
            # (6) drops the old one, which with foreign keys on would unlink every row referring to it.
            await db.execute("PRAGMA foreign_keys = OFF")
            for number in range(version, SCHEMA_VERSION):
                # executescript commits first; the version bump is part of the same script.
                await db.executescript(f"BEGIN; {MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;")
                log.info("database %s migrated to schema %d", self.path, number + 1)
            broken = await self._fetch("PRAGMA foreign_key_check")
            await db.execute("PRAGMA foreign_keys = ON")
            if broken:  # not fatal: the rows are kept, and the bot stays up
                log.warning("database %s: %d row(s) refer to rows that do not exist", self.path, len(broken))

    async def close(self) -> None:
        """Write what is queued (deferred writes included: written, not dropped), then close."""
        await self._writer.close()
        await self._db.close()

    async def schema_version(self) -> int:
        rows = await self._fetch("PRAGMA user_version")
        return int(rows[0][0]) if rows else 0

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

    # --- reads and transactions

    async def _fetch(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return list(await self._db.execute_fetchall(sql, tuple(params)))

    async def _write(self, operation: Callable[[aiosqlite.Connection], Awaitable[T]], attempts: int = 8) -> T:
        """Run ``operation`` and commit, as one transaction, retrying with backoff while the database is locked.

        For writes that read what they change (a vote, /forget); single writes go through the writer.
        """

        async def once() -> T:
            try:
                result = await operation(self._db)
                await self._db.commit()
            except BaseException:
                with contextlib.suppress(sqlite3.Error, ValueError):  # ValueError: the connection is closed
                    await self._db.rollback()
                raise
            return result

        async with self._lock:
            return await retrying(once, attempts)

    # --- single writes, through the writer (group commit)

    def _submit(self, write: Write, *, soon: bool = True) -> None:
        self._writer.submit(write, soon=soon)

    @staticmethod
    def _new_future() -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    def _statement(
        self,
        sql: str,
        rows: Iterable[Iterable[Any]],
        returns: Literal["rowid", "count"] | None = None,
        *,
        soon: bool = True,
        guard: tuple[int, int] | None = None,
    ) -> asyncio.Future[Any]:
        future = self._new_future()
        self._submit(Statement(future, sql, tuple(tuple(row) for row in rows), returns, guard=guard), soon=soon)
        return future

    async def _insert(self, sql: str, params: Iterable[Any]) -> int:
        """Run one INSERT; returns the new row's id."""
        return int(await settled(self._statement(sql, [params], "rowid")))

    async def _update(self, sql: str, params: Iterable[Any]) -> int:
        """Run one UPDATE or DELETE; returns how many rows it changed."""
        return int(await settled(self._statement(sql, [params], "count")))

    async def _run(self, sql: str, params: Iterable[Any], *, soon: bool = True) -> None:
        """Run one write whose caller needs no result; it can share one ``executemany`` with others like it."""
        await settled(self._statement(sql, [params], soon=soon))

    # --- /forget and writes in flight

    def _forgotten_since(self, user_id: int | None, question_id: int | None) -> bool:
        """True when ``user_id`` used /forget after question ``question_id`` was handed out (its write was
        in flight during the deletion)."""
        if user_id is None or question_id is None:
            return False
        return self._forgotten.get(user_id, -1) >= question_id

    def _guard_dropped(self, guard: tuple[int, int]) -> bool:
        return self._forgotten_since(*guard)
