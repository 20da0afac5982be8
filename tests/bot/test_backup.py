"""``etown-bot backup`` and ``etown-bot restore`` (bot/backup.py), through the command line's main()."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.backup import BackupError, backup, restore
from bot.cli import main
from bot.storage import SCHEMA_VERSION, Store
from tests.bot_process import Bot
from tests.botapi_server import FakeBotAPI

ROWS_PER_COMMIT = 10


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    (tmp_path / "config.yaml").write_text("database: data/log.sqlite3\n", encoding="utf-8")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def make_database(path: Path, questions: list[str]) -> None:
    """An etown-bot database (created by the store itself) with these questions logged."""

    async def go() -> None:
        store = await Store.open(path)
        try:
            for text in questions:
                await store.log_question(
                    user_id=1, chat_id=1, lang="en", text=text, status="answered", entry_id=None, score=1.0
                )
        finally:
            await store.close()

    asyncio.run(go())


@contextlib.contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """Autocommit, and closed on exit: an unclosed sqlite3 connection lives until the garbage collector
    runs (its statement cache refers back to it), and holds the database open, as a bot would."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        yield db
    finally:
        db.close()


def texts(path: Path) -> list[str]:
    with connect(path) as db:
        return [row[0] for row in db.execute("SELECT text FROM questions ORDER BY id")]


DATABASE = Path("data/log.sqlite3")


