"""Aggregates for /stats."""

from __future__ import annotations

from pathlib import Path

from bot.storage import Status, Store


async def test_statistics_queries(tmp_path: Path) -> None:
    import datetime as dt

    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        rows: list[tuple[str, Status, str | None]] = [
            ("2026-11-25T09:00:00+00:00", "answered", "a"),
            ("2026-11-25T10:00:00+00:00", "answered", "b"),
            ("2026-11-24T23:59:59+00:00", "unanswered", None),
            ("2026-11-20T10:00:00+00:00", "answered", "a"),
            ("2026-11-20T11:00:00+00:00", "suggested", None),
            ("2026-10-01T10:00:00+00:00", "answered", "c"),  # outside 30 days
        ]
        for asked_at, status, entry in rows:
            await store.log_question(
                user_id=1, chat_id=1, lang="en", text="q", status=status, entry_id=entry, score=0.5, asked_at=asked_at
            )
        since_week = "2026-11-18T12:00:00+00:00"
        counts = await store.status_counts(since_week)
        assert (counts.answered, counts.suggested, counts.unanswered, counts.total) == (3, 1, 1, 5)
        assert (await store.status_counts()).total == 6
        assert await store.top_entries(since_week) == [("a", 2), ("b", 1)]
        assert await store.top_entries(None, limit=1) == [("a", 2)]

        days = await store.daily_counts(30, today=dt.date(2026, 11, 25))
        assert len(days) == 30 and days[0].day == "2026-10-27" and days[-1].day == "2026-11-25"
        by_day = {d.day: d for d in days}
        assert (by_day["2026-11-25"].answered, by_day["2026-11-25"].not_answered) == (2, 0)
        assert by_day["2026-11-24"].unanswered == 1
        assert (by_day["2026-11-20"].answered, by_day["2026-11-20"].suggested) == (1, 1)
        assert sum(d.answered + d.not_answered for d in days) == 5

        await store.record_feedback(user_id=1, question_id=None, entry_id="a", helpful=True)
        assert await store.feedback_counts(since="2999-01-01") == (0, 0)
        assert await store.feedback_counts(since="2000-01-01") == (1, 0)
    finally:
        await store.close()


async def test_picks_from_did_you_mean_are_noted_on_the_question_and_counted(tmp_path: Path) -> None:
    # issue 17: "answered 51%" understated what the bot solved; what investors pick teaches the suggestions
    import datetime as dt

    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        ids = []
        asked: list[tuple[int, Status]] = [(1, "suggested"), (2, "suggested"), (3, "suggested"), (4, "answered")]
        for user, status in asked:
            ids.append(
                await store.log_question(
                    user_id=user,
                    chat_id=user,
                    lang="en",
                    text="company count?",
                    status=status,
                    entry_id="a",
                    score=0.4,
                    asked_at="2026-11-25T09:00:00+00:00",
                )
            )
        assert await store.record_pick(ids[0], "companies")
        assert await store.record_pick(ids[1], "companies")
        assert not await store.record_pick(ids[3], "companies")  # not a did-you-mean
        assert not await store.record_pick(10**12, "companies")  # not in the log
        counts = await store.status_counts("2026-11-01T00:00:00+00:00")
        assert (counts.suggested, counts.picked, counts.answered) == (3, 2, 1)
        (day,) = [d for d in await store.daily_counts(30, today=dt.date(2026, 11, 25)) if d.day == "2026-11-25"]
        assert (day.suggested, day.picked) == (3, 2)
        assert await store.picks() == [("company count?", "companies", 2)]
        await store.forget_user(1)  # the pick goes with the question
        assert await store.picks() == [("company count?", "companies", 1)]
    finally:
        await store.close()
