"""Nearest entries and the YAML suggestions for faq/."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.knowledge.load import load_knowledge_base
from bot.knowledge.model import KnowledgeBase
from bot.matching.matcher import Matcher
from bot.staff import queue, suggest
from tests.bot.staff.items import item
from tests.conftest import TODAY


def test_nearest_entries_are_the_top_three_best_first(mini_kb: KnowledgeBase, matcher: Matcher) -> None:
    nearest = suggest.nearest_entries("how many biotech companies are in yizhuang", mini_kb, matcher)
    assert 1 <= len(nearest) <= 3
    assert nearest[0].entry_id == "companies"
    assert nearest[0].headline == "How many biotech companies are in E-Town?"
    assert [n.score for n in nearest] == sorted((n.score for n in nearest), reverse=True)
    zh = suggest.nearest_entries("亦庄有多少生物企业", mini_kb, matcher)
    assert zh[0].entry_id == "companies" and zh[0].headline == "亦庄有多少家生物医药企业？"
    assert suggest.nearest_entries("", mini_kb, matcher) == ()


def suggestion_groups(matcher: Matcher) -> list[queue.Group]:
    items = [
        item(1, "how many biotech firms are there in yizhuang now", "2026-11-20T10:00:00+00:00"),
        item(2, "How many biotech companies are in E-Town?", "2026-11-20T11:00:00+00:00"),  # already a phrasing
        item(3, "Which international schools are in E-Town?", "2026-11-21T10:00:00+00:00"),
        item(4, "which international schools in etown", "2026-11-22T10:00:00+00:00"),
        item(5, "亦庄国际学校有哪些: '引号' #", "2026-11-23T10:00:00+00:00", lang="zh"),
        item(6, "What are office rents in E-Town?", "2026-11-24T10:00:00+00:00"),  # for staff (faq/README.md)
    ]
    return queue.group_items(items, matcher.normalizer)


def test_suggest_yaml_round_trips_and_separates_phrasings_from_new_entries(
    mini_kb: KnowledgeBase, matcher: Matcher
) -> None:
    text = suggest.suggest_yaml(suggestion_groups(matcher), mini_kb, matcher, min_score=0.5)
    data = yaml.safe_load(text)
    assert set(data) == {"phrasings", "new_entries"}
    assert data["phrasings"] == {"companies": {"en": ["how many biotech firms are there in yizhuang now"]}}
    assert "companies (mini_kb/entries.yaml:1)" in text or "companies (entries.yaml:1)" in text
    new = {e["id"]: e for e in data["new_entries"]}
    assert "international-schools-etown" in new
    schools = new["international-schools-etown"]
    assert schools["questions"] == {
        "en": ["which international schools in etown", "Which international schools are in E-Town?"]
    }
    assert schools["answer"] == {"en": "", "zh": ""}
    zh = next(e for e in data["new_entries"] if "zh" in e["questions"])
    assert zh["questions"]["zh"] == ["亦庄国际学校有哪些: '引号' #"]
    assert not any("rent" in e["id"] for e in data["new_entries"])  # rents go to staff, never a new entry
    assert "'What are office rents in E-Town?': names 'rent'" in text
    assert zh["id"] == "new-question"  # no Latin words to name it by
    assert all(e["id"] not in mini_kb.entries for e in data["new_entries"])


def test_suggest_yaml_empty_and_all_known(mini_kb: KnowledgeBase, matcher: Matcher) -> None:
    assert yaml.safe_load(suggest.suggest_yaml([], mini_kb, matcher)) == {"phrasings": {}, "new_entries": []}
    known = queue.group_items([item(1, "number of biotech firms in BDA", "2026-11-01")], matcher.normalizer)
    assert yaml.safe_load(suggest.suggest_yaml(known, mini_kb, matcher)) == {"phrasings": {}, "new_entries": []}


def test_pasted_suggestions_pass_the_knowledge_base_check(
    kb_copy: Path, mini_kb: KnowledgeBase, matcher: Matcher
) -> None:
    data = yaml.safe_load(suggest.suggest_yaml(suggestion_groups(matcher), mini_kb, matcher, min_score=0.5))
    entries_file = kb_copy / "entries.yaml"
    entries = yaml.safe_load(entries_file.read_text(encoding="utf-8"))

    # Pasted unedited, the skeletons are refused: their answers are empty.
    unedited = entries + data["new_entries"]
    entries_file.write_text(yaml.safe_dump(unedited, allow_unicode=True, sort_keys=False), encoding="utf-8")
    refused = load_knowledge_base(kb_copy, today=TODAY)
    assert refused.kb is None and any("answer" in issue.message for issue in refused.errors)

    for entry in entries:
        for lang, texts in data["phrasings"].get(entry["id"], {}).items():
            entry["questions"].setdefault(lang, []).extend(texts)
    for skeleton in data["new_entries"]:
        skeleton["answer"] = {"en": "Ask the park office.", "zh": "请咨询园区办公室。"}
    entries_file.write_text(
        yaml.safe_dump(entries + data["new_entries"], allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    result = load_knowledge_base(kb_copy, today=TODAY)
    assert result.kb is not None, [str(i) for i in result.errors]
    assert "how many biotech firms are there in yizhuang now" in result.kb.entries["companies"].questions["en"]
    assert "international-schools-etown" in result.kb.entries
    rematched = Matcher.from_knowledge_base(result.kb).match("Which international schools are in E-Town?")
    assert rematched.entry_id == "international-schools-etown"


def test_suggestions_are_safe_on_the_shipped_knowledge_base() -> None:
    # issue 17: each harmful suggestion seen by staff, now left out with its reason
    from bot.assistant import Knowledge
    from bot.config import PACKAGED_FAQ_DIR, MatchingConfig

    knowledge = Knowledge(PACKAGED_FAQ_DIR, MatchingConfig())
    knowledge.load()
    texts = [
        "What are office rents in Yizhuang?",
        "What is the corporate tax rate in BDA?",
        "How much is Sanofi investing in a vaccine plant?",
        "please read this: " + "our company plans to expand " * 120,
        "hello",
        "asdkjh qwe",
        "How many biotech companies does Yizhuang host these days?",
        "Who is the CEO of Sanofi China?",
    ]
    items = [item(n, text, f"2026-11-{10 + n}T10:00:00+00:00") for n, text in enumerate(texts, 1)]
    groups = queue.group_items(items, knowledge.matcher.normalizer)
    text = suggest.suggest_yaml(groups, knowledge.kb, knowledge.matcher)
    data = yaml.safe_load(text)
    assert data["new_entries"] == []
    assert data["phrasings"] == {
        "biotech-companies": {"en": ["How many biotech companies does Yizhuang host these days?"]}
    }
    assert "names 'rent', a topic faq/README.md says goes to staff" in text
    assert "names 'tax'" in text
    assert "sanofi does not know its word 'vaccine'" in text
    assert "'Who is the CEO of Sanofi China?': names entry sanofi" in text  # extend it, no new neighbour
    assert "too long to be a phrasing" in text
    assert "hello" not in text and "asdkjh" not in text


def test_repeated_picks_are_proposed_first(mini_kb: KnowledgeBase, matcher: Matcher) -> None:
    # issue 17: the same question picked with the same entry by several investors told the bot the answer
    picks = [
        ("how many life science firms are there", "companies", 1),
        ("How many life-science firms are there?", "companies", 1),  # the same after folding: 2 investors
        ("what is on the list", "policy-list", 1),  # one investor: not yet
    ]
    text = suggest.suggest_yaml(suggestion_groups(matcher), mini_kb, matcher, min_score=0.5, picks=picks)
    data = yaml.safe_load(text)
    assert data["phrasings"]["companies"]["en"][0] == "how many life science firms are there"
    assert "picked from a did-you-mean by 2 investors" in text
    assert "what is on the list" not in text
