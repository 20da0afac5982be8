"""Posts to the staff chat, sent in the background from the database's outbox.

A hand-off writes its queue item and its post to the outbox in one transaction (``Store.hand_off``)
and the investor's reply goes out at once: answering never waits for the staff chat, which Telegram
(and ``AIORateLimiter``) hold to about 20 messages a minute in a group. Here one task drains the
outbox, a post at a time:

- When it falls behind (more than ``BEHIND`` posts waiting), the waiting posts go out as one summary
  (up to ``SUMMARY_MAX`` questions a message) instead of one message each; they stay in /unanswered.
- A post is marked ``sending`` before it is sent and ``sent`` after, so none is sent twice: one whose
  send was cut off by a crash is marked failed at the next start (``Store.recover_outbox``), not repeated.
- A Telegram error puts the post back with the reason, up to ``MAX_ATTEMPTS`` tries; after that, or for
  an error that will not go away (the staff chat does not exist, the bot was removed from it), it fails.
- Pending posts survive a restart and are sent after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import sqlite3
from typing import cast

from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from bot.staff.posts import PostReason
from bot.storage import OutboxPost
from bot.words import STAFF
from handlers.context import SERVICES_KEY, AnyApplication, Services
from handlers.render import fill_html
from handlers.staff import post_item
from handlers.ui import button_text, split_html

log = logging.getLogger(__name__)

OUTBOX_KEY = "etown.staff_outbox"
BEHIND = 5  # more posts than this waiting: summarise them
SUMMARY_MAX = 20  # questions listed in one summary message
MAX_ATTEMPTS = 5
IDLE_S = 30.0  # the outbox is also checked this often, in case a wake-up was missed (another process wrote)
RETRY_S = 5.0  # pause after a failed send before the next try


class StaffOutbox:
    """The background task that empties the outbox; ``wake()`` after queuing a post."""

    def __init__(self, app: AnyApplication) -> None:
        self.app = app
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # set while nothing is waiting to be sent
        self._task: asyncio.Task[None] | None = None
        self.retry_s = RETRY_S

    @property
    def services(self) -> Services:
        return cast(Services, self.app.bot_data[SERVICES_KEY])

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="staff-outbox")

    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    async def settled(self) -> None:
        """Wait until everything queued so far was sent (or failed for good); tests use it."""
        if self._task is None or self._task.done():
            return
        self.wake()
        await self._idle.wait()

    async def stop(self) -> None:
        """Stop after the post being sent (if any); what is still pending waits for the next start."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                busy = await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:  # the outbox must outlive any one failure; the posts stay pending
                log.exception("the staff outbox failed; retrying")
                busy = False
                await asyncio.sleep(self.retry_s)
            if not busy:
                if not self._wake.is_set():
                    self._idle.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_S)

    async def drain(self) -> bool:
        """Send what is waiting (one post, or one summary); True when more may be waiting."""
        svc = self.services
        chat_id = svc.config.staff.chat_id
        if chat_id is None or not svc.has_store:
            return False  # no staff chat: items wait in /unanswered (and are posted once one is configured)
        store = svc.store
        posts = await store.pending_posts(limit=SUMMARY_MAX + BEHIND)
        if not posts:
            return False
        if len(posts) > BEHIND:
            await self._summarise(chat_id, posts[:SUMMARY_MAX])
            return True
        await self._send(chat_id, posts[0])
        return len(posts) > 1

    async def _send(self, chat_id: int, post: OutboxPost) -> None:
        svc = self.services
        store = svc.store
        assert store is not None
        await store.set_post_state([post.id], "sending", attempt=True)
        try:
            if post.item_id is not None:
                reason: PostReason = "unanswered" if post.reason == "notice" else post.reason
                if not await post_item(self.app.bot, svc, chat_id, post.item_id, reason):
                    await store.set_post_state([post.id], "failed", "the queue item no longer exists")
                    return
            else:
                for chunk in split_html(html.escape(post.note or "")):
                    await self.app.bot.send_message(chat_id, chunk)
        except (RetryAfter, TelegramError, sqlite3.Error) as exc:
            await self._failed(post, exc)
            return
        await store.set_post_state([post.id], "sent")

    async def _failed(self, post: OutboxPost, exc: Exception) -> None:
        store = self.services.store
        assert store is not None
        final = isinstance(exc, Forbidden | InvalidToken) or (
            isinstance(exc, BadRequest) and "chat not found" in str(exc).lower()
        )
        if final or post.attempts + 1 >= MAX_ATTEMPTS:
            log.error("staff post %d failed for good (%s): the question stays in /unanswered", post.id, exc)
            await store.set_post_state([post.id], "failed", str(exc))
        else:
            log.warning("staff post %d failed (%s); will retry", post.id, exc)
            await store.set_post_state([post.id], "pending", str(exc))
            await asyncio.sleep(self.retry_s)

    async def _summarise(self, chat_id: int, posts: list[OutboxPost]) -> None:
        """One message for many waiting posts: the staff chat would otherwise lag minutes behind."""
        svc = self.services
        store = svc.store
        assert store is not None
        ids = [post.id for post in posts]
        await store.set_post_state(ids, "sending", attempt=True)
        lines = [fill_html(STAFF.summary_heading, count=len(posts))]
        for post in posts:
            if post.item_id is None:
                lines.append(f"• {html.escape(button_text(post.note or '', 200))}")
                continue
            item = await store.get_unanswered(post.item_id)
            if item is None:
                continue
            lines.append(f"• #{item.id} ({item.lang}) “{html.escape(button_text(' '.join(item.text.split()), 120))}”")
        lines.append(html.escape(STAFF.summary_hint))
        try:
            for chunk in split_html("\n".join(lines)):
                await self.app.bot.send_message(chat_id, chunk)
        except TelegramError as exc:
            log.warning("staff summary failed (%s); will retry", exc)
            await store.set_post_state(ids, "pending", str(exc))
            await asyncio.sleep(self.retry_s)
            return
        await store.set_post_state(ids, "summarised")


def outbox_of(app: AnyApplication) -> StaffOutbox | None:
    outbox = app.bot_data.get(OUTBOX_KEY)
    return outbox if isinstance(outbox, StaffOutbox) else None


def wake(app: AnyApplication) -> None:
    """A post was queued: send it soon."""
    outbox = outbox_of(app)
    if outbox is not None:
        outbox.wake()


def register(app: AnyApplication) -> None:
    """The outbox is created here and started with the bot (``handlers/app.py`` post_init)."""
    app.bot_data[OUTBOX_KEY] = StaffOutbox(app)
