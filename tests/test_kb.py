from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from bot.kb import KnowledgeBase, load_knowledge_base
from tests.conftest import TODAY


def issues_of(directory: Path, today: dt.date = TODAY) -> list[str]:
    return [str(i) for i in load_knowledge_base(directory, today=today).issues]


def add(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def test_mini_kb_loads(mini_kb: KnowledgeBase) -> None:
    assert set(mini_kb.entries) == {"companies", "support-measures", "policy-list", "english-only"}
    companies = mini_kb.entries["companies"]
    assert companies.kind == "fact"
    assert companies.figure is not None
    assert companies.figure.value == Decimal("5000")
    assert companies.history[0].value == Decimal("4200")
    assert mini_kb.entries["english-only"].languages == ("en",)
    # A fact without questions is data only, not something investors can reach.
    assert "support-measures" not in {e.id for e in mini_kb.matchable()}
    assert [t.id for t in mini_kb.topics] == ["overview", "policy"]


def test_packaged_knowledge_base_is_valid() -> None:
    from bot.config import PACKAGED_FAQ_DIR

    result = load_knowledge_base(PACKAGED_FAQ_DIR)
    assert result.errors == [], [str(i) for i in result.errors]


def test_every_problem_reported_at_once_with_file_line_and_id(kb_copy: Path) -> None:
    add(
        kb_copy,
        "broken.yaml",
        """\
- id: companies
  questions: {en: [a question that is new]}
  answer: {en: dup id}
- id: Bad_Id
  questions: {en: [another new question]}
  answer: {en: x}
- id: no-answer
  questions: {en: [yet another question]}
- id: unknown-key
  questions: {en: [fourth new question]}
  answer: {en: x}
  colour: red
- id: dup-question
  questions: {en: ["What is in the support policy list?"]}
  answer: {en: x}
- id: bad-related
  questions: {en: [fifth new question]}
  answer: {en: x}
  related: [nowhere]
- id: empty-answer
  questions: {en: [sixth new question]}
  answer: {en: "  "}
- id: bad-source
  questions: {en: [seventh new question]}
  answer: {en: x}
  source: {title: T, url: "not a url", published: 2024-13-01}
- id: bad-topic
  topic: weather
  questions: {en: [eighth new question]}
  answer: {en: "{{nothing}}"}
- id: an-id-that-is-far-too-long-to-travel-in-a-telegram-button
  questions: {en: [ninth new question]}
  answer: {en: x}
""",
    )
    found = issues_of(kb_copy)
    expected = [
        "faq/entries.yaml:1: companies: duplicate id (first defined at faq/broken.yaml:1)",
        "faq/broken.yaml:4: Bad_Id: id must be lower-case letters, digits and '-'",
        "faq/broken.yaml:7: no-answer: missing field 'answer'",
        "faq/broken.yaml:12: unknown-key: unknown key 'colour'",
        "faq/broken.yaml:19: bad-related: related id 'nowhere' does not exist",
        "faq/broken.yaml:22: empty-answer: 'answer.en' is empty",
        "faq/broken.yaml:26: bad-source: malformed URL 'not a url'",
        "faq/broken.yaml:26: bad-source: malformed date '2024-13-01'",
        "faq/broken.yaml:28: bad-topic: unknown topic 'weather'",
        "faq/broken.yaml:30: bad-topic: '{{nothing}}' is not the id of a fact",
        "faq/broken.yaml:31: an-id-that-is-far-too-long-to-travel-in-a-telegram-button: id is longer than 48",
    ]
    for prefix in expected:
        assert any(line.startswith(prefix) for line in found), (prefix, found)
    # Files load in name order, so the question is reported where it appears second.
    assert any(
        line.startswith("faq/entries.yaml:") and "policy-list: the same question is in entry 'dup-question'" in line
        for line in found
    ), found
    assert load_knowledge_base(kb_copy, today=TODAY).kb is None


def test_yaml_syntax_error_names_line(kb_copy: Path) -> None:
    add(kb_copy, "syntax.yaml", "- id: x\n  questions: {en: [a\n  answer: b\n")
    found = issues_of(kb_copy)
    assert any(line.startswith("faq/syntax.yaml:") and "YAML error" in line for line in found), found


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"- !!python/object/apply:os.system ['echo hacked']\n", "tags such as !!python"),
        (b"a: &a [1, 2]\nb: *a\n", "anchors and aliases"),
        (b"- id: x\n  answer: {en: \xff\xfe}\n", "not valid UTF-8"),
        (b"x: " + b"[" * 100 + b"]" * 100 + b"\n", "nested deeper"),
        (b"- id: a\n  id: b\n", "appears twice"),
    ],
)
def test_hostile_files_give_clear_errors(kb_copy: Path, content: bytes, message: str) -> None:
    (kb_copy / "hostile.yaml").write_bytes(content)
    found = issues_of(kb_copy)
    assert any(line.startswith("faq/hostile.yaml:") and message in line for line in found), found


def test_billion_laughs_is_refused_quickly(kb_copy: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join(['*a' + str(i - 1)] * 9)}]" for i in range(1, 10)]
    (kb_copy / "bomb.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = issues_of(kb_copy)
    assert any("bomb.yaml" in line and "aliases" in line for line in found)


def test_huge_file_is_refused(kb_copy: Path) -> None:
    (kb_copy / "huge.yaml").write_bytes(b"# padding\n" * 600_000)
    assert any("huge.yaml:1" in line and "limit" in line for line in issues_of(kb_copy))


def test_reprint_needs_verified_false(kb_copy: Path) -> None:
    add(
        kb_copy,
        "reprint.yaml",
        """\
- id: reprinted-figure
  metric: {en: Something, zh: 某事}
  value: 3
  unit: count
  period: "2023"
  note: {en: n, zh: n}
  source: s9
""",
    )
    assert any("reprinted-figure: source 's9' is a reprint" in line for line in issues_of(kb_copy))


def test_warnings_for_thin_entries_and_old_facts(kb_copy: Path) -> None:
    add(
        kb_copy,
        "thin.yaml",
        """\
- id: thin
  questions: {en: [only one phrasing here]}
  answer: {en: x}
- id: old-figure
  metric: {en: Old, zh: 旧}
  value: 1
  unit: count
  period: "2023"
  note: {en: n, zh: n}
  source: s0
""",
    )
    result = load_knowledge_base(kb_copy, today=TODAY)
    assert result.kb is not None  # warnings do not refuse the files
    warnings = [str(w) for w in result.warnings]
    assert any("thin: warning: only 1 en phrasing" in w for w in warnings)
    assert any("old-figure: warning: figure from a source published 2023-09-13" in w for w in warnings)
    # The same fact was not stale a year earlier.
    earlier = load_knowledge_base(kb_copy, today=dt.date(2025, 1, 1))
    assert not any("old-figure" in str(w) for w in earlier.warnings)


def test_missing_folder() -> None:
    result = load_knowledge_base(Path("/nonexistent/faq"))
    assert result.kb is None
    assert "not found" in str(result.issues[0])
