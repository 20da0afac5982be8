"""The inbox of incoming Telegram updates, kept until handled, and the quarantine for unreadable ones.

Each update is written here before Telegram is told it arrived and marked done (its payload dropped)
once handled: a crash loses none, a re-delivery is spotted.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Sequence

import aiosqlite

from bot.storage.database import Database
from bot.storage.records import fits_int64

# An id newer than every one in the inbox is new, unless the Bot API restarted its numbering: then the
# row it meets is an older, different update, and is replaced.
_INBOX_INSERT = (
    "INSERT INTO inbox (update_id, payload, received_at, digest) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (update_id) DO UPDATE SET payload = excluded.payload, received_at = excluded.received_at,"
    " digest = excluded.digest, done_at = NULL"
)


def digest(payload: str) -> str:
    """What tells two updates with the same id apart: a re-delivery is the same event, a new one is not.

    The event is named by what Telegram never reuses: a message by chat, message id and date, a button
    press or inline query by its own id. The same update reaches the bot as raw JSON (polling) or
    re-serialised by python-telegram-bot (webhook), so the whole payload would not compare equal.
    """
    try:
        raw = json.loads(payload)
    except ValueError:
        raw = None
    key: object = payload
    if isinstance(raw, dict):
        key = sorted((kind, _event_key(value)) for kind, value in raw.items() if kind != "update_id")
    text = json.dumps(key, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def _event_key(value: object) -> object:
    if not isinstance(value, dict):
        return value
    if "id" in value and not isinstance(value.get("id"), dict):
        return {"id": value["id"]}  # callback_query, inline_query, ...
    chat = value.get("chat")
    if "message_id" in value:
        return {
            "chat": chat.get("id") if isinstance(chat, dict) else chat,
            "m": value["message_id"],
            "d": value.get("date"),
        }
    return value


class Inbox(Database):
    """Updates journaled on arrival and finished once handled; unreadable ones set aside."""

    async def journal_updates(self, updates: Sequence[tuple[int, str]], now: float | None = None) -> set[int]:
        """Keep updates (update_id, JSON) until ``finish_update``, in one transaction.

        Returns the ids that were new. An id already in the inbox with the same payload (a re-delivery)
        is left as it was; with another payload it is a new update that reuses the id (the Bot API
        restarted its numbering: Telegram does after a week without updates, a self-hosted server at
        its own restart), and replaces the old row.
        """
        received = time.time() if now is None else now
        unique = {update_id: (payload, digest(payload)) for update_id, payload in updates}
        if not unique:
            return set()

        async def run(db: aiosqlite.Connection) -> set[int]:
            # Telegram numbers updates sequentially: one range query finds the ids already here.
            rows = await db.execute_fetchall(
                "SELECT update_id, digest FROM inbox WHERE update_id BETWEEN ? AND ?", (min(unique), max(unique))
            )
            seen = {int(row[0]): row[1] for row in rows}
            fresh = [
                (update_id, payload, received, hashed)
                for update_id, (payload, hashed) in unique.items()
                # A row from before schema 5 has no digest: taken as the same update, as it always was.
                if update_id not in seen or (seen[update_id] is not None and seen[update_id] != hashed)
            ]
            if fresh:
                await db.executemany(_INBOX_INSERT, fresh)
            return {row[0] for row in fresh}

        return await self._write(run)

    def queue_new_updates(self, updates: Sequence[tuple[int, str]], now: float | None = None) -> asyncio.Future[None]:
        """Queue updates (update_id, JSON) known to be new for the inbox, for the next batch written.

        ``journal_updates`` checks for ids already there; this is for ids newer than all of them.
        """
        received = time.time() if now is None else now
        return self._statement(
            _INBOX_INSERT, [(update_id, payload, received, digest(payload)) for update_id, payload in updates]
        )

    async def finish_update(self, update_id: int, now: float | None = None) -> None:
        """Mark an update handled; its payload (the investor's message) is dropped, its id kept for dedup.

        Deferred (``soon=False``): it rides with the next batch, usually the next update's journal.
        """
        await self._run(
            "UPDATE inbox SET payload = NULL, done_at = ? WHERE update_id = ?",
            (time.time() if now is None else now, update_id),
            soon=False,
        )

    async def newest_update_id(self) -> int | None:
        """The highest update id in the inbox (None if it is empty)."""
        rows = await self._fetch("SELECT max(update_id) FROM inbox")
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    async def pending_updates(self) -> list[tuple[int, str]]:
        """Updates journaled but never finished (the process stopped first), oldest first."""
        rows = await self._fetch(
            "SELECT update_id, payload FROM inbox WHERE done_at IS NULL AND payload IS NOT NULL ORDER BY update_id",
        )
        return [(int(row[0]), str(row[1])) for row in rows]

    async def purge_inbox(self, older_than_s: float, now: float | None = None) -> int:
        """Forget the ids of updates finished more than ``older_than_s`` seconds ago; returns rows deleted."""
        cutoff = (time.time() if now is None else now) - older_than_s
        return await self._update("DELETE FROM inbox WHERE done_at < ?", (cutoff,))

    async def quarantine_update(self, update_id: int | None, reason: str, payload: str) -> int:
        """Set aside an update the bot cannot read (kept for inspection, never handled); returns its row id."""
        return await self._insert(
            "INSERT INTO quarantine (update_id, received_at, reason, payload) VALUES (?, ?, ?, ?)",
            (update_id if fits_int64(update_id) else None, time.time(), reason[:500], payload),
        )

    async def count_quarantined(self) -> int:
        rows = await self._fetch("SELECT COUNT(*) FROM quarantine")
        return int(rows[0][0])
