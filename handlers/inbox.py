"""Durable intake: every update is in the database before Telegram is told the bot has it.

python-telegram-bot confirms polled updates (the next ``getUpdates`` offset) as soon as they are on the
Application's queue, and answers a webhook with 200 at the same point. An update still queued or being
handled when the process is killed would be gone: Telegram does not send a confirmed update again.

- Polling: ``JournalingRequest`` wraps the HTTP layer of ``getUpdates``. Each fetched batch is written
  to the store's inbox in one transaction, while it is handled (a lone update: just before); the next
  ``getUpdates`` (whose offset confirms the batch) waits for that write. A batch with an id no newer than
  the inbox's newest may hold re-deliveries, and is checked and written before it is handled.
- Webhook (and anything else put on the queue): ``Inbox.put`` writes the update before queuing it; the
  webhook answers Telegram after ``put`` returns.
- ``JournalingUpdateProcessor`` marks an update done once every handler has run (or failed); the mark
  rides with the store's next write (``Store.finish_update``), after the question's own row. At the
  next start ``Inbox.replay`` queues the updates left unfinished.
- An update_id already in the inbox (Telegram re-sends what it was never told about) is dropped.

Delivery is at least once: an update whose reply went out but whose done mark did not (a kill in that
instant) is answered again after the restart. If the inbox cannot be written (disk full, locked past
every retry), updates are still handled, without the crash protection, and the failure is logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, ExtBot, SimpleUpdateProcessor
from telegram.request import BaseRequest, RequestData

from bot.storage import INT64_MAX, INT64_MIN, Store, fits_int64
from bot.words import STAFF

log = logging.getLogger(__name__)

# Finished update ids are kept this long to recognise a re-delivery: Telegram re-sends unconfirmed updates
# at the first getUpdates after a restart (polling) or within minutes (webhook retries).
KEEP_FINISHED_S = 3600.0
PURGE_INTERVAL_S = 600.0
_DB_ERRORS = (sqlite3.Error, ValueError)  # ValueError: aiosqlite's connection is already closed


class Inbox(asyncio.Queue[object]):
    """The Application's update queue, backed by the store's inbox table.

    ``store`` is None until ``open`` (in ``post_init``; polling and the webhook start after it).
    """

    def __init__(self) -> None:
        super().__init__()
        self.store: Store | None = None
        # Every update id in the inbox table is at most this, so a newer id cannot be a re-delivery and
        # its batch is journaled in the background (None: not open yet).
        self._newest: int | None = None
        self._writes: dict[int, asyncio.Task[set[int]]] = {}  # update id -> its batch's journal write
        self._admitted: set[int] = set()  # journaled by ``admit``, not yet put on the queue
        self._repeated: set[int] = set()  # re-deliveries found by ``admit``, to drop at ``put``
        self.on_quarantine: Callable[[], None] | None = None  # after an update was set aside (wakes the outbox)

    async def open(self, store: Store) -> None:
        """Start journaling into ``store``."""
        newest = await store.newest_update_id()
        self.store = store
        self._newest = -1 if newest is None else newest

    async def close(self) -> None:
        """Finish the journal writes in flight and stop journaling (before the store closes)."""
        await self.settle()
        self.store = None
        self._newest = None

    async def admit(self, updates: list[dict[str, Any]]) -> None:
        """Journal a fetched batch of raw updates (one transaction) before Telegram is told about it.

        A batch newer than anything in the inbox is written in the background, so handling starts at
        once; ``settle`` (before the next ``getUpdates`` confirms the batch) and ``finish`` wait for the
        write. An older id may be a re-delivery: such a batch is checked against the inbox first.
        """
        batch = {
            raw["update_id"]: raw for raw in updates if isinstance(raw, dict) and isinstance(raw.get("update_id"), int)
        }
        if not batch or self.store is None or self._newest is None:
            return
        if min(batch) > self._newest:
            self._newest = max(batch)
            self._admitted.update(batch)
            write = asyncio.create_task(self._journal(self.store, batch, new=True))
            for update_id in batch:
                self._writes[update_id] = write
            if len(batch) == 1:
                # A lone update (a quiet moment): its write cannot finish while its handler holds the GIL,
                # so the next getUpdates, which waits for it, would reach Telegram after the handler's
                # work instead of at once. One short write first is the faster order.
                await asyncio.wait({write})
            return
        await self.settle()  # a re-delivered id may be in a write still running
        fresh = await self._journal(self.store, batch, new=False)
        if any(update_id <= self._newest for update_id in fresh):
            # A new update under an id already used: the Bot API restarted its numbering (Telegram does
            # after a week without updates; a self-hosted server at its restart). Newer ids are new again.
            log.warning("update ids restarted at %d (the newest seen was %d)", min(batch), self._newest)
            self._newest = max(batch)
        else:
            self._newest = max(self._newest, *batch)
        self._admitted.update(fresh)
        self._repeated.update(batch.keys() - fresh)

    @staticmethod
    async def _journal(store: Store, batch: dict[int, dict[str, Any]], *, new: bool) -> set[int]:
        """Write a batch; returns the ids that were new (all of them if the write failed).

        ``new``: every id is newer than any in the inbox, so the rows go with the store's next batch of
        single writes; otherwise the inbox is checked for re-deliveries first.
        """
        rows = [(update_id, json.dumps(raw, ensure_ascii=False)) for update_id, raw in batch.items()]
        try:
            if not new:
                return await store.journal_updates(rows)
            await asyncio.shield(store.queue_new_updates(rows))
        except _DB_ERRORS as exc:
            log.error("%d update(s) not journaled (handled, but not kept across a crash): %s", len(batch), exc)
        return set(batch)  # handled all the same

    async def settle(self) -> None:
        """Wait until every journal write started so far is done."""
        running = {write for write in self._writes.values() if not write.done()}
        if running:
            await asyncio.wait(running)

    async def _written(self, update_id: int, *, forget: bool) -> None:
        write = self._writes.pop(update_id, None) if forget else self._writes.get(update_id)
        if write is not None and not write.done():
            await asyncio.wait({write})  # not cancelled with the caller: the batch holds other updates

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            update_id = item.update_id
            if update_id not in self._admitted and update_id not in self._repeated:
                # Not fetched through ``JournalingRequest``: a webhook, answered with 200 after this.
                await self.admit([item.to_dict()])
                await self._written(update_id, forget=False)
            if update_id in self._repeated:
                self._repeated.discard(update_id)
                log.info("update %d delivered again: already handled or queued, dropped", update_id)
                return
            self._admitted.discard(update_id)
        await super().put(item)

    def abandon_queued(self) -> int:
        """Drop the updates queued but not yet started (a shutdown that cannot wait for them): they stay
        journaled and unfinished, so the next start handles them. Anything else queued (python-telegram-bot's
        stop marker) stays. Returns how many were dropped."""
        kept: list[object] = []
        dropped = 0
        while True:
            try:
                item = self.get_nowait()
            except asyncio.QueueEmpty:
                break
            self.task_done()
            if isinstance(item, Update):
                dropped += 1
            else:
                kept.append(item)
        for item in kept:
            self.put_nowait(item)
        return dropped

    async def finish(self, update: object) -> None:
        """Mark a journaled update handled (its payload is dropped)."""
        if not isinstance(update, Update) or self.store is None:
            return
        await self._written(update.update_id, forget=True)  # its row must exist before it is marked
        try:
            await self.store.finish_update(update.update_id)
        except _DB_ERRORS as exc:
            log.error(
                "update %d handled but not marked done (would be handled again after a crash): %s",
                update.update_id,
                exc,
            )

    async def quarantine(self, raw: object, reason: str) -> None:
        """Set aside an update the bot cannot read: kept in the quarantine table (counted, shown to staff),
        never handled or retried. Logged once, without its content (it may hold an investor's message)."""
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        update_id = update_id if fits_int64(update_id) else None
        log.error("update %s could not be read (%s): set aside in quarantine, not handled", update_id, reason)
        if self.store is None:
            return
        try:
            await self.store.quarantine_update(update_id, reason, json.dumps(raw, ensure_ascii=False, default=str))
            if update_id is not None:
                await self.store.finish_update(update_id)  # its journal row: never replayed
            total = await self.store.count_quarantined()
            await self.store.queue_notice(
                STAFF.update_set_aside.format(update_id=update_id, reason=reason, total=total)
            )
        except _DB_ERRORS as exc:
            log.error("could not keep the unreadable update %s: %s", update_id, exc)
        if self.on_quarantine is not None:
            self.on_quarantine()

    async def read(self, raw: object, bot: Bot, *, oversized: bool = False) -> Update | None:
        """``raw`` (a parsed update; ``oversized``: it holds an integer beyond 64 bits) as an Update, or None
        when it cannot be read: then it is quarantined. Every path that parses updates itself (the
        webhook, the replay, a batch python-telegram-bot could not parse) goes through here."""
        if oversized:
            reason = "an integer beyond 64 bits"
        elif not isinstance(raw, dict):
            reason = "not a JSON object"
        else:
            try:
                return Update.de_json(raw, bot)
            except Exception as exc:  # whatever python-telegram-bot cannot read
                reason = _reason(exc, raw)
        await self.quarantine(_unmark(raw), reason)
        return None

    async def replay(self, app: Application[Any, Any, Any, Any, Any, Any]) -> int:
        """Queue the updates journaled by an earlier run and never finished; returns how many."""
        if self.store is None:
            return 0
        count = 0
        for update_id, payload in await self.store.pending_updates():
            raw, oversized = parse_updates_json(payload)
            if not isinstance(raw, dict):  # whatever the shape: set aside, never a crash at every start
                kept = {"update_id": update_id, "unparsed": payload if raw is None else raw}
                await self.quarantine(kept, "not JSON" if raw is None else "not a JSON object")
                continue
            update = await self.read(raw, app.bot, oversized=oversized)
            if update is None:
                continue
            await super().put(update)  # already journaled
            count += 1
        if count:
            log.warning("replaying %d update(s) received before the last stop but never handled", count)
        return count


class JournalingRequest(BaseRequest):
    """The ``getUpdates`` HTTP layer: each fetched batch goes to ``inbox.admit`` before it is returned."""

    def __init__(self, inner: BaseRequest, inbox: Inbox) -> None:
        self.inner = inner
        self.inbox = inbox
        self.last_batch: list[Any] = []  # the raw updates of the last getUpdates (see QuarantiningBot)

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        get_updates = url.endswith("/getUpdates")
        if get_updates:
            # This request's offset confirms the last batch to Telegram: its journal write must be done.
            await self.inbox.settle()
        status, payload = await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status == 200 and get_updates:
            response, oversized = parse_updates_json(payload)
            result = response.get("result") if isinstance(response, dict) else None
            if isinstance(result, list) and result:
                if oversized:  # rare: only then is the batch walked
                    result, payload = await self._set_aside_oversized(result)
                self.last_batch = result
                await self.inbox.admit(result)
        return status, payload

    async def _set_aside_oversized(self, result: list[Any]) -> tuple[list[Any], bytes]:
        """Updates with an integer SQLite cannot store (ids are 64-bit at most): quarantined, and replaced
        by an empty update with the same id, so the offset still moves past them."""
        kept: list[Any] = []
        for raw in result:
            if _has_oversized_int(raw):
                await self.inbox.quarantine(_unmark(raw), "an integer beyond 64 bits")
                raw = placeholder(raw)
                if raw is None:
                    continue
            kept.append(raw)
        return kept, json.dumps({"ok": True, "result": kept}).encode()


# python-telegram-bot logs the whole raw batch (investors' messages) at CRITICAL when a fetched batch does
# not parse, from its bot's logger (webhooks go through handlers/webhook.py, which logs no content).
_RAW_DATA_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot")


class WithoutRawUpdates(logging.Filter):
    """Rewrites python-telegram-bot's "Received data was ..." records to one line without the data."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "Received data was" in str(record.msg):
            record.msg = "an update from Telegram could not be parsed (its content is not logged)"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class QuarantiningBot(ExtBot[Any]):
    """The bot, whose ``get_updates`` survives updates of the wrong shape.

    python-telegram-bot parses a fetched batch as a whole: one update with a field of the wrong type
    (``{"message": 42}``, a ``date`` that is text) fails the batch, the offset never moves past it, and
    polling retries it forever. Here such a batch is parsed again one update at a time, from the raw
    JSON the journaling request kept: what cannot be read is quarantined and replaced by an empty update
    with its id (handled by nobody, and confirmed to Telegram with the next offset). Batches that parse
    cost nothing extra (parsing every update twice would cost ~68 us each, measured).
    """

    def __init__(self, token: str, *, journal: JournalingRequest, **kwargs: Any) -> None:
        super().__init__(token, get_updates_request=journal, **kwargs)
        self._journal = journal
        for name in _RAW_DATA_LOGGERS:
            logger = logging.getLogger(name)
            if not any(isinstance(f, WithoutRawUpdates) for f in logger.filters):
                logger.addFilter(WithoutRawUpdates())

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        try:
            return await super().get_updates(*args, **kwargs)
        except TelegramError:
            raise
        except Exception as exc:  # a shape python-telegram-bot cannot parse
            log.debug("a fetched batch did not parse (%s); parsing it update by update", type(exc).__name__)
        parsed: list[Update] = []
        for raw in self._journal.last_batch:
            update = await self._journal.inbox.read(raw, self) or empty_update(raw, self)
            if update is not None:
                parsed.append(update)
        return tuple(parsed)


class JournalingUpdateProcessor(SimpleUpdateProcessor):
    """Handles up to ``max_concurrent_updates`` at once, and marks each update done in the inbox once its
    handlers have run (or failed): python-telegram-bot's extension point for what wraps an update."""

    def __init__(self, max_concurrent_updates: int, inbox: Inbox) -> None:
        super().__init__(max_concurrent_updates)
        self.inbox = inbox

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await coroutine
        finally:
            await self.inbox.finish(update)


def parse_updates_json(payload: bytes | str) -> tuple[Any, bool]:
    """JSON from the Bot API, and whether it holds an integer beyond 64 bits (marked ``_Oversized``: SQLite
    cannot store it). Not JSON: ``(None, False)`` (python-telegram-bot reports a bad response itself)."""
    oversized = False

    def checked_int(text: str) -> int:
        nonlocal oversized
        value = int(text)
        if INT64_MIN <= value <= INT64_MAX:
            return value
        oversized = True
        return _Oversized(value)

    try:
        return json.loads(payload, parse_int=checked_int), oversized
    except (ValueError, UnicodeDecodeError):
        return None, False


class _Oversized(int):
    """An integer from the JSON that SQLite could not store (marked while parsing, cheaply)."""


def _has_oversized_int(value: object) -> bool:
    if isinstance(value, _Oversized):
        return True
    if isinstance(value, dict):
        return any(_has_oversized_int(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_oversized_int(v) for v in value)
    return False


def _unmark(value: Any) -> Any:
    if isinstance(value, _Oversized):
        return int(value)
    if isinstance(value, dict):
        return {k: _unmark(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unmark(v) for v in value]
    return value


def placeholder(raw: object) -> dict[str, Any] | None:
    """An empty update with the same id (None when there is no usable id)."""
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    return {"update_id": update_id} if fits_int64(update_id) else None


def empty_update(raw: object, bot: Bot) -> Update | None:
    """The stand-in for an update that was set aside: an empty update with its id, handled by nobody, so the
    offset still moves past it (None when there is no usable id)."""
    empty = placeholder(raw)
    return None if empty is None else Update.de_json(empty, bot)


def _reason(exc: BaseException, raw: object) -> str:
    """What went wrong, without any of the update's content: the exception type and the update's kind."""
    kinds = [key for key in raw if key != "update_id"] if isinstance(raw, dict) else []
    return f"{type(exc).__name__} in a {'/'.join(map(str, kinds[:3])) or 'bare'} update"


async def purge_finished(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue callback: forget finished update ids older than ``KEEP_FINISHED_S``."""
    queue = context.application.update_queue
    if isinstance(queue, Inbox) and queue.store is not None:
        deleted = await queue.store.purge_inbox(KEEP_FINISHED_S)
        log.debug("inbox: forgot %d finished update id(s)", deleted)
