"""Statistics of the question log, and their chart."""

from __future__ import annotations

import datetime as dt
import io
import json
import struct
import zlib
from typing import Any

import pytest

from bot.matching.matcher import Matcher
from bot.staff import chart, stats
from bot.storage import DayCount, Status, Store

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


async def log(store: Store, asked_at: str, status: Status, entry_id: str | None = None) -> int:
    return await store.log_question(
        user_id=1, chat_id=1, lang="en", text="q", status=status, entry_id=entry_id, score=0.5, asked_at=asked_at
    )


async def test_stats_summary_text_and_json(store: Store, matcher: Matcher) -> None:
    await log(store, "2026-11-25T11:00:00+00:00", "answered", "companies")
    await log(store, "2026-11-25T08:00:00+00:00", "unanswered")
    await log(store, "2026-11-21T08:00:00+00:00", "answered", "companies")
    await log(store, "2026-11-21T09:00:00+00:00", "answered", "policy-list")
    await log(store, "2026-11-10T09:00:00+00:00", "suggested")
    await log(store, "2026-09-01T09:00:00+00:00", "answered", "old")  # outside every window
    await store.record_feedback(user_id=1, question_id=None, entry_id="companies", helpful=True)
    await store.record_feedback(user_id=2, question_id=None, entry_id="companies", helpful=True)
    await store.record_feedback(user_id=3, question_id=None, entry_id="policy-list", helpful=False)
    for text in ("office rents?", "Office rents", "land price?"):
        await store.add_unanswered(question_id=None, user_id=1, chat_id=1, lang="en", text=text)

    summary = await stats.collect_stats(store, now=NOW, normalizer=matcher.normalizer)
    day, week, month = summary.windows
    assert (day.counts.total, day.counts.answered, day.counts.unanswered) == (2, 1, 1)
    assert (week.counts.total, month.counts.total, month.counts.suggested) == (4, 5, 1)
    assert week.rate("answered") == 0.75 and month.rate("suggested") == 0.2
    assert summary.top_entries == (("companies", 2), ("policy-list", 1))
    assert (summary.helpful, summary.not_helpful) == (2, 1)
    assert summary.helpful_ratio == pytest.approx(2 / 3)
    assert summary.open_items == 3
    assert summary.top_groups[0].count == 2
    assert len(summary.daily) == 30 and summary.daily[-1].day == "2026-11-25"
    assert (summary.daily[-1].answered, summary.daily[-1].not_answered) == (1, 1)

    text = stats.format_stats(summary)
    assert "24 h" in text and "7 d" in text and "30 d" in text
    assert "75%" in text and "Helpful (30 d): 67% of 3 rating(s)" in text
    assert "companies" in text and "Open questions: 3" in text and "office rents" in text.lower()

    data = json.loads(json.dumps(stats.stats_dict(summary)))
    assert set(data) == {
        "generated_at",
        "windows",
        "top_entries",
        "feedback",
        "open_items",
        "top_groups",
        "daily",
        "undelivered",
        "quarantined",
    }
    assert data["windows"]["7d"]["total"] == 4 and data["windows"]["7d"]["answered_rate"] == 0.75
    assert data["windows"]["24h"]["unanswered"] == 1
    assert data["top_entries"][0] == {"entry_id": "companies", "count": 2}
    assert data["feedback"]["helpful_ratio"] == pytest.approx(0.6667)
    assert data["daily"][-1] == {
        "day": "2026-11-25",
        "answered": 1,
        "not_answered": 1,
        "picked": 0,
        "suggested": 0,
        "unanswered": 1,
        "smalltalk": 0,
    }


async def test_stats_of_an_empty_log(store: Store) -> None:
    summary = await stats.collect_stats(store, now=NOW)
    assert summary.helpful_ratio is None and summary.open_items == 0
    assert all(w.counts.total == 0 and w.rate("answered") == 0 for w in summary.windows)
    text = stats.format_stats(summary)
    assert "no ratings" in text
    assert stats.stats_dict(summary)["feedback"]["helpful_ratio"] is None


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Check a PNG's structure and every chunk's CRC; return width, height and the chunk types."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, kinds, idat = 8, [], b""
    width = height = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        if kind == b"IDAT":
            idat += body
        kinds.append(kind)
        position += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    assert zlib.decompress(idat)  # the image data inflates
    return width, height, kinds


def test_chart_is_a_valid_png_showing_both_series() -> None:
    from PIL import Image

    days = [DayCount((dt.date(2026, 10, 27) + dt.timedelta(days=n)).isoformat(), n % 5, 0, n % 3) for n in range(30)]
    png = chart.render_chart(days)
    width, height, _ = read_png(png)
    assert (width, height) == (800, 360)

    def pixels(data: bytes) -> dict[Any, int]:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        return {colour: count for count, colour in image.getcolors(1 << 20) or []}

    green, red = (0x2E, 0x7D, 0x32), (0xC6, 0x28, 0x28)
    with_data = pixels(png)
    empty = pixels(chart.render_chart([DayCount("2026-11-25")]))
    # Only the legend's swatches are coloured when there are no questions; bars add many more pixels.
    assert with_data.get(green, 0) > 10 * max(empty.get(green, 0), 1)
    assert with_data.get(red, 0) > 10 * max(empty.get(red, 0), 1)
    assert read_png(chart.render_chart([]))[0] == 800


async def test_small_talk_and_unclear_are_counted_apart_from_the_questions(store: Store) -> None:
    # issue 15: messages that were no question get their own columns; the rates stay shares of questions
    await log(store, "2026-11-25T11:00:00+00:00", "answered", "companies")
    await log(store, "2026-11-25T11:01:00+00:00", "unanswered")
    for minute in range(3):
        await log(store, f"2026-11-25T11:1{minute}:00+00:00", "smalltalk")
    await log(store, "2026-11-25T11:20:00+00:00", "unclear")
    summary = await stats.collect_stats(store, now=NOW)
    day = summary.windows[0]
    assert (day.counts.total, day.counts.smalltalk, day.counts.unclear) == (2, 3, 1)
    assert day.rate("answered") == 0.5
    assert summary.daily[-1].not_answered == 1  # the chart shows questions only
    header, first = stats.format_stats(summary).splitlines()[1:3]
    assert header.split()[-3:] == ["small", "talk", "unclear"]
    assert first.split()[:2] == ["24", "h"] and first.split()[-2:] == ["3", "1"]
    window = stats.stats_dict(summary)["windows"]["24h"]
    assert (window["total"], window["smalltalk"], window["unclear"], window["answered_rate"]) == (2, 3, 1, 0.5)
