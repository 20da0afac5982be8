"""The inbox: updates journaled before Telegram is told, replayed after a crash, re-deliveries dropped."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from pathlib import Path

import pytest
from telegram import Update

from bot.storage import Store
from handlers.inbox import JournalingUpdateProcessor
from tests.botapi_server import Call, FakeBotAPI
from tests.telegram_harness import make_config, running_bot, sent

QUESTION = "how many biotech companies in BDA?"


def inbox_rows(database: Path) -> dict[int, tuple[str | None, float | None]]:
    with sqlite3.connect(database) as db:
        return {int(row[0]): (row[1], row[2]) for row in db.execute("SELECT update_id, payload, done_at FROM inbox")}


async def test_a_fetched_batch_is_journaled_before_the_next_get_updates_confirms_it(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    # What the database holds when Telegram receives each confirming offset.
    at_confirmation: dict[int, dict[int, tuple[str | None, float | None]]] = {}

    def on_call(call: Call) -> None:
        if call.method == "getUpdates" and call.params.get("offset"):
            at_confirmation[int(call.params["offset"])] = inbox_rows(config.database)

    api = FakeBotAPI(expected_token=config.telegram.token, on_call=on_call)
    async with running_bot(config, api=api) as tg:
        first = api.push_message(501, QUESTION)
        second = api.push_message(502, "hello")
        updates = await tg.app.bot.get_updates(timeout=0)
        assert [u.update_id for u in updates] == [first, second]
        for update in updates:
            await tg.app.update_queue.put(update)
        assert tg.app.update_queue.qsize() == 2  # queued at once; the write may still be running
        await tg.app.bot.get_updates(offset=second + 1, timeout=0)
    rows = at_confirmation[second + 1]
    assert set(rows) == {first, second}
    payload = rows[first][0]
    assert payload is not None and json.loads(payload)["message"]["text"] == QUESTION
    assert all(done is None for _, done in rows.values())


async def test_a_lone_update_is_journaled_before_it_is_handed_over(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with running_bot(config) as tg:
        update_id = tg.api.push_message(507, QUESTION)
        (update,) = await tg.app.bot.get_updates(timeout=0)
        # Already in the database: a quiet moment's update is written first, so the next getUpdates
        # never waits for a write stuck behind its handler.
        assert inbox_rows(config.database)[update_id][1] is None
        await tg.app.update_queue.put(update)


async def test_handled_updates_are_marked_done_and_their_text_dropped(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with running_bot(config) as tg:
        update_id = tg.api.push_message(503, QUESTION)
        (update,) = await tg.app.bot.get_updates(timeout=0)
        await tg.app.update_queue.put(update)
        await tg.handle(tg.app.update_queue.get_nowait())
        assert sent(tg.api.calls_to("sendMessage"))
        assert isinstance(tg.app.update_processor, JournalingUpdateProcessor)
    payload, done = inbox_rows(config.database)[update_id]
    assert payload is None and done is not None


async def test_a_redelivered_update_is_dropped(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with running_bot(config) as tg:
        tg.api.push_message(504, QUESTION)
        (update,) = await tg.app.bot.get_updates(timeout=0)
        await tg.app.update_queue.put(update)
        # Telegram sends it again (the bot died before confirming it): same update_id.
        (again,) = await tg.app.bot.get_updates(timeout=0)
        assert again.update_id == update.update_id
        await tg.app.update_queue.put(again)
        assert tg.app.update_queue.qsize() == 1
        # A webhook re-delivery (put without a fetch) is recognised the same way.
        await tg.app.update_queue.put(Update.de_json(update.to_dict(), tg.app.bot))
        assert tg.app.update_queue.qsize() == 1


async def test_updates_left_unfinished_are_replayed_at_the_next_start(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    api = FakeBotAPI(expected_token=config.telegram.token)
    async with running_bot(config, api=api) as tg:
        update_id = api.push_message(505, QUESTION)
        (update,) = await tg.app.bot.get_updates(timeout=0)
        await tg.app.update_queue.put(update)
        # ... and the process dies before handling it (nothing is processed here).
    assert inbox_rows(config.database)[update_id][1] is None
    async with running_bot(config, api=api) as tg:
        queue = tg.app.update_queue
        assert queue.qsize() == 1
        replayed = queue.get_nowait()
        assert isinstance(replayed, Update) and replayed.update_id == update_id
        assert replayed.message is not None and replayed.message.text == QUESTION
        await tg.handle(replayed)
        (reply,) = sent(api.calls_to("sendMessage"))
        assert reply["chat_id"] == 505
    assert inbox_rows(config.database)[update_id][1] is not None
    async with running_bot(config, api=api) as tg:
        assert tg.app.update_queue.qsize() == 0  # handled once, never replayed again


async def test_an_unreadable_journaled_update_is_dropped_with_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path)
    store = await Store.open(config.database)
    try:
        await store.journal_updates([(77, "{not json")])
    finally:
        await store.close()
    async with running_bot(config) as tg:
        assert tg.app.update_queue.qsize() == 0
    assert "update 77 could not be read" in caplog.text
    assert inbox_rows(config.database)[77][1] is not None
    with sqlite3.connect(config.database) as raw:
        kept = raw.execute("SELECT update_id, payload FROM quarantine").fetchall()
    assert kept == [(77, '{"update_id": 77, "unparsed": "{not json"}')]


async def test_a_failing_journal_never_costs_the_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path)
    async with running_bot(config) as tg:
        store = tg.services.store
        assert store is not None

        async def full(*args: object, **kwargs: object) -> set[int]:
            raise sqlite3.OperationalError("database or disk is full")

        def full_later(*args: object, **kwargs: object) -> asyncio.Future[int]:
            failed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            failed.set_exception(sqlite3.OperationalError("database or disk is full"))
            return failed

        monkeypatch.setattr(store, "journal_updates", full)  # ids that may be re-deliveries (checked first)
        monkeypatch.setattr(store, "queue_new_updates", full_later)  # newer ids
        tg.api.push_message(506, QUESTION)
        caplog.set_level(logging.ERROR)
        (update,) = await tg.app.bot.get_updates(timeout=0)
        await tg.app.update_queue.put(update)
        await tg.app.update_queue.put(Update.de_json({**update.to_dict(), "update_id": 9999}, tg.app.bot))
        assert tg.app.update_queue.qsize() == 2  # both handled, without the crash protection
    assert caplog.text.count("not journaled") == 2
