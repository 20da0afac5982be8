"""The question log as CSV for spreadsheets (``/export``, ``etown-bot unanswered export``), with formula
injection defused, and the day ranges an export may name."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from typing import Any, TextIO

from bot.storage import QuestionRecord, Store
from bot.words import STAFF

EXPORT_COLUMNS = ("id", "asked_at", "user_id", "chat_id", "lang", "status", "entry_id", "score", "text")
# Spreadsheets run a cell starting with these as a formula (OWASP "CSV injection"); tab and CR too,
# since some programs strip them before looking at the first character.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralize(cell: str) -> str:
    """Defuse spreadsheet formula injection: prefix an apostrophe to text a spreadsheet would evaluate."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _csv_row(record: QuestionRecord) -> list[Any]:
    # Numbers stay numbers (a negative group chat id is a number, not a formula); every text is defused.
    values: list[Any] = [
        record.id,
        record.asked_at,
        record.user_id,
        record.chat_id,
        record.lang,
        record.status,
        record.entry_id,
        round(record.score, 4),
        record.text,
    ]
    return [neutralize(v) if isinstance(v, str) else ("" if v is None else v) for v in values]


def write_csv(records: Iterable[QuestionRecord], out: TextIO) -> int:
    """Write a header and one row per record; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for record in records:
        writer.writerow(_csv_row(record))
        count += 1
    return count


# The days an export may name: the log has nothing older, and a far-off end ("9999-12-31") would
# overflow the day after it. Leaving a date out means no limit on that side.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits: fromisoformat also takes "20261105" and weeks


def parse_day(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` date from ``FIRST_DAY`` to ``LAST_DAY``; ValueError with a message for users otherwise."""
    text = text.strip()
    try:
        if not _DAY.fullmatch(text):
            raise ValueError
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(STAFF.not_a_date.format(text=text)) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(STAFF.day_out_of_range.format(text=text, first=FIRST_DAY, last=LAST_DAY))
    return day


def day_bounds(first: dt.date | None, last: dt.date | None) -> tuple[str | None, str | None]:
    """Stored-timestamp bounds ``[start, end)`` covering the whole days ``first`` .. ``last`` (UTC)."""
    if first is not None and last is not None and first > last:
        raise ValueError(STAFF.days_reversed.format(first=first, last=last))
    start = first.isoformat() if first else None
    end = (last + dt.timedelta(days=1)).isoformat() if last else None
    return start, end


async def export_csv(store: Store, out: TextIO, first: dt.date | None = None, last: dt.date | None = None) -> int:
    """Write the question log of the UTC days ``first`` .. ``last`` (inclusive, either open) as CSV."""
    start, end = day_bounds(first, last)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    async for record in store.iter_questions(start, end):
        writer.writerow(_csv_row(record))
        count += 1
    return count


QUEUE_COLUMNS = (
    "item",
    "status",
    "group",
    "asked_at",
    "lang",
    "question",
    "asked_by",
    "answer",
    "closed_by",
    "closed_at",
)
MAX_QUEUE_ITEMS = 100_000


async def export_queue_csv(store: Store, out: TextIO, first: dt.date | None = None, last: dt.date | None = None) -> int:
    """Write the staff queue (every item: open, answered, dismissed) of the UTC days ``first`` .. ``last``
    as CSV: its ``#id``, status, the ``#id`` of its group's first item (open items only, grouped as
    ``unanswered list`` groups them), who asked, the answer, who closed it and when."""
    from bot.staff.display import describe_user
    from bot.staff.queue import group_items

    start, end = day_bounds(first, last)
    items = [
        item
        for item in await store.list_unanswered(None, limit=MAX_QUEUE_ITEMS)
        if (start is None or item.created_at >= start) and (end is None or item.created_at < end)
    ]
    group_of = {
        item_id: f"#{group.item_ids[-1]}"
        for group in group_items(item for item in items if item.status == "new")
        for item_id in group.item_ids
    }
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(QUEUE_COLUMNS)
    for item in sorted(items, key=lambda i: i.id):
        profile = await store.get_user(item.user_id) if item.user_id is not None else None
        values = [
            f"#{item.id}",
            item.status,
            group_of.get(item.id, ""),
            item.created_at,
            item.lang,
            item.text,
            describe_user(item.user_id, profile, item.chat_id),
            item.reply or "",
            "" if item.replied_by is None else item.replied_by,
            item.replied_at or "",
        ]
        writer.writerow([neutralize(v) if isinstance(v, str) else v for v in values])
    return len(items)


async def export_csv_bytes(store: Store, first: dt.date | None = None, last: dt.date | None = None) -> bytes:
    """The export as a UTF-8 file with a byte-order mark, so spreadsheet programs read Chinese right."""
    buffer = io.StringIO()
    await export_csv(store, buffer, first, last)
    return buffer.getvalue().encode("utf-8-sig")
