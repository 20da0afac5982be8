"""``etown-bot backup`` and ``etown-bot restore``: copies of the question log through SQLite's backup API.

Why the backup API and not ``cp``: the bot runs in WAL mode, so committed rows live partly in
``<database>-wal`` until a checkpoint; a file copy taken while the bot writes can miss them or be torn.
``sqlite3.Connection.backup`` copies the database as one read transaction sees it: every committed
row, none half-written, while the bot goes on writing (WAL readers do not block writers).

A restore must not run under a live bot: the bot would keep writing to the file it has open. It is
detected with an exclusive lock attempt: in WAL mode every open connection holds a shared lock on the
database file for as long as it is open, so ``PRAGMA locking_mode = EXCLUSIVE`` + ``BEGIN EXCLUSIVE``
(no waiting) fails while any other process (``etown-bot run``, ``shell``, a staff command) has it
open. The restore then keeps that lock until it is done, so no bot can start halfway through.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from bot.storage import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_S = 5.0  # as the bot's own connections (bot/storage/): a busy database costs time, not the copy
SIDECARS = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """Backup or restore could not be done; the message is for users and nothing was changed."""


@dataclass(frozen=True)
class DatabaseInfo:
    """A file checked to be an etown-bot database."""

    path: Path
    size: int  # bytes
    schema_version: int


@dataclass(frozen=True)
class Restored:
    database: DatabaseInfo
    previous: Path | None  # where the replaced database was kept (None: there was none)


def _connect(path: Path, *, timeout: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """An existing file only (``mode=rw``: a missing one is an error, not a new empty database)."""
    uri = f"file:{quote(str(path.resolve()))}?mode=rw"
    return sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)


@contextlib.contextmanager
def _opened(path: Path, *, timeout: float = BUSY_TIMEOUT_S) -> Iterator[sqlite3.Connection]:
    connection = _connect(path, timeout=timeout)
    try:
        yield connection
    finally:
        connection.close()


def _columns(db: sqlite3.Connection) -> dict[str, set[str]]:
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")]
    return {t: {row[1] for row in db.execute("SELECT * FROM pragma_table_info(?)", (t,))} for t in tables}


def _expected_columns(version: int) -> dict[str, set[str]]:
    """Tables and columns schema ``version`` has, from the migrations themselves (run in memory)."""
    with contextlib.closing(sqlite3.connect(":memory:", isolation_level=None)) as db:
        for migration in MIGRATIONS[:version]:
            db.executescript(migration)
        return _columns(db)


def check_database(db: sqlite3.Connection, path: Path) -> int:
    """The schema version of the etown-bot database open on ``db``; BackupError if it is not one."""
    try:
        integrity = [row[0] for row in db.execute("PRAGMA quick_check")]
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        found = _columns(db)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a usable SQLite database: {exc}") from None
    if integrity != ["ok"]:
        raise BackupError(f"{path}: the database is damaged: {'; '.join(integrity[:3])}")
    if version > SCHEMA_VERSION:
        raise BackupError(
            f"{path}: schema version {version} is newer than this etown-bot supports ({SCHEMA_VERSION}); "
            "upgrade etown-bot first"
        )
    if version < 1:
        raise BackupError(f"{path}: not an etown-bot database (it has no etown-bot schema)")
    for table, columns in _expected_columns(version).items():
        missing = columns - found.get(table, set())
        if missing:
            what = f"table {table!r}" if table not in found else f"column(s) {', '.join(sorted(missing))} of {table!r}"
            raise BackupError(f"{path}: not an etown-bot database of schema version {version}: no {what}")
    return version


def _create_private(path: Path, *, exclusive: bool) -> None:
    # Owner-only from the first byte: the log holds investors' questions and ids.
    flags = os.O_CREAT | os.O_WRONLY | (os.O_EXCL if exclusive else 0)
    os.close(os.open(path, flags, 0o600))


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """Copy ``source`` into the new file ``target`` (created 0600, fsynced); removed again on failure.

    The copy is one step (``pages=-1``): a copy made in steps starts over whenever another process
    writes in between, so under a busy bot it might never finish; one step is one read transaction.
    The copy is left in rollback-journal mode, a single self-contained file (a WAL-mode file opened
    read-only leaves ``-wal`` and ``-shm`` files behind); the bot switches it back to WAL when it opens it.
    """
    _create_private(target, exclusive=True)
    try:
        with _opened(target) as copy:
            source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode = DELETE")
        _fsync(target)
    except BaseException:
        _remove(target)
        raise


def _remove(path: Path) -> None:
    for suffix in ("", *SIDECARS):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


def _make_folders(folder: Path) -> None:
    """``mkdir -p`` with every folder it creates 0700 (``Path.mkdir`` gives parents the default mode)."""
    for each in reversed([folder, *folder.parents]):
        if not each.exists():
            each.mkdir(mode=0o700, exist_ok=True)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return a.resolve() == b.resolve()


def backup(database: Path, target: Path, *, force: bool = False) -> DatabaseInfo:
    """Write a consistent copy of ``database`` to ``target`` (0600), safe while the bot runs.

    An existing ``target`` is replaced only with ``force``; the copy is written next to it under a
    temporary name and renamed into place, so ``target`` is never a half-written file. Missing
    folders on the way are created (0700).
    """
    if not database.is_file():
        raise BackupError(f"{database}: no database there (check 'database' in config.yaml; has the bot run yet?)")
    if _same_file(database, target):
        raise BackupError(f"{target}: that is the database itself; back it up to another file")
    if target.is_dir():
        raise BackupError(f"{target}: is a folder; give the backup's file name")
    if target.exists() and not force:
        raise BackupError(f"{target}: already exists; nothing written (--force replaces it)")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        # A missing folder is created owner-only: a cron line can name a fresh one, and copies are private.
        _make_folders(target.parent)
        with _opened(database) as source:
            _copy(source, temporary)
        with _opened(temporary) as copy:  # the copy is what counts: checked, not the live file twice
            version = check_database(copy, database)
        if force:
            os.replace(temporary, target)
        else:
            try:
                os.link(temporary, target)  # fails if target appeared meanwhile: never overwritten
            except FileExistsError:
                raise BackupError(f"{target}: already exists; nothing written (--force replaces it)") from None
        _fsync(target.parent)  # the new name survives a power cut too
    except sqlite3.Error as exc:
        raise BackupError(f"{database}: the copy failed, nothing written: {exc}") from None
    except OSError as exc:
        raise BackupError(f"{target}: {exc.strerror or exc}; nothing written") from None
    finally:
        _remove(temporary)
    return DatabaseInfo(target, target.stat().st_size, version)


def inspect(path: Path) -> DatabaseInfo:
    """``path`` checked as an etown-bot database this version can use."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    try:
        with _opened(path) as db:
            version = check_database(db, path)
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: cannot be read as a database: {exc}") from None
    return DatabaseInfo(path, path.stat().st_size, version)


