"""``etown-bot kb list|show|diff|import|export`` (issue 17, item 4): what the bot knows without opening YAML."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from bot.knowledge.load import load_knowledge_base
from tests.bot.cli.test_cli import _no_local_config, run  # noqa: F401  (the same isolation and runner)
from tests.conftest import MINI_KB


def test_list_every_entry_and_by_topic(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "kb", "list", "--faq", str(MINI_KB))
    assert code == 0
    ids = [line.split()[0] for line in out.splitlines()]
    assert set(ids) == {"companies", "support-measures", "policy-list", "english-only"}
    assert "4 entries" in err
    code, out, _ = run(capsys, "kb", "list", "--faq", str(MINI_KB), "--json")
    records = [json.loads(line) for line in out.splitlines()]
    assert {"id", "kind", "topic", "phrasings", "headline", "file", "line"} <= set(records[0])
    facts = {r["id"] for r in records if r["kind"] == "fact"}
    assert facts == {"companies", "support-measures"}
    topic = records[0]["topic"]
    _code, out, _ = run(capsys, "kb", "list", "--faq", str(MINI_KB), "--topic", topic, "--json")
    assert {json.loads(line)["topic"] for line in out.splitlines()} == {topic}
    code, _out, err = run(capsys, "kb", "list", "--faq", str(MINI_KB), "--topic", "weather")
    assert code == 2 and "no topic 'weather'" in err


def test_show_gives_phrasings_both_answers_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "kb", "show", "companies", "--faq", str(MINI_KB))
    assert code == 0
    assert "phrasings, en" in out and "phrasings, zh" in out
    assert "answer, en:" in out and "answer, zh:" in out
    assert "more than 5,000" in out and "5000" in out  # the English and the Chinese rendering
    assert "sources:" in out and "https://www.wam.ae/" in out
    code, _out, err = run(capsys, "kb", "show", "compnies", "--faq", str(MINI_KB))
    assert code == 2 and "did you mean: companies" in err


def test_diff_says_what_a_reload_would_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    draft = tmp_path / "draft"
    shutil.copytree(MINI_KB, draft)
    entries = draft / "entries.yaml"
    text = entries.read_text(encoding="utf-8")
    entries.write_text(
        text + "- id: office-hours\n  questions:\n    en: [when are you open, opening hours, office hours]\n"
        "  answer: {en: We are open on weekdays.}\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "kb", "diff", str(draft), "--faq", str(MINI_KB))
    assert code == 0
    assert "added: office-hours" in out
    entries.write_text(text.replace("5000", "5200", 1), encoding="utf-8")
    _code, out, _ = run(capsys, "kb", "diff", str(draft), "--faq", str(MINI_KB))
    assert "changed: companies (figure" in out
    (draft / "broken.yaml").write_text("- id: x\n  questions: {en: [a\n", encoding="utf-8")
    code, out, _ = run(capsys, "kb", "diff", str(draft), "--faq", str(MINI_KB))
    assert code == 1 and "a reload would be refused" in out and "YAML syntax error" in out


TSV = (
    "Question\tAnswer\tSource\tMetadata\n"
    "How do I register a company?\tAt the service centre, with your business licence.\tEditorial\ttopic:policy\n"
    "how do i register a company\tAt the service centre, with your business licence.\tEditorial\t\n"
    "How do I register a company??\tAt the service centre,  with your business licence.\tEditorial\t\n"
    "Company registration steps\tAt the service centre, with your business licence.\tEditorial\t\n"
    "怎么注册公司？\tAt the service centre, with your business licence.\tEditorial\t\n"
    "What are your opening hours?\tWeekdays, 9:00 to 17:00.\thttps://example.com/hours\t\n"
    "When are you open?\tWeekdays, 9:00 to 17:00.\t\t\n"
    "Opening times\tWeekdays, 9:00 to 17:00.\t\t\n"
    "\tAn answer without a question.\t\t\n"
    f"{'x' * 400}\tA pasted message.\t\t\n"
)


def test_import_a_qna_maker_tsv_with_exact_and_near_duplicates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "old faq.tsv"
    source.write_text(TSV, encoding="utf-8-sig")  # Excel and QnA Maker write a byte-order mark
    target = tmp_path / "imported"
    code, out, err = run(capsys, "kb", "import", str(source), "--into", str(target))
    assert code == 0, err
    assert "2 entries, 6 phrasings from 10 rows" in out
    assert "0 errors" in out
    assert err.count("repeats row 2 (after folding case and punctuation)") == 2
    assert "row 10: no question: skipped" in err and "row 11: a question of 400 characters" in err
    result = load_knowledge_base(target)
    assert result.kb is not None, [str(i) for i in result.issues]
    registration = next(e for e in result.kb.entries.values() if "register" in e.id)
    assert registration.questions["en"] == ("How do I register a company?", "Company registration steps")
    assert registration.questions["zh"] == ("怎么注册公司？",)
    assert registration.answer["en"] == "At the service centre, with your business licence."
    # A second import of the same rows into the same folder repeats nothing.
    again = tmp_path / "again.tsv"
    again.write_text(TSV, encoding="utf-8")
    code, out, err = run(capsys, "kb", "import", str(again), "--into", str(target))
    assert code == 1 and "no row with a question and an answer" in err and "repeats entry" in err


def test_import_a_csv_with_question_and_answer_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "faq.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(
        [
            ["answer", "question"],
            ["Note: rents are set by each park.", "What is the rent?"],
            ["Note: rents are set by each park.", "rent per m2"],
            ["Note: rents are set by each park.", "租金多少"],
        ]
    )
    source.write_text(buffer.getvalue(), encoding="utf-8")
    code, _out, err = run(capsys, "kb", "import", str(source), "--into", str(tmp_path / "kb"))
    assert code == 0, err
    kb = load_knowledge_base(tmp_path / "kb").kb
    assert kb is not None
    (entry,) = kb.entries.values()
    assert entry.answer["en"] == "Note: rents are set by each park."  # a colon in the text stays text


def test_import_refuses_a_file_without_the_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "list.csv"
    source.write_text("name,phone\nAlice,123\n", encoding="utf-8")
    code, _out, err = run(capsys, "kb", "import", str(source), "--into", str(tmp_path / "kb"))
    assert code == 1 and "no question and answer columns" in err


def test_export_tsv_round_trips_through_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "kb.tsv"
    code, _out, err = run(capsys, "kb", "export", "--format", "tsv", "--faq", str(MINI_KB), "--output", str(output))
    assert code == 0 and "rows" in err
    rows = list(csv.reader(io.StringIO(output.read_text(encoding="utf-8")), delimiter="\t"))
    assert rows[0] == ["Question", "Answer", "Source", "Metadata"]
    kb = load_knowledge_base(MINI_KB).kb
    assert kb is not None
    phrasings = sum(len(q) for e in kb.matchable() for q in e.questions.values())
    assert len(rows) - 1 == phrasings
    assert any("entry:companies" in row[3] for row in rows[1:])
    code, _out, err = run(capsys, "kb", "import", str(output), "--into", str(tmp_path / "copy"))
    assert code == 0, err
    copied = load_knowledge_base(tmp_path / "copy").kb
    assert (
        copied is not None and sum(len(q) for e in copied.entries.values() for q in e.questions.values()) == phrasings
    )
