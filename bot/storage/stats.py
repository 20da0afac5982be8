"""Counts over the log for /stats and the command line: by decision, by entry, by day."""

from __future__ import annotations

import datetime as dt

from bot.storage.database import Database
from bot.storage.records import DayCount, StatusCounts


class Stats(Database):
    """Read-only aggregates."""

    async def status_counts(self, since: str | None = None) -> StatusCounts:
        """Questions asked at or after ``since`` (a stored timestamp; None: all) by decision."""
        rows = await self._fetch(
            "SELECT status, COUNT(*), COUNT(picked) FROM questions WHERE asked_at >= ? GROUP BY status", (since or "",)
        )
        counts = {str(r[0]): int(r[1]) for r in rows}
        picked = sum(int(r[2]) for r in rows if r[0] == "suggested")
        return StatusCounts(**counts, picked=picked)

    async def top_entries(self, since: str | None = None, limit: int = 5) -> list[tuple[str, int]]:
        """The entries answered most often since ``since``: (entry id, count), most first."""
        rows = await self._fetch(
            "SELECT entry_id, COUNT(*) AS n FROM questions WHERE status = 'answered' AND entry_id IS NOT NULL"
            " AND asked_at >= ? GROUP BY entry_id ORDER BY n DESC, entry_id LIMIT ?",
            (since or "", limit),
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    async def daily_counts(self, days: int = 30, today: dt.date | None = None) -> list[DayCount]:
        """One ``DayCount`` per UTC day for the ``days`` days ending ``today``, oldest first, zeros included."""
        today = today or dt.datetime.now(dt.UTC).date()
        first = today - dt.timedelta(days=days - 1)
        end = today + dt.timedelta(days=1)
        rows = await self._fetch(
            "SELECT substr(asked_at, 1, 10) AS day, status, COUNT(*), COUNT(picked) FROM questions"
            " WHERE asked_at >= ? AND asked_at < ? GROUP BY day, status",
            (first.isoformat(), end.isoformat()),
        )
        found: dict[str, dict[str, int]] = {}
        for row in rows:
            found.setdefault(str(row[0]), {})[str(row[1])] = int(row[2])
            if row[1] == "suggested":
                found[str(row[0])]["picked"] = int(row[3])
        result = []
        for offset in range(days):
            day = (first + dt.timedelta(days=offset)).isoformat()
            result.append(DayCount(day, **found.get(day, {})))
        return result

    async def picks(self) -> list[tuple[str, str, int]]:
        """(question text, picked entry, askers) of the picks from did-you-mean lists; the caller folds
        texts that differ only in case or punctuation. Rows with no asker (console, forgotten) count once."""
        rows = await self._fetch(
            "SELECT text, picked, COUNT(DISTINCT coalesce(user_id, -id)) FROM questions WHERE picked IS NOT NULL"
            " GROUP BY text, picked"
        )
        return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def count_undelivered(self, since: str | None = None) -> int:
        """Questions asked at or after ``since`` whose reply never reached the investor."""
        rows = await self._fetch("SELECT COUNT(*) FROM questions WHERE delivered = 0 AND asked_at >= ?", (since or "",))
        return int(rows[0][0])
