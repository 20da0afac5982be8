"""Checks across records (ids, references, repeated questions) and the warnings."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from bot.knowledge.load import load_knowledge_base
from tests.bot.knowledge.files import add, issues_of
from tests.conftest import TODAY


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
    # broken.yaml was saved last, so the repeat is reported there (issue 17), though it sorts first.
    assert any(
        line.startswith("faq/broken.yaml:") and "dup-question: the same question is in entry 'policy-list'" in line
        for line in found
    ), found
    assert load_knowledge_base(kb_copy, today=TODAY).kb is None


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


def test_a_source_list_cites_every_page_and_a_fact_from_an_original_page_is_verified(kb_copy: Path) -> None:
    add(
        kb_copy,
        "sources-list.yaml",
        """\
- id: two-pages
  metric: {en: Something, zh: 某事}
  value: 3
  unit: count
  period: "2025"
  note: {en: n, zh: n}
  source: [s6, s9]
- id: reprints-only
  metric: {en: Other, zh: 其他}
  value: 4
  unit: count
  period: "2025"
  note: {en: n, zh: n}
  source: [s9]
- id: twice
  metric: {en: Third, zh: 第三}
  value: 5
  unit: count
  period: "2025"
  note: {en: n, zh: n}
  source: [s6, s6]
- id: empty-list
  questions: {en: [a question about an empty source list]}
  answer: {en: x}
  source: []
""",
    )
    lines = issues_of(kb_copy)
    assert not any("two-pages" in line for line in lines), lines
    assert any("reprints-only: source 's9' is a reprint: mark the figure 'verified: false'" in line for line in lines)
    assert any("twice: the same source is listed twice under 'source'" in line for line in lines)
    assert any("empty-list: 'source' is an empty list" in line for line in lines)


def test_superseded_by_names_a_fact_and_silences_the_old_figure_warning(kb_copy: Path) -> None:
    old = """\
- id: old-count
  metric: {en: Old count, zh: 旧数}
  value: 1
  unit: count
  period: "2021"
  note: {en: n, zh: n}
  source: s0
  superseded_by: NEWER
"""
    add(kb_copy, "old.yaml", old.replace("NEWER", "nowhere"))
    assert any("old-count: superseded_by 'nowhere' is not the id of a fact" in line for line in issues_of(kb_copy))
    add(kb_copy, "old.yaml", old.replace("NEWER", "old-count"))
    assert any("old-count: a fact cannot supersede itself" in line for line in issues_of(kb_copy))
    newer = "\n".join(
        line.replace("old-count", "new-count").replace("s0", "s6").replace('"2021"', '"2025"')
        for line in old.splitlines()
        if "superseded_by" not in line
    )
    add(kb_copy, "old.yaml", old.replace("NEWER", "new-count") + newer + "\n")
    result = load_knowledge_base(kb_copy, today=TODAY)
    assert result.kb is not None and result.kb.entries["old-count"].superseded_by == "new-count"
    assert not any("old-count" in str(issue) for issue in result.issues)


def test_a_review_stamp_cannot_be_in_the_future_or_before_the_source(kb_copy: Path) -> None:
    fact = """\
- id: stamped
  metric: {en: Stamped, zh: 盖章}
  value: 1
  unit: count
  period: "2023"
  note: {en: n, zh: n}
  source: s0
  reviewed: DATE
"""
    add(kb_copy, "stamped.yaml", fact.replace("DATE", (TODAY + dt.timedelta(days=1)).isoformat()))
    assert any("stamped: 'reviewed' is a date in the future" in line for line in issues_of(kb_copy))
    add(kb_copy, "stamped.yaml", fact.replace("DATE", "2023-01-01"))
    before = "stamped: 'reviewed' is before the source was published (2023-09-13)"
    assert any(before in line for line in issues_of(kb_copy))
    add(kb_copy, "stamped.yaml", fact.replace("DATE", TODAY.isoformat()))
    assert not any("stamped" in line for line in issues_of(kb_copy))


def test_text_read_as_a_mapping_is_named_as_such(kb_copy: Path) -> None:
    # issue 17: an unquoted "Note: ..." on the line after 'en:' is YAML for a mapping, not an empty answer
    add(kb_copy, "note.yaml", "- id: noted\n  questions: {en: [a noted question]}\n  answer:\n    en:\n      Note: x\n")
    lines = issues_of(kb_copy)
    assert any("noted: 'answer.en' is a mapping ('Note: ...'), not a text" in line for line in lines), lines
    assert not any("empty" in line for line in lines if "noted" in line)


def test_a_publication_date_in_the_future_is_an_error(kb_copy: Path) -> None:
    future = (TODAY + dt.timedelta(days=40)).isoformat()
    add(
        kb_copy,
        "future.yaml",
        f"""\
- id: from-the-future
  questions: {{en: [a question about a future page]}}
  answer: {{en: x}}
  source: {{title: A page, url: "http://example.com/page", published: {future}}}
""",
    )
    assert f"faq/future.yaml:4: from-the-future: publication date {future} is in the future" in issues_of(kb_copy)


def test_a_file_that_cannot_be_read_is_reported_once_not_through_every_reference(kb_copy: Path) -> None:
    add(
        kb_copy,
        "refers.yaml",
        "- id: refers\n  questions: {en: [a question that refers]}\n  answer: {en: x}\n  related: [lost-entry]\n",
    )
    add(kb_copy, "lost.yaml", "- id: lost-entry\n  questions: {en: [a, b\n  answer: x\n")
    lines = [line for line in issues_of(kb_copy) if "warning" not in line]
    assert [line for line in lines if "lost" in line or "refers" in line] == [
        "faq/lost.yaml:3: lost-entry: YAML syntax error (column 9): a list in [ ] is not closed with ']', or one of"
        " its items needs quotes"
    ]


def test_a_repeated_question_is_reported_in_the_file_saved_last(kb_copy: Path) -> None:
    # issue 17: the new file sorts before the old one, the repeat is still reported where it was added
    for path in kb_copy.iterdir():
        os.utime(path, (1_000_000, 1_000_000))
    add(
        kb_copy,
        "a-new.yaml",
        '- id: newly-added\n  questions: {en: ["What is in the support policy list?"]}\n  answer: {en: x}\n',
    )
    lines = [line for line in issues_of(kb_copy) if "the same question" in line]
    assert len(lines) == 1 and lines[0].startswith("faq/a-new.yaml:2: newly-added:"), lines
