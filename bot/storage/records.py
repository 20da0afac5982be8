"""The rows the store hands out: frozen records, their statuses, and the stored value formats."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

# smalltalk / unclear: a message that was no question (a greeting; "?"), replied to and never queued
Status = Literal["answered", "suggested", "unanswered", "smalltalk", "unclear"]
ItemStatus = Literal["new", "answered", "dismissed"]
PostReason = Literal["unanswered", "none_of_these", "undelivered", "asked_for_staff", "notice"]
PostState = Literal["pending", "sending", "sent", "summarised", "failed"]
# SQLite integers are signed 64-bit; a bigger Python int fails at binding (OverflowError).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# The chat of questions asked in the console chat (etown-bot shell): no Telegram chat has id 0, and a
# forgotten investor's chat is NULL, so staff can tell the two apart and nobody tries to reply to it.
CONSOLE_CHAT_ID = 0


class StoreError(Exception):
    """The database could not be used (unreadable, newer schema, ...); the message is for users."""


@dataclass(frozen=True)
class QuestionRecord:
    id: int
    asked_at: str
    user_id: int | None
    chat_id: int | None
    lang: str
    text: str
    status: Status
    entry_id: str | None
    score: float
    delivered: bool = True  # False: the reply could not be sent (Telegram error); staff were told
    picked: str | None = None  # the entry the investor chose from its did-you-mean list


@dataclass(frozen=True)
class UnansweredItem:
    id: int
    question_id: int | None
    created_at: str
    user_id: int | None
    chat_id: int | None
    lang: str
    text: str
    status: ItemStatus
    reply: str | None
    replied_by: int | None
    replied_at: str | None
    delivery_error: str | None = None  # why the last reply could not be delivered (the item stays open)
    delivery_failed_at: str | None = None


@dataclass(frozen=True)
class OutboxPost:
    """A staff-chat post waiting in the outbox: a queue item (``item_id``) or a notice (``note``)."""

    id: int
    item_id: int | None
    reason: PostReason
    note: str | None
    created_at: str
    state: PostState
    attempts: int
    error: str | None
    done_at: str | None


@dataclass(frozen=True)
class Handoff:
    """A question given to staff: its queue item, and whether this call created it (False: already queued)."""

    item_id: int
    created: bool


@dataclass(frozen=True)
class UserProfile:
    """What staff posts show about an investor; every field but the id may be unknown."""

    user_id: int
    lang: str | None
    first_name: str | None
    username: str | None
    updated_at: str


@dataclass(frozen=True)
class ForgetCounts:
    """Rows removed (or stripped of identity) by ``forget_user``."""

    questions: int
    feedback: int
    items_deleted: int  # answered or dismissed staff items
    items_anonymised: int  # open staff items: text kept, ids removed
    users: int

    @property
    def total(self) -> int:
        return self.questions + self.feedback + self.items_deleted + self.items_anonymised + self.users


@dataclass(frozen=True)
class PurgeCounts:
    """Rows deleted by ``purge_older_than``."""

    questions: int
    feedback: int
    items: int
    users: int

    @property
    def total(self) -> int:
        return self.questions + self.feedback + self.items + self.users


@dataclass(frozen=True)
class StatusCounts:
    """Logged messages by the bot's decision: ``total`` counts the questions, small talk and unclear apart."""

    answered: int = 0
    suggested: int = 0  # a did-you-mean list was shown; ``picked`` of them had an entry chosen from it
    unanswered: int = 0
    smalltalk: int = 0
    unclear: int = 0
    picked: int = 0

    @property
    def total(self) -> int:
        """Questions (answered, suggested or unanswered): what the rates are shares of."""
        return self.answered + self.suggested + self.unanswered


@dataclass(frozen=True)
class DayCount:
    """Questions of one UTC day (``day`` is YYYY-MM-DD)."""

    day: str
    answered: int = 0
    suggested: int = 0
    unanswered: int = 0
    smalltalk: int = 0
    unclear: int = 0
    picked: int = 0  # of ``suggested``: an entry was chosen from the did-you-mean list

    @property
    def not_answered(self) -> int:
        return self.suggested + self.unanswered


def utcnow() -> str:
    """Timestamps are stored as ISO 8601 UTC text, which sorts and compares correctly."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def timestamp(moment: dt.datetime) -> str:
    """``moment`` in the stored format (aware datetimes are converted to UTC; naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def epoch(stamp: str) -> float:
    """A stored timestamp as seconds since the epoch (the inbox and quarantine store those)."""
    return dt.datetime.fromisoformat(stamp).timestamp()


def fits_int64(value: object) -> bool:
    """True for an int SQLite can store (bools excluded); ids from outside are checked with this."""
    return isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX
