"""The question log: one SQLite file (WAL) behind an async API (aiosqlite's public API).

``Store`` is the one object the rest of the program uses; it is put together from one class per table
group, each in its own module, on top of ``database.Database`` (connection, migrations, transactions)
and ``writer.Writer`` (group commit):

- ``questions``: the question log and its ids
- ``staff_queue``: questions handed to staff (``hand_off``) and how they were closed
- ``staff_posts``: the staff-chat outbox and which message shows which item
- ``inbox``: incoming updates journaled until handled, and the quarantine
- ``people``: language choice, names, votes on answers
- ``retention``: /forget and the retention purge
- ``stats``: counts for /stats and the command line
"""

from __future__ import annotations

from bot.storage.inbox import Inbox, digest
from bot.storage.people import People
from bot.storage.questions import QUESTION_ID_BLOCK, QuestionLog
from bot.storage.records import (
    CONSOLE_CHAT_ID,
    INT64_MAX,
    INT64_MIN,
    DayCount,
    ForgetCounts,
    Handoff,
    ItemStatus,
    OutboxPost,
    PostReason,
    PostState,
    PurgeCounts,
    QuestionRecord,
    Status,
    StatusCounts,
    StoreError,
    UnansweredItem,
    UserProfile,
    fits_int64,
    timestamp,
    utcnow,
)
from bot.storage.retention import Retention
from bot.storage.schema import MIGRATIONS, SCHEMA_VERSION
from bot.storage.staff_posts import StaffPosts
from bot.storage.staff_queue import StaffQueue
from bot.storage.stats import Stats
from bot.storage.writer import DEFER_S


class Store(QuestionLog, StaffQueue, StaffPosts, Inbox, People, Retention, Stats):
    """Async access to the log; create with ``await Store.open(path)`` and ``await store.close()``.

    One connection, with its own thread (aiosqlite). Single writes queue up and are written together
    (``bot.storage.writer``); the question log and the inbox share that queue, so a question logged
    before its update's done mark is committed with it or before it.
    """


__all__ = [
    "CONSOLE_CHAT_ID",
    "DEFER_S",
    "INT64_MAX",
    "INT64_MIN",
    "MIGRATIONS",
    "QUESTION_ID_BLOCK",
    "SCHEMA_VERSION",
    "DayCount",
    "ForgetCounts",
    "Handoff",
    "ItemStatus",
    "OutboxPost",
    "PostReason",
    "PostState",
    "PurgeCounts",
    "QuestionRecord",
    "Status",
    "StatusCounts",
    "Store",
    "StoreError",
    "UnansweredItem",
    "UserProfile",
    "digest",
    "fits_int64",
    "timestamp",
    "utcnow",
]
