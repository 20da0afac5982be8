from __future__ import annotations

from decimal import Decimal

from bot.knowledge.model import UNITS, Figure, KnowledgeBase, Source
from bot.render import figure_text, format_number, format_text, render_answer

SOURCE = Source("s", "T", "https://example.org/a?b=1&c=2", "2024-01-02")


def figure(value: str, unit: str, qualifier: str = "exact") -> Figure:
    return Figure(Decimal(value), qualifier, UNITS[unit], {"en": "2022", "zh": "2022年"}, SOURCE, True)


def test_numbers_are_never_rounded() -> None:
    assert format_number(Decimal("10795.06"), "en") == "10,795.06"
    assert format_number(Decimal("43.55"), "zh") == "43.55"
    assert format_number(Decimal("349200"), "en") == "349,200"
    assert format_number(Decimal("2.001"), "en") == "2.001"


def test_units_and_qualifiers_in_both_languages() -> None:
    assert figure_text(figure("245.6", "billion_yuan"), "en") == "245.6 billion yuan"
    assert figure_text(figure("245.6", "billion_yuan"), "zh") == "2456亿元"
    assert figure_text(figure("2.001", "billion_yuan"), "zh") == "20.01亿元"
    assert figure_text(figure("576", "million_yuan"), "zh") == "5.76亿元"
    assert figure_text(figure("20", "million_yuan"), "zh") == "2000万元"
    assert figure_text(figure("10", "million_usd"), "zh") == "1000万美元"
    assert figure_text(figure("43.55", "percent"), "en") == "43.55%"
    assert figure_text(figure("5000", "companies", "more_than"), "en") == "more than 5,000 companies"
    assert figure_text(figure("5000", "companies", "more_than"), "zh") == "超过5000家企业"
    assert figure_text(figure("3", "billion_yuan", "nearly"), "zh") == "近30亿元"


def test_fact_answer_leads_with_newest_and_cites_every_source(mini_kb: KnowledgeBase) -> None:
    answer = render_answer(mini_kb, mini_kb.entries["companies"], "en")
    assert answer.body.startswith(
        "Biotechnology and health companies in Beijing E-Town (October 2025): more than 5,000"
    )
    assert "Earlier figures: more than 4,200 companies (2023)" in answer.body
    assert [s.published for s in answer.sources] == ["2025-10-26", "2023-09-13"]
    zh = render_answer(mini_kb, mini_kb.entries["companies"], "zh")
    assert "超过5000家企业" in zh.body and "2025年10月" in zh.body


def test_faq_placeholders_render_value_period_and_source(mini_kb: KnowledgeBase) -> None:
    answer = render_answer(mini_kb, mini_kb.entries["policy-list"], "en")
    assert "details 91 measures (2023)." in answer.body
    assert len(answer.sources) == 1  # same source for entry and fact: listed once
    text = format_text(answer)
    assert "Source: Beijing E-Town builds global hub" in text
    assert "published 2023-09-13" in text


def test_fallback_language_is_flagged(mini_kb: KnowledgeBase) -> None:
    answer = render_answer(mini_kb, mini_kb.entries["english-only"], "zh")
    assert answer.fallback
    assert answer.lang == "en"
    assert "暂无中文答案" in format_text(answer)
    # The reprint source is flagged as unverified.
    assert "not yet verified" not in format_text(answer)  # the Chinese label is used
    assert "转载来源" in format_text(answer)


def test_traditional_answers_are_the_chinese_ones_converted(mini_kb: KnowledgeBase) -> None:
    # issue 15: a question written in Traditional characters gets its answer in them
    zh = render_answer(mini_kb, mini_kb.entries["companies"], "zh")
    hant = render_answer(mini_kb, mini_kb.entries["companies"], "zh-Hant")
    assert (hant.lang, hant.requested_lang, hant.fallback) == ("zh-Hant", "zh-Hant", False)
    assert hant.body.startswith("北京經濟技術開發區生物技術和大健康企業（2025年10月）：超過5000家企業。")
    assert hant.title == "亦莊有多少家生物醫藥企業？"
    assert hant.sources == zh.sources  # titles as published
    text = format_text(hant)
    assert "來源: Beijing E-Town builds global hub" in text and "發佈於 2023-09-13" in text
    assert "5000" in text and "2025" in text  # figures and dates unchanged


def test_traditional_falls_back_to_english_like_chinese(mini_kb: KnowledgeBase) -> None:
    answer = render_answer(mini_kb, mini_kb.entries["english-only"], "zh-Hant")
    assert answer.fallback and answer.lang == "en" and answer.requested_lang == "zh-Hant"
    assert "暫無中文答案" in format_text(answer)
