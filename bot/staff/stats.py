"""Question statistics of the last 24 h, 7 d and 30 d: collected from the log, as a plain-text table
(``/stats``, ``etown-bot stats``) or as JSON-ready data (``etown-bot stats --json``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from bot.matching.text import Normalizer
from bot.staff.display import format_utc, shorten
from bot.staff.queue import Group, open_groups
from bot.storage import DayCount, StatusCounts, Store, timestamp
from bot.words import STAFF

STATS_WINDOWS: tuple[tuple[str, dt.timedelta], ...] = (
    ("24 h", dt.timedelta(hours=24)),
    ("7 d", dt.timedelta(days=7)),
    ("30 d", dt.timedelta(days=30)),
)
CHART_DAYS = 30


@dataclass(frozen=True)
class WindowStats:
    """Questions of one time window by decision."""

    label: str
    since: str
    counts: StatusCounts

    def rate(self, status: Literal["answered", "suggested", "unanswered", "picked"]) -> float:
        """Share of the window's questions with that status (0 when there were none)."""
        total = self.counts.total
        return getattr(self.counts, status) / total if total else 0.0


@dataclass(frozen=True)
class StatsSummary:
    """Everything ``/stats`` and ``etown-bot stats`` show."""

    generated_at: str
    windows: tuple[WindowStats, ...]  # 24 h, 7 d, 30 d
    top_entries: tuple[tuple[str, int], ...]  # answered most often in the last 30 days
    helpful: int  # feedback of the last 30 days
    not_helpful: int
    open_items: int
    top_groups: tuple[Group, ...]
    daily: tuple[DayCount, ...]  # the last 30 UTC days, oldest first
    undelivered: int = 0  # replies Telegram would not take (30 d): handed to staff
    quarantined: int = 0  # updates the bot could not read, set aside (all kept)

    @property
    def helpful_ratio(self) -> float | None:
        total = self.helpful + self.not_helpful
        return self.helpful / total if total else None


async def collect_stats(
    store: Store, *, now: dt.datetime | None = None, normalizer: Normalizer | None = None, top: int = 5
) -> StatsSummary:
    """Read the figures of the summary from the log."""
    now = now or dt.datetime.now(dt.UTC)
    windows = []
    for label, span in STATS_WINDOWS:
        since = timestamp(now - span)
        windows.append(WindowStats(label, since, await store.status_counts(since)))
    month = windows[-1].since
    helpful, not_helpful = await store.feedback_counts(since=month)
    groups = await open_groups(store, normalizer)
    return StatsSummary(
        generated_at=timestamp(now),
        windows=tuple(windows),
        top_entries=tuple(await store.top_entries(month, limit=top)),
        helpful=helpful,
        not_helpful=not_helpful,
        open_items=sum(g.count for g in groups),
        top_groups=tuple(groups[:top]),
        daily=tuple(await store.daily_counts(CHART_DAYS, today=now.astimezone(dt.UTC).date())),
        undelivered=await store.count_undelivered(month),
        quarantined=await store.count_quarantined(),
    )


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def format_stats(summary: StatsSummary) -> str:
    """A plain-text table (monospace) of the summary."""
    said = STAFF.stats
    window, total, answered, suggested, unanswered = said.columns
    smalltalk, unclear = said.chat_columns
    picked = said.picked_column
    lines = [said.heading.format(time=format_utc(summary.generated_at))]
    lines.append(
        f"{window:<8}{total:>7}{answered:>10}{picked:>9}{suggested:>11}{unanswered:>12}{smalltalk:>12}{unclear:>9}"
    )
    for row in summary.windows:
        # A did-you-mean an entry was picked from is counted as picked, not again as suggested.
        shown = row.rate("suggested") - row.rate("picked")
        lines.append(
            f"{row.label:<8}{row.counts.total:>7}{_percent(row.rate('answered')):>10}"
            f"{_percent(row.rate('picked')):>9}{_percent(shown):>11}{_percent(row.rate('unanswered')):>12}"
            f"{row.counts.smalltalk:>12}{row.counts.unclear:>9}"
        )
    lines.append(said.columns_note)
    ratio = summary.helpful_ratio
    feedback = summary.helpful + summary.not_helpful
    lines.append("")
    lines.append(said.helpful.format(percent=_percent(ratio), count=feedback) if ratio is not None else said.no_ratings)
    lines.append("")
    lines.append(said.top_entries)
    lines += [f"  {count:>5}  {entry_id}" for entry_id, count in summary.top_entries] or [f"  {said.none}"]
    lines.append("")
    lines.append(said.open_questions.format(count=summary.open_items))
    lines += [f"  {g.count:>5}  {g.newest_day}  {shorten(g.representative, 80)}" for g in summary.top_groups] or [
        f"  {said.none}"
    ]
    lines.append("")
    lines.append(said.undelivered.format(count=summary.undelivered))
    lines.append(said.quarantined.format(count=summary.quarantined))
    return "\n".join(lines)


def stats_dict(summary: StatsSummary) -> dict[str, Any]:
    """The summary as JSON-ready data (``etown-bot stats --json``; keys are an interface)."""
    return {
        "generated_at": summary.generated_at,
        "windows": {
            w.label.replace(" ", ""): {
                "since": w.since,
                "total": w.counts.total,
                "answered": w.counts.answered,
                "suggested": w.counts.suggested,
                "unanswered": w.counts.unanswered,
                "answered_rate": round(w.rate("answered"), 4),
                "suggested_rate": round(w.rate("suggested"), 4),
                "unanswered_rate": round(w.rate("unanswered"), 4),
                # of "suggested": an entry was picked from the did-you-mean list
                "picked": w.counts.picked,
                "picked_rate": round(w.rate("picked"), 4),
                # messages that were no question: not in "total", never queued for staff
                "smalltalk": w.counts.smalltalk,
                "unclear": w.counts.unclear,
            }
            for w in summary.windows
        },
        "top_entries": [{"entry_id": e, "count": n} for e, n in summary.top_entries],
        "feedback": {
            "helpful": summary.helpful,
            "not_helpful": summary.not_helpful,
            "helpful_ratio": None if summary.helpful_ratio is None else round(summary.helpful_ratio, 4),
        },
        "open_items": summary.open_items,
        "top_groups": [
            {"question": g.representative, "count": g.count, "newest": g.newest, "item_ids": list(g.item_ids)}
            for g in summary.top_groups
        ],
        "daily": [
            {
                "day": d.day,
                "answered": d.answered,
                "not_answered": d.not_answered,
                "picked": d.picked,
                "suggested": d.suggested,
                "unanswered": d.unanswered,
                "smalltalk": d.smalltalk + d.unclear,
            }
            for d in summary.daily
        ],
        "undelivered": summary.undelivered,
        "quarantined": summary.quarantined,
    }
