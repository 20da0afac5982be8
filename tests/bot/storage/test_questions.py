"""The question log and its ids."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.storage import Store


async def test_question_ids_come_from_blocks_that_never_collide_between_processes(tmp_path: Path) -> None:
    from bot.storage import QUESTION_ID_BLOCK

    path = tmp_path / "log.sqlite3"
    bot, shell = await Store.open(path), await Store.open(path)  # e.g. the bot and `etown-bot shell`
    try:

        async def ask(store: Store, text: str) -> int:
            return await store.log_question(
                user_id=1, chat_id=1, lang="en", text=text, status="answered", entry_id="a", score=1
            )

        ids = [await ask(store, f"{name}{i}") for i in range(3) for name, store in (("b", bot), ("s", shell))]
        reserved = await bot.question_id()  # handed out, never written: a gap, not a clash
        ids += [await ask(bot, "b3"), await ask(shell, "s3")]
    finally:
        await bot.close()
        await shell.close()
    assert len(set(ids)) == len(ids) and reserved not in ids
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 8
    again = await Store.open(path)  # a restart starts a fresh block after both
    try:
        assert await again.question_id() == 2 * QUESTION_ID_BLOCK + 1
    finally:
        await again.close()


async def test_a_version_3_database_hands_out_ids_after_its_questions(tmp_path: Path) -> None:
    from bot.storage import MIGRATIONS

    path = tmp_path / "log.sqlite3"
    with sqlite3.connect(path) as raw:
        for number in range(3):
            raw.executescript(f"BEGIN; {MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;")
        raw.execute(
            "INSERT INTO questions (id, asked_at, lang, text, status) VALUES (41, 'x', 'en', 'old', 'answered')"
        )
    store = await Store.open(path)
    try:
        new = await store.log_question(
            user_id=1, chat_id=1, lang="en", text="new", status="answered", entry_id="a", score=1
        )
        assert new == 42
    finally:
        await store.close()


async def test_iter_questions_between_dates_in_batches(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        for day in range(1, 31):
            for hour in (0, 23):
                await store.log_question(
                    user_id=1,
                    chat_id=1,
                    lang="en",
                    text=f"{day}-{hour}",
                    status="answered",
                    entry_id="a",
                    score=1,
                    asked_at=f"2026-11-{day:02d}T{hour:02d}:00:00+00:00",
                )
        everything = [q.text async for q in store.iter_questions(batch=7)]
        assert len(everything) == 60 and everything[0] == "1-0" and everything[-1] == "30-23"
        window = [q.text async for q in store.iter_questions("2026-11-10", "2026-11-12", batch=3)]
        assert window == ["10-0", "10-23", "11-0", "11-23"]
        assert [q.text async for q in store.iter_questions(start="2026-11-30")] == ["30-0", "30-23"]
        assert [q.text async for q in store.iter_questions(end="2026-11-02")] == ["1-0", "1-23"]
    finally:
        await store.close()
