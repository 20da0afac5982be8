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
- ``JournaledApplication`` marks an update done once every handler has run (or failed); the mark
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
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.ext import Application, ContextTypes
from telegram.request import BaseRequest, RequestData

from bot.store import Store

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

    async def replay(self, app: Application[Any, Any, Any, Any, Any, Any]) -> int:
        """Queue the updates journaled by an earlier run and never finished; returns how many."""
        if self.store is None:
            return 0
        count = 0
        for update_id, payload in await self.store.pending_updates():
            try:
                update = Update.de_json(json.loads(payload), app.bot)
            except (ValueError, TypeError, KeyError) as exc:
                log.error("journaled update %d is unreadable, dropped: %s", update_id, exc)
                await self.store.finish_update(update_id)
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
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        get_updates = url.endswith("/getUpdates")
        if get_updates:
            # This request's offset confirms the last batch to Telegram: its journal write must be done.
            await self.inbox.settle()
        status, payload = await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status == 200 and get_updates:
            try:
                result = json.loads(payload).get("result")
            except (ValueError, AttributeError):
                result = None  # python-telegram-bot reports the bad response
            if isinstance(result, list) and result:
                await self.inbox.admit(result)
        return status, payload


class JournaledApplication(Application[Any, Any, Any, Any, Any, Any]):
    """An Application that marks each update done in the inbox once its handlers have run (or failed)."""

    async def process_update(self, update: object) -> None:
        try:
            await super().process_update(update)
        finally:
            if isinstance(self.update_queue, Inbox):
                await self.update_queue.finish(update)


async def purge_finished(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue callback: forget finished update ids older than ``KEEP_FINISHED_S``."""
    queue = context.application.update_queue
    if isinstance(queue, Inbox) and queue.store is not None:
        deleted = await queue.store.purge_inbox(KEEP_FINISHED_S)
        log.debug("inbox: forgot %d finished update id(s)", deleted)
