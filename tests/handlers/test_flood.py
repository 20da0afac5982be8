"""Flood control for every kind of update (handlers/flood.py), and repeated presses that change nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import LimitsConfig, StaffConfig
from handlers.flood import ADMIN_FACTOR, update_flood
from tests.botapi_server import DEFAULT_GROUP_ID, Call, JSONDict
from tests.telegram_harness import Harness, answered_queries, make_config, running_bot, sent

USER, OTHER, ADMIN = 1001, 1002, 9001
LIMIT = 60  # the default, so these tests also check what a real investor gets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def tg(tmp_path: Path) -> AsyncIterator[Harness]:
    config = replace(make_config(tmp_path), staff=StaffConfig(admins=(ADMIN,)))
    assert config.limits.updates_per_minute == LimitsConfig().updates_per_minute == LIMIT
    async with running_bot(config) as harness:
        clock = Clock()  # time stands still unless a test moves it
        flood = update_flood(harness.app)
        flood.updates.clock = flood.inline.clock = clock
        yield harness


async def burst(tg: Harness, updates: list[JSONDict]) -> list[Call]:
    """Handle ``updates`` at once, as the bot does (64 at a time), and return every call they caused."""
    mark = tg.api.mark()
    await asyncio.gather(*(tg.process(update) for update in updates))
    return tg.api.calls[mark:]


def clock_of(tg: Harness) -> Clock:
    clock = update_flood(tg.app).updates.clock
    assert isinstance(clock, Clock)
    return clock


async def test_300_starts_from_one_user_cost_a_minutes_budget_and_one_notice(tg: Harness) -> None:
    replies = [m["text"] for m in sent(await burst(tg, [tg.api.message_update(USER, "/start")] * 300))]
    assert len(replies) == LIMIT + 1
    assert len([r for r in replies if r.startswith("Hello")]) == LIMIT
    assert len([r for r in replies if "Please wait about 60 seconds" in r]) == 1
    # Everyone else is served at once, and the user again once the minute has passed.
    assert sent(await tg.send(OTHER, "/start"))[0]["text"].startswith("Hello")
    clock_of(tg).now += 60
    assert sent(await tg.send(USER, "/start"))[0]["text"].startswith("Hello")


async def test_300_presses_are_answered_within_the_budget_and_once_after_it(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await tg.send(USER, "/topics")
    menu = tg.api.last_message(USER)  # pressed again and again as it was: a script, or a stuck finger
    assert menu is not None
    with caplog.at_level(logging.DEBUG):
        calls = await burst(tg, [tg.api.callback_update(USER, "t:en:policy", menu) for _ in range(300)])
    answers = [a.get("text", "") for a in answered_queries(calls)]
    assert len(answers) == (LIMIT - 1) + 1  # the /topics command used one of the minute's 60
    (note,) = [a for a in answers if a]
    assert note.startswith("You're sending questions faster") and "Please wait about 60 seconds" in note
    assert len([c for c in calls if c.method == "editMessageText"]) == LIMIT - 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in caplog.records if r.name == "handlers.flood"] == [
        f"user {USER} is over the update limit: updates dropped for 60 s"
    ]


async def test_a_group_member_over_the_limit_gets_one_notice_in_the_group(tmp_path: Path) -> None:
    # A low limit: the bot sends at most 20 messages a minute to one group (AIORateLimiter).
    async with running_bot(make_config(tmp_path, limits=LimitsConfig(updates_per_minute=3))) as tg:
        update = tg.api.message_update(USER, "/help@etown_test_bot", chat_id=DEFAULT_GROUP_ID, chat_type="group")
        replies = sent(await burst(tg, [update] * 10))
    assert len(replies) == 3 + 1
    (notice,) = [r for r in replies if "Please wait" in r["text"]]
    assert notice["reply_parameters"]["message_id"] == update["message"]["message_id"]


async def test_admins_get_ten_times_the_budget(tmp_path: Path) -> None:
    # A low limit: the bot sends at most 30 messages a second in all (AIORateLimiter).
    config = replace(
        make_config(tmp_path, limits=LimitsConfig(updates_per_minute=2)), staff=StaffConfig(admins=(ADMIN,))
    )
    async with running_bot(config) as tg:
        allowed = 2 * ADMIN_FACTOR
        replies = sent(await burst(tg, [tg.api.message_update(ADMIN, "/help")] * (allowed + 10)))
        assert len(replies) == allowed + 1
        assert len([r for r in replies if "Please wait" in r["text"]]) == 1
        assert len(sent(await burst(tg, [tg.api.message_update(USER, "/help")] * 5))) == 2 + 1


async def test_inline_queries_have_their_own_budget(tg: Harness) -> None:
    calls = await burst(tg, [tg.api.inline_update(USER, "biotech companies") for _ in range(LIMIT + 10)])
    # The rest are dropped without a reply: there is nowhere to put a note.
    assert len(sent(calls, "answerInlineQuery")) == LIMIT
    assert sent(await tg.send(USER, "/start"))  # typing inline queries never uses up the menus' budget


async def test_a_double_tap_that_changes_nothing_is_not_an_error(tg: Harness, caplog: pytest.LogCaptureFixture) -> None:
    await tg.send(USER, "/lang")
    prompt = tg.api.last_message(USER)  # both presses come from the prompt as it was shown
    with caplog.at_level(logging.DEBUG):
        first = await tg.click(USER, "l:zh", message=prompt)
        second = await tg.click(USER, "l:zh", message=prompt)
    assert [c.status for c in second if c.method == "editMessageText"] == [400]
    # Both presses are answered with the choice; no apology, no traceback, nothing at ERROR.
    assert [a["text"] for a in answered_queries(first + second)] == ["今后我将用简体中文回答。"] * 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert any(r.levelno == logging.DEBUG and "not modified" in r.getMessage() for r in caplog.records)
