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


def test_chinese_amounts_in_wan_and_yi_where_exact() -> None:
    # issue 15: 500000元, 约3000000平方米 and 349200名人才 read as 50万元, 约300万平方米, 34.92万名人才
    from bot.knowledge.model import Unit

    assert figure_text(figure("500000", "yuan"), "zh") == "50万元"
    assert figure_text(figure("3000000", "m2", "about"), "zh") == "约300万平方米"
    assert figure_text(figure("349200", "count"), "zh") == "34.92万"
    talents = Figure(Decimal("349200"), "exact", Unit("talents", "名人才"), {"en": "2023"}, SOURCE, True)
    assert figure_text(talents, "zh") == "34.92万名人才"
    assert figure_text(figure("12000", "companies"), "zh") == "1.2万家企业"
    assert figure_text(figure("150", "million_usd"), "zh") == "1.5亿美元"  # 15000万美元
    assert figure_text(figure("2001000000", "yuan"), "zh") == "20.01亿元"
    # not shortened where it would not stay short: 1.079506万元 is no easier than 10795.06元
    assert figure_text(figure("10795.06", "yuan"), "zh") == "10795.06元"
    assert figure_text(figure("9999", "companies"), "zh") == "9999家企业"
    assert figure_text(figure("43.55", "percent"), "zh") == "43.55%"


def test_english_yuan_amounts_as_the_sources_write_them() -> None:
    assert figure_text(figure("30000000", "yuan"), "en") == "30 million yuan"
    assert figure_text(figure("2001000000", "yuan"), "en") == "2.001 billion yuan"
    assert figure_text(figure("500000", "yuan"), "en") == "500,000 yuan"
    assert figure_text(figure("1234567", "yuan"), "en") == "1,234,567 yuan"  # 1.234567 million: not shorter
    assert figure_text(figure("3000000", "m2"), "en") == "3,000,000 square metres"


def test_ranges_and_one_period_per_sentence(mini_kb: KnowledgeBase) -> None:
    from dataclasses import replace

    from bot.knowledge.model import Entry

    facts = {
        "low": Entry("low", "fact", None, {}, "f", 1, figure=figure("10", "million_yuan")),
        "high": Entry("high", "fact", None, {}, "f", 2, figure=figure("40", "million_yuan")),
        "share": Entry("share", "fact", None, {}, "f", 3, figure=figure("43.55", "percent")),
        "old": Entry(
            "old",
            "fact",
            None,
            {},
            "f",
            4,
            figure=replace(figure("5", "companies"), period={"en": "2021", "zh": "2021年"}),
        ),
    }
    answer = Entry(
        "a",
        "faq",
        None,
        {"en": ("q",), "zh": ("问",)},
        "f",
        5,
        answer={
            "en": "New drugs get between {{low}} and {{high}}. It was {{low}} and {{share}}, against {{old}}.",
            "zh": "新药可获得{{low}}至{{high}}支持。此前为{{low}}和{{share}}，对比{{old}}。",
        },
    )
    kb = replace(mini_kb, entries={**mini_kb.entries, **facts, "a": answer})
    # issue 15: "between 10 million yuan (2023) and 40 million yuan (2023)"
    assert render_answer(kb, answer, "en").body == (
        "New drugs get 10-40 million yuan (2022). It was 10 million yuan and 43.55% (2022), against 5 companies (2021)."
    )
    assert render_answer(kb, answer, "zh").body == (
        "新药可获得1000万至4000万元（2022年）支持。此前为1000万元和43.55%（2022年），对比5家企业（2021年）。"
    )
    assert render_answer(kb, answer, "zh-Hant").body.startswith("新藥可獲得1000萬至4000萬元（2022年）支持。")
