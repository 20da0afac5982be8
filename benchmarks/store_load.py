"""The store under load, alone: the writes of 10,000 Telegram updates from 200 investors at once.

Each update does what the bot's path does to the database (handlers/inbox.py, bot/assistant.py): journal
the update (``queue_new_updates``), take a question id, queue the question's row (deferred), and mark the
update done (deferred); one in five is unanswered and is also handed to staff (``queue_question`` +
``hand_off``). No matching and no Telegram: this is the store's share of an update.

The baseline, in the same process and on the same kind of file: plain aiosqlite writing each update's
rows as its own transaction (``execute`` per statement, then ``commit``), one at a time behind a lock.
``--against COMMIT`` also times the ``Store`` of an older commit (its ``bot/store.py`` or ``bot/storage``
loaded from git), so before/after are measured in one run. Zero lost: every row is there at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import aiosqlite

from bot.storage import MIGRATIONS, QuestionRecord, Store, utcnow

ROOT = Path(__file__).resolve().parent.parent
USERS = 200
UPDATES = 10_000
ROUNDS = 3


@dataclass(frozen=True)
class StoreResult:
    name: str
    seconds: tuple[float, ...]  # one per round
    lost: int

    @property
    def per_second(self) -> float:
        return UPDATES / statistics.median(self.seconds)


def _payload(update_id: int, user: int) -> str:
    return json.dumps({"update_id": update_id, "message": {"message_id": update_id, "chat": {"id": user}, "date": 1}})


async def _store_round(open_store: Callable[[Path], Any], path: Path) -> tuple[float, int]:
    store = await open_store(path)
    gate = asyncio.Semaphore(USERS)

    async def update(update_id: int) -> None:
        user = 1_000 + update_id % USERS
        async with gate:
            await asyncio.shield(store.queue_new_updates([(update_id, _payload(update_id, user))]))
            question_id = await store.question_id()
            record = QuestionRecord(question_id, utcnow(), user, user, "en", f"q{update_id}", "answered", "a", 0.9)
            if update_id % 5:
                store.queue_question(record, soon=False)
            else:
                record = QuestionRecord(question_id, utcnow(), user, user, "en", f"q{update_id}", "unanswered", None, 0)
                await store.queue_question(record)
                asker = {"user_id": user, "chat_id": user}
                await store.hand_off(question_id=question_id, **asker, lang="en", text=record.text, reason="unanswered")
            await store.finish_update(update_id)

    started = time.perf_counter()
    await asyncio.gather(*(update(i) for i in range(1, UPDATES + 1)))
    await store.close()  # deferred writes included
    seconds = time.perf_counter() - started
    return seconds, _lost(path)


async def _plain_round(path: Path) -> tuple[float, int]:
    db = await aiosqlite.connect(path)
    await db.execute("PRAGMA journal_mode = WAL")
    await db.execute("PRAGMA synchronous = NORMAL")
    await db.execute("PRAGMA foreign_keys = ON")
    for migration in MIGRATIONS:
        await db.executescript(f"BEGIN; {migration}; COMMIT;")
    lock, gate = asyncio.Lock(), asyncio.Semaphore(USERS)

    async def update(update_id: int) -> None:
        user = 1_000 + update_id % USERS
        async with gate:
            async with lock:
                await db.execute(
                    "INSERT INTO inbox (update_id, payload, received_at, digest) VALUES (?, ?, ?, ?)",
                    (update_id, _payload(update_id, user), time.time(), ""),
                )
                await db.commit()
            async with lock:
                status = "answered" if update_id % 5 else "unanswered"
                await db.execute(
                    "INSERT INTO questions (id, asked_at, user_id, chat_id, lang, text, status, entry_id, score)"
                    " VALUES (?, ?, ?, ?, 'en', ?, ?, NULL, 0)",
                    (update_id, utcnow(), user, user, f"q{update_id}", status),
                )
                if status == "unanswered":
                    cursor = await db.execute(
                        "INSERT INTO unanswered (question_id, created_at, user_id, chat_id, lang, text)"
                        " VALUES (?, ?, ?, ?, 'en', ?)",
                        (update_id, utcnow(), user, user, f"q{update_id}"),
                    )
                    await db.execute(
                        "INSERT INTO staff_outbox (item_id, reason, created_at) VALUES (?, 'unanswered', ?)",
                        (cursor.lastrowid, utcnow()),
                    )
                await db.execute("UPDATE inbox SET payload = NULL, done_at = ? WHERE update_id = ?", (1.0, update_id))
                await db.commit()

    started = time.perf_counter()
    await asyncio.gather(*(update(i) for i in range(1, UPDATES + 1)))
    await db.close()
    seconds = time.perf_counter() - started
    return seconds, _lost(path)


def _lost(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(path) as raw:
        questions = raw.execute("SELECT COUNT(*) FROM questions").fetchone()[0]
        done = raw.execute("SELECT COUNT(*) FROM inbox WHERE done_at IS NOT NULL").fetchone()[0]
        items = raw.execute("SELECT COUNT(*) FROM unanswered").fetchone()[0]
        posts = raw.execute("SELECT COUNT(*) FROM staff_outbox").fetchone()[0]
    handed = UPDATES // 5
    return int((UPDATES - questions) + (UPDATES - done) + (handed - items) + (handed - posts))


def _older_store(commit: str) -> Any:
    """``Store`` as it was at ``commit``: its module (or package) loaded from git under another name."""
    target = Path(tempfile.mkdtemp(prefix="etown-old-store-"))
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", commit, "bot/store.py", "bot/storage"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in listed:
        source = subprocess.run(["git", "show", f"{commit}:{name}"], cwd=ROOT, capture_output=True, check=True).stdout
        renamed = source.replace(b"bot.storage", b"old_storage").replace(b"bot.store", b"old_store")
        destination = target / name.replace("bot/storage", "old_storage").replace("bot/store.py", "old_store.py")
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(renamed)
    sys.path.insert(0, str(target))
    module: ModuleType
    if (target / "old_store.py").exists():
        spec = importlib.util.spec_from_file_location("old_store", target / "old_store.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["old_store"] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module("old_storage")
    return module.Store


def run(against: str | None = None, rounds: int = ROUNDS) -> list[StoreResult]:
    """Rounds interleaved (plain, ours, older), each on a fresh file; medians of ``rounds``."""
    contenders: list[tuple[str, Callable[[Path], Any] | None]] = [
        ("plain aiosqlite, a transaction per update", None),
        ("Store (this tree)", Store.open),
    ]
    if against:
        contenders.append((f"Store at {against}", _older_store(against).open))
    seconds: dict[str, list[float]] = {name: [] for name, _ in contenders}
    lost = dict.fromkeys(seconds, 0)
    for _ in range(rounds):
        for name, opener in contenders:
            with tempfile.TemporaryDirectory(prefix="etown-store-") as tmp:
                path = Path(tmp) / "log.sqlite3"
                took, missing = asyncio.run(_plain_round(path) if opener is None else _store_round(opener, path))
            seconds[name].append(took)
            lost[name] += missing
    return [StoreResult(name, tuple(seconds[name]), lost[name]) for name, _ in contenders]


def table(results: list[StoreResult]) -> list[str]:
    baseline = results[0]
    lines = [
        f"| writer | {UPDATES:,} updates from {USERS} investors at once: s per round | updates/s (median) "
        "| vs plain aiosqlite | lost |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {' / '.join(f'{s:.2f}' for s in r.seconds)} | {r.per_second:,.0f} "
            f"| {r.per_second / baseline.per_second:.2f}x | {r.lost} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="COMMIT", help="also time the Store of this commit")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    print("\n".join(table(run(args.against, args.rounds))))


if __name__ == "__main__":
    main()
