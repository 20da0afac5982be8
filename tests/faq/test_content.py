"""The shipped knowledge base as an analyst would read it: every entry rendered in both languages and
checked for what can be checked mechanically (issue 16)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bot.config import PACKAGED_FAQ_DIR
from bot.knowledge.load import load_knowledge_base
from bot.knowledge.model import Entry, KnowledgeBase
from bot.render import Answer, render_answer

_CJK = re.compile(r"[\u4e00-\u9fff]")
_BRACKETED = re.compile(r"（[^（）]*）|\([^()]*\)")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    loaded = load_knowledge_base(PACKAGED_FAQ_DIR)
    assert loaded.kb is not None
    return loaded.kb


def _rendered(kb: KnowledgeBase, lang: str) -> Iterator[tuple[Entry, Answer]]:
    for entry in kb.entries.values():
        if lang in entry.languages:
            yield entry, render_answer(kb, entry, lang)


def test_check_reports_no_error_and_no_warning() -> None:
    loaded = load_knowledge_base(PACKAGED_FAQ_DIR)
    assert [str(issue) for issue in loaded.issues] == []


def test_every_entry_renders_in_both_languages(kb: KnowledgeBase) -> None:
    for entry in kb.entries.values():
        if entry.id == "contact-staff" or entry.kind == "faq":
            assert set(entry.languages) == {"en", "zh"}, entry.id
        for lang in entry.languages:
            answer = render_answer(kb, entry, lang)
            assert answer.body and "{{" not in answer.body, entry.id


def test_chinese_answers_use_chinese_quotes_and_grammar(kb: KnowledgeBase) -> None:
    for entry, answer in _rendered(kb, "zh"):
        assert '"' not in answer.body and "'" not in answer.body, (entry.id, answer.body)
        assert "达到超过" not in answer.body, entry.id  # "已突破1万亿元", not "规模达到超过"


def _latin_pattern(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])", re.IGNORECASE)


def test_company_names_in_chinese_answers_are_chinese_when_the_synonyms_give_one(kb: KnowledgeBase) -> None:
    # A synonym group with a Latin and a Chinese name (astrazeneca = 阿斯利康): a Chinese answer naming the
    # company in Latin letters names it in Chinese too ("阿斯利康（AstraZeneca）").
    groups = [
        ([t for t in group if not _CJK.search(t)], [t for t in group if _CJK.search(t)])
        for group in kb.synonyms
        if any(_CJK.search(t) for t in group) and any(not _CJK.search(t) for t in group)
    ]
    # English in brackets after the Chinese name is the sourced name, kept on purpose: "拜耳（Bayer）".
    missing = []
    for entry, answer in _rendered(kb, "zh"):
        outside = _BRACKETED.sub("", answer.body)
        for latin, chinese in groups:
            named = [t for t in latin if len(t) > 3 and _latin_pattern(t).search(outside)]
            if named and not any(t.lower() in answer.body.lower() for t in chinese):
                missing.append((entry.id, named[0], chinese[0]))
    assert missing == []


def test_every_source_of_a_fact_is_cited_where_the_fact_is_shown(kb: KnowledgeBase) -> None:
    for lang in ("en", "zh"):
        for entry, answer in _rendered(kb, lang):
            cited = {line.url for line in answer.sources}
            own = entry.figure.sources if entry.figure else entry.sources
            assert {source.url for source in own} <= cited, entry.id
            text = " ".join(entry.answer.values())
            for fact_id in re.findall(r"\{\{\s*([^{}\s]+)\s*\}\}", text):
                fact = kb.entries[fact_id]
                assert fact.figure is not None
                assert {source.url for source in fact.figure.sources} <= cited, (entry.id, fact_id)


def test_a_figure_from_an_original_page_is_shown_as_verified(kb: KnowledgeBase) -> None:
    for lang in ("en", "zh"):
        for entry, answer in _rendered(kb, lang):
            for line in answer.sources:
                original = next(s for s in kb.sources.values() if s.url == line.url) if kb.sources else None
                if original is not None and not original.reprint and entry.figure is None:
                    assert line.verified, (entry.id, line.title)


def test_an_older_fact_names_its_newer_figure(kb: KnowledgeBase) -> None:
    # issue 16: the 2021 company count kept on its own must not read as the current one
    english = render_answer(kb, kb.entries["biotech-companies-2021"], "en")
    assert "more than 1,700 companies" in english.body
    assert "The newest figure — " in english.body and "more than 5,000 companies (October 2025)" in english.body
    chinese = render_answer(kb, kb.entries["biotech-companies-2021"], "zh")
    assert "最新数据——" in chinese.body and "超过5000家企业（2025年10月）" in chinese.body
    assert {line.url for line in kb.entries["biotech-companies"].figure.sources} <= {  # type: ignore[union-attr]
        line.url for line in english.sources
    }


def test_a_statement_confirmed_by_an_original_page_shows_it_beside_the_reprint(kb: KnowledgeBase) -> None:
    # issue 16: Pfizer's BioPark R&D centre is confirmed by s20; "its third in China" comes from the reprint s22
    answer = render_answer(kb, kb.entries["pfizer"], "en")
    flags = {line.url: line.verified for line in answer.sources}
    assert flags == {kb.sources["s20"].url: True, kb.sources["s22"].url: False}
    counts = render_answer(kb, kb.entries["biotech-companies"], "en")
    assert {kb.sources["s6"].url, kb.sources["s7"].url} <= {line.url for line in counts.sources}
