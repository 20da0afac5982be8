"""A question naming a year: that year's figures first, or, when the sources have none, the nearest and a
hand-off (``bot.periods``, ``Assistant.resolve``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.assistant import Assistant, Knowledge, Reply
from bot.config import PACKAGED_FAQ_DIR, MatchingConfig
from bot.knowledge.model import KnowledgeBase
from bot.periods import asked_years, figure_years, named_by, period_reply, without_years
from bot.render import format_text
from bot.storage import Store


def test_years_asked_and_the_question_without_them() -> None:
    assert asked_years("biotech output in 2023") == ("2023",)
    assert asked_years("GDP 2021 vs 2022, and 2021 again") == ("2021", "2022")
    assert asked_years("2023年经开区GDP是多少") == ("2023",)
    assert asked_years("how many companies, 5000?") == ()
    assert without_years("biotech output in 2023") == "biotech output"
    assert without_years("2023年的经开区GDP是多少") == "经开区gdp是多少"
    assert without_years("What was BDA's GDP in 2023?") == "what was bda s gdp"


def test_a_figure_for_an_earlier_year_leads(mini_kb: KnowledgeBase) -> None:
    companies = mini_kb.entries["companies"]  # October 2025: more than 5,000; history: 2023
    reply = period_reply(mini_kb, companies, ("2023",))
    assert reply is not None and [d.figure.period["en"] for d in reply.found] == ["2023"] and not reply.nearest
    assert period_reply(mini_kb, companies, ("2025",)) is None  # the newest figure: the answer as it is


def test_no_figure_for_the_year_gives_the_nearest_on_both_sides(mini_kb: KnowledgeBase) -> None:
    reply = period_reply(mini_kb, mini_kb.entries["companies"], ("2024",))
    assert reply is not None and not reply.found
    assert sorted(y for d in reply.nearest for y in figure_years(d.figure)) == ["2023", "2025"]


def test_an_entry_that_names_the_year_itself_is_answered_as_it_is() -> None:
    from bot.knowledge.load import load_knowledge_base

    kb = load_knowledge_base(PACKAGED_FAQ_DIR).kb
    assert kb is not None
    plan = kb.entries["action-plan-2023"]  # released in February 2023; its figures are 2025 targets
    assert "2023" in named_by(plan)
    assert period_reply(kb, plan, ("2023",)) is None


@pytest.fixture
async def assistant(tmp_path: Path) -> AsyncIterator[Assistant]:
    store = await Store.open(tmp_path / "log.sqlite3")
    knowledge = Knowledge(PACKAGED_FAQ_DIR, MatchingConfig())
    knowledge.load()
    try:
        yield Assistant(knowledge, store)
    finally:
        await store.close()


async def test_a_year_the_sources_do_not_cover_is_said_plainly_and_handed_to_staff(assistant: Assistant) -> None:
    # issue 15: "biotech output in 2023" got the 2021 figure and was not passed to staff
    delivered: list[Reply] = []

    async def deliver(reply: Reply) -> None:
        delivered.append(reply)

    reply = await assistant.ask("biotech output in 2023", user_id=5, chat_id=5, deliver=deliver)
    assert delivered == [reply] and reply.status == "unanswered" and reply.period_gap
    assert reply.answer is not None and reply.unanswered_id is not None  # queued before the reply went out
    text = format_text(reply.answer)
    assert text.startswith("Our sources have no figure for 2023. The nearest they give:")
    assert "141.39 billion yuan (January–September 2021)" in text and "Source:" in text
    store = assistant.store
    assert store is not None
    (item,) = await store.list_unanswered()
    assert item.text == "biotech output in 2023"


async def test_the_years_figure_leads_the_answer(assistant: Assistant) -> None:
    reply = assistant.resolve("how many biotech companies in 2023")
    assert reply.status == "answered" and not reply.period_gap and reply.answer is not None
    assert reply.answer.body.startswith(
        "For 2023, our sources give: Biotechnology and health companies in Beijing E-Town: more than 4,200 "
        "companies (2023)."
    )
    zh = assistant.resolve("2024年亦庄有多少生物医药企业")
    assert zh.answer is not None and zh.answer.body.startswith("2024年的数据：")
    hant = assistant.resolve("經開區2024年GDP是多少？")
    assert hant.period_gap and hant.answer is not None
    assert hant.answer.body.startswith("我們的資料中沒有2024年的數據。最接近的數據：")
    assert "2456億元（2022年）" in hant.answer.body


def test_a_question_without_its_year_that_is_another_question_is_left_alone(assistant: Assistant) -> None:
    # Without the year it went to Beijing's biopharma share; with it, the Beijing measures rank first.
    reply = assistant.resolve("How big was Beijing's whole health industry in 2024?")
    assert not reply.period_gap and reply.status != "answered"