def test_backup_while_another_process_writes_keeps_every_committed_row(tmp_path: Path) -> None:
    database = tmp_path / DATABASE
    make_database(database, [])
    # Big enough that each copy takes a while (~6 MB), so the writer commits during the copies.
    with connect(database) as db:
        db.execute("CREATE TABLE load (id INTEGER PRIMARY KEY, batch INTEGER NOT NULL, pad TEXT NOT NULL)")
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO load (batch, pad) VALUES (0, ?)", [(f"{i:08d}" * 25,) for i in range(ROWS_PER_COMMIT * 2500)]
        )
        db.execute("COMMIT")
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import sqlite3, sys
                db = sqlite3.connect({str(database)!r}, timeout=10, isolation_level=None)
                db.execute("PRAGMA journal_mode = WAL")
                batch = 1
                print("ready", flush=True)
                while True:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany("INSERT INTO load (batch, pad) VALUES (?, ?)",
                                   [(batch, "x" * 200) for _ in range({ROWS_PER_COMMIT})])
                    db.execute("COMMIT")
                    batch += 1
            """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        copies = []
        for n in range(4):
            time.sleep(0.2)
            with connect(database) as db:
                committed_before = db.execute("SELECT max(batch) FROM load").fetchone()[0]
            target = tmp_path / f"copy-{n}.sqlite3"
            info = backup(database, target)
            copies.append((target, committed_before, info.schema_version))
        with connect(database) as db:
            committed_after = db.execute("SELECT max(batch) FROM load").fetchone()[0]
    finally:
        writer.kill()
        writer.wait()
    seen = set()
    for target, committed_before, version in copies:
        assert version == SCHEMA_VERSION
        with connect(target) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            batches = dict(db.execute("SELECT batch, count(*) FROM load GROUP BY batch").fetchall())
        newest = max(batches)
        # Every batch committed before the copy began is there, whole; no batch is there in part.
        assert newest >= committed_before
        assert set(batches) == set(range(newest + 1))
        assert batches[0] == ROWS_PER_COMMIT * 2500
        assert all(count == ROWS_PER_COMMIT for batch, count in batches.items() if batch > 0)
        seen.add(newest)
    # The writer really was writing during the copies (they are not all the same snapshot).
    assert len(seen) > 1 and committed_after > max(c for _, c, _ in copies)


def test_backup_is_owner_only_and_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_database(tmp_path / DATABASE, ["first question"])
    target = tmp_path / "backup.sqlite3"
    old_umask = os.umask(0o022)
    try:
        code, out, err = cli(capsys, "backup", str(target))
        assert code == 0, err
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert f"wrote {target}: " in out and f"{target.stat().st_size:,} bytes" in out
        assert f"schema version {SCHEMA_VERSION}" in out
        assert texts(target) == ["first question"]

        make_database(tmp_path / DATABASE, ["second question"])
        code, out, err = cli(capsys, "backup", str(target))
        assert code == 1 and out == "" and "already exists" in err and "--force" in err
        assert texts(target) == ["first question"]  # untouched

        target.chmod(0o644)
        code, out, err = cli(capsys, "backup", "--force", str(target))
        assert code == 0, err
        assert texts(target) == ["first question", "second question"]
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    finally:
        os.umask(old_umask)
    # Nothing else was left next to the copy (no temporary file, no -wal or -shm).
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("backup", ".backup"))) == ["backup.sqlite3"]


def test_backup_problems_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "backup", "copy.sqlite3")
    assert code == 1 and "no database there" in err
    assert not (tmp_path / DATABASE).exists()  # the backup did not create an empty one
    make_database(tmp_path / DATABASE, ["q"])
    code, _, err = cli(capsys, "backup", str(DATABASE))
    assert code == 1 and "the database itself" in err
    code, _, err = cli(capsys, "backup", str(tmp_path / "config.yaml" / "copy.sqlite3"))  # under a file
    assert code == 1 and "nothing written" in err
    code, _, err = cli(capsys, "backup", str(tmp_path / "cold" / "2026" / "copy.sqlite3"))
    assert code == 0, err
    assert texts(tmp_path / "cold" / "2026" / "copy.sqlite3") == ["q"]
    assert stat.S_IMODE((tmp_path / "cold").stat().st_mode) == 0o700
    for usage in (["backup"], ["restore"], ["backup", "a", "b"], ["restore", "--force", "x"]):
        with pytest.raises(SystemExit) as exit_:
            main(usage)
        assert exit_.value.code == 2 and "usage: etown-bot" in capsys.readouterr().err


def test_restore_round_trip_keeps_the_replaced_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / DATABASE
    make_database(database, ["kept in the backup"])
    code, _, err = cli(capsys, "backup", "saved.sqlite3")
    assert code == 0, err
    make_database(database, ["asked after the backup"])
    # As after kill -9: a committed row only in the -wal. A file copied over the database would be
    # mixed with that -wal at the next open; the restore must keep the row in the old copy only.
    script = (
        "import os, signal, sqlite3\n"
        f"db = sqlite3.connect({str(database)!r}, isolation_level=None)\n"
        "db.execute('PRAGMA wal_autocheckpoint = 0')\n"
        "db.execute(\"INSERT INTO users (user_id, lang, updated_at) VALUES (9, 'zh', 'now')\")\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=False)
    assert Path(f"{database}-wal").stat().st_size > 0

    code, out, err = cli(capsys, "restore", "saved.sqlite3")
    assert code == 0, err
    assert f"restored saved.sqlite3 into {DATABASE}" in out and f"schema version {SCHEMA_VERSION}" in out
    assert texts(database) == ["kept in the backup"]
    with connect(database) as db:
        assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 0
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert not Path(f"{database}-wal").exists()
    (previous,) = database.parent.glob("log.sqlite3.before-restore-*")
    assert f"kept as {DATABASE.parent / previous.name}" in out
    assert stat.S_IMODE(previous.stat().st_mode) == 0o600
    assert texts(previous) == ["kept in the backup", "asked after the backup"]
    with connect(previous) as db:
        assert db.execute("SELECT user_id FROM users").fetchall() == [(9,)]  # the -wal's row came along

    async def reopen() -> int:
        store = await Store.open(database)  # the bot can use it
        try:
            return await store.schema_version()
        finally:
            await store.close()

    assert asyncio.run(reopen()) == SCHEMA_VERSION


def test_restore_onto_a_new_machine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_database(tmp_path / "elsewhere.sqlite3", ["from the old server"])
    code, out, err = cli(capsys, "restore", "elsewhere.sqlite3")
    assert code == 0, err
    assert texts(tmp_path / DATABASE) == ["from the old server"] and "kept as" not in out
    assert stat.S_IMODE((tmp_path / DATABASE).stat().st_mode) == 0o600


def test_restore_refuses_what_is_not_an_etown_bot_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / DATABASE
    make_database(database, ["precious"])
    before = database.read_bytes()
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database at all " * 500)
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    other = tmp_path / "other-app.sqlite3"
    with connect(other) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
    impostor = tmp_path / "impostor.sqlite3"  # claims a schema version, lacks its tables
    with connect(impostor) as db:
        db.execute("CREATE TABLE questions (id INTEGER PRIMARY KEY)")
        db.execute("PRAGMA user_version = 2")
    newer = tmp_path / "newer.sqlite3"
    make_database(newer, ["from a newer etown-bot"])
    with connect(newer) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    cases = {
        garbage: "not a usable SQLite database",
        empty: "not an etown-bot database",
        other: "not an etown-bot database",
        impostor: "not an etown-bot database of schema version 2",
        newer: f"schema version {SCHEMA_VERSION + 1} is newer than this etown-bot supports ({SCHEMA_VERSION})",
        tmp_path / "missing.sqlite3": "no such file",
        tmp_path: "not a file",
        database: "the database itself",
    }
    for path, message in cases.items():
        code, out, err = cli(capsys, "restore", str(path))
        assert (code, out) == (1, ""), (path, err)
        assert message in err, (path, err)
    assert database.read_bytes() == before
    assert list(database.parent.glob("*.before-restore-*")) == []


def test_restore_replaces_a_file_that_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / DATABASE
    database.parent.mkdir()
    database.write_bytes(b"\x00garbage" * 1000)
    make_database(tmp_path / "good.sqlite3", ["recovered"])
    code, out, err = cli(capsys, "restore", "good.sqlite3")
    assert code == 0, err
    assert texts(database) == ["recovered"]
    (previous,) = database.parent.glob("log.sqlite3.before-restore-*")
    assert f"kept as {DATABASE.parent / previous.name}" in out
    assert previous.read_bytes() == b"\x00garbage" * 1000


def test_restore_refuses_while_the_bot_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The real ``etown-bot run`` has the database open: restore changes nothing, and works once it stops."""
    make_database(tmp_path / "saved.sqlite3", ["from the backup"])
    with FakeBotAPI() as api:
        bot = Bot(api, tmp_path)  # its config.yaml: database tmp_path/log.sqlite3
        bot.start()
        try:
            database = bot.database
            with pytest.raises(BackupError, match="in use by another process"):
                restore(database, tmp_path / "saved.sqlite3")
            code, out, err = cli(capsys, "--config", str(bot.config), "restore", "saved.sqlite3")
            assert (code, out) == (1, "") and "in use by another process" in err and "stop it first" in err
            # A backup is fine meanwhile.
            code, _, err = cli(capsys, "--config", str(bot.config), "backup", "live.sqlite3")
            assert code == 0, err
        finally:
            assert bot.stop() == 0
    assert texts(database) == []
    assert list(tmp_path.glob("*.before-restore-*")) == []
    code, _, err = cli(capsys, "--config", str(bot.config), "restore", "saved.sqlite3")
    assert code == 0, err
    assert texts(database) == ["from the backup"]


def test_restore_refuses_while_another_connection_is_open(tmp_path: Path) -> None:
    database = tmp_path / DATABASE
    make_database(database, ["live"])
    make_database(tmp_path / "saved.sqlite3", ["saved"])

    async def attempt_while_open() -> None:
        store = await Store.open(database)  # as etown-bot shell or a staff command holds it
        try:
            with pytest.raises(BackupError, match="in use"):
                await asyncio.to_thread(restore, database, tmp_path / "saved.sqlite3")
        finally:
            await store.close()

    asyncio.run(attempt_while_open())
    assert texts(database) == ["live"]
