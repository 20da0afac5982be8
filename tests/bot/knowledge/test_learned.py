"""faq/learned.yaml: phrasings learned from staff, checked like any edit and undoable (issue 17, item 1)."""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.learned import learn, learned_path, read_items, unlearn
from bot.knowledge.load import load_knowledge_base
from tests.bot.knowledge.files import add, issues_of
from tests.conftest import TODAY


def test_learn_adds_a_phrasing_that_the_knowledge_base_then_has(kb_copy: Path) -> None:
    outcome = learn(kb_copy, "companies", "count of life-science firms in the zone", "en", item=7, by=9001, today=TODAY)
    assert outcome.ok, outcome.message
    kb = load_knowledge_base(kb_copy, today=TODAY).kb
    assert kb is not None
    assert "count of life-science firms in the zone" in kb.entries["companies"].questions["en"]
    (item,) = read_items(kb_copy)
    assert item == {
        "entry": "companies",
        "question": "count of life-science firms in the zone",
        "lang": "en",
        "item": 7,
        "added": TODAY.isoformat(),
        "by": 9001,
    }
    assert issues_of(kb_copy) == [i for i in issues_of(kb_copy) if "learned" not in i]


def test_learn_refuses_a_repeat_an_unknown_entry_and_a_pasted_message(kb_copy: Path) -> None:
    repeat = learn(kb_copy, "policy-list", "How many biotech companies are in E-Town?", "en", today=TODAY)
    assert not repeat.ok and "already a phrasing of companies" in repeat.message
    assert not learn(kb_copy, "nowhere", "a new question", "en", today=TODAY).ok
    long = learn(kb_copy, "companies", "word " * 100, "en", today=TODAY)
    assert not long.ok and "not a phrasing" in long.message
    assert not learned_path(kb_copy).exists()  # nothing was written


def test_unlearn_removes_it_and_the_file_when_empty(kb_copy: Path) -> None:
    assert learn(kb_copy, "companies", "number of biotech businesses here", "en", item=3, today=TODAY).ok
    assert learn(kb_copy, "policy-list", "what does the support list hold", "en", item=4, today=TODAY).ok
    assert unlearn(kb_copy, item=3).ok
    assert [i["item"] for i in read_items(kb_copy)] == [4]
    assert not unlearn(kb_copy, item=3).ok
    assert unlearn(kb_copy, question="What does the support list hold?").ok
    assert not learned_path(kb_copy).exists()


def test_a_learned_phrasing_never_stops_a_reload(kb_copy: Path) -> None:
    # Staff may delete the entry or add the same question by hand later: warnings, and the files load.
    add(
        kb_copy,
        "learned.yaml",
        '- entry: gone-entry\n  question: "a question for a removed entry"\n'
        '- entry: companies\n  question: "How many biotech companies are in E-Town?"\n',
    )
    result = load_knowledge_base(kb_copy, today=TODAY)
    assert result.kb is not None
    warnings = [str(w) for w in result.warnings]
    assert any("gone-entry: warning: learned for an entry that no longer exists" in w for w in warnings)
    assert any("companies: warning: already a phrasing of 'companies'" in w for w in warnings)


def test_a_broken_learned_file_is_reported_at_its_line(kb_copy: Path) -> None:
    add(kb_copy, "learned.yaml", '- entry: companies\n  question: "x"\n  lang: fr\n- {entry: companies}\n')
    lines = issues_of(kb_copy)
    assert "faq/learned.yaml:3: companies: learned 'lang' must be en or zh (got 'fr')" in lines
    assert any(line.startswith("faq/learned.yaml:4:") and "missing field 'question'" in line for line in lines)