def _lock_exclusively(db: sqlite3.Connection, database: Path) -> None:
    """Hold ``database`` for this connection alone until it is closed, or fail at once if it is in use."""
    try:
        db.execute("PRAGMA locking_mode = EXCLUSIVE")
        db.execute("BEGIN EXCLUSIVE")
        db.execute("COMMIT")  # the lock stays: exclusive locking mode keeps it until the connection closes
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise BackupError(
                f"{database}: in use by another process (a running 'etown-bot run' or 'shell'?); "
                "stop it first: nothing was changed"
            ) from None
        raise


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def restore(database: Path, source: Path) -> Restored:
    """Replace ``database`` with the etown-bot database ``source``; the replaced one is kept beside it.

    Refused while another process has ``database`` open. Under the exclusive lock, the current
    database is first copied to ``<database>.before-restore-<UTC time>`` (0600), then ``source`` is
    copied in through the backup API: SQLite's journal makes the replacement all or nothing, and no
    stale ``-wal`` of the old content can be replayed over the new one (as after copying files over it).
    """
    if database.exists() and _same_file(database, source):
        raise BackupError(f"{source}: that is the database itself")
    inspect(source)
    previous = Path(f"{database}.before-restore-{_stamp()}")
    kept: Path | None = None
    existing = database.is_file() and database.stat().st_size > 0
    if existing and _unreadable(database):
        # Not an SQLite database at all (so nothing has it open as one): set it and its journals aside.
        for suffix in ("", *SIDECARS):
            if Path(f"{database}{suffix}").exists():
                os.replace(f"{database}{suffix}", f"{previous}{suffix}")
        kept, existing = previous, False
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        _create_private(database, exclusive=False)
    except OSError as exc:
        raise BackupError(f"{database}: {exc.strerror or exc}; nothing was changed") from None
    try:
        with _opened(database, timeout=0) as db, _opened(source) as src:
            _lock_exclusively(db, database)
            if existing:
                _copy(db, previous)
                kept = previous
            db.execute("PRAGMA journal_mode = DELETE")  # checkpoints the old -wal into the file, removes it
            src.backup(db, pages=-1)
            db.execute("PRAGMA journal_mode = WAL")  # as the bot keeps it (and Litestream needs)
            version = check_database(db, database)
    except sqlite3.Error as exc:
        raise BackupError(f"{database}: the restore failed: {exc}") from None
    except OSError as exc:
        raise BackupError(f"{previous}: {exc.strerror or exc}; nothing was changed") from None
    return Restored(DatabaseInfo(database, database.stat().st_size, version), kept)


def _unreadable(database: Path) -> bool:
    """Whether ``database`` is not an SQLite database at all (as opposed to busy or merely odd)."""
    try:
        with _opened(database, timeout=0) as db:
            db.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.DatabaseError as exc:
        return "not a database" in str(exc) or "malformed" in str(exc)
    return False
