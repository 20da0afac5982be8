"""Loading a folder: the whole knowledge base, the folder itself, and staying linear."""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import bot.knowledge
from bot.knowledge.load import load_knowledge_base
from bot.knowledge.model import KnowledgeBase
from tests.conftest import TODAY


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


def test_missing_folder() -> None:
    result = load_knowledge_base(Path("/nonexistent/faq"))
    assert result.kb is None
    assert "not found" in str(result.issues[0])


def test_unreadable_folder(kb_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb_copy.chmod(0o300)  # can enter, cannot list
    try:
        if os.access(kb_copy, os.R_OK):
            real_scandir = os.scandir

            def fake_scandir(path: Any = ".") -> Any:
                if Path(path) == kb_copy:
                    raise PermissionError(13, "Permission denied", str(path))
                return real_scandir(path)

            monkeypatch.setattr(os, "scandir", fake_scandir)
        result = load_knowledge_base(kb_copy, today=TODAY)
    finally:
        kb_copy.chmod(0o755)
    assert result.kb is None
    assert [str(i) for i in result.errors] == [f"{kb_copy}:0: -: cannot read the folder: Permission denied"]


def test_control_character_at_startup_reload_and_check(
    kb_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.assistant import Knowledge, KnowledgeBaseInvalid
    from bot.cli import main
    from bot.config import MatchingConfig

    knowledge = Knowledge(kb_copy, MatchingConfig())
    knowledge.load()
    serving = knowledge.kb
    (kb_copy / "pasted.yaml").write_bytes(b"- id: pasted\n  questions: {en: [pasted\x0c text]}\n  answer: {en: x}\n")
    expected = "faq/pasted.yaml:2: -: invisible control character U+000C (form feed) at column 26"
    # The live reload (the watcher and /reload): refused with the line, the serving version kept.
    reloaded = knowledge.load()
    assert knowledge.kb is serving
    assert any(str(e).startswith(expected) for e in reloaded.errors), reloaded.errors
    # Startup: refused with the same issues, not a traceback.
    with pytest.raises(KnowledgeBaseInvalid) as refused:
        Knowledge(kb_copy, MatchingConfig()).load()
    assert any(str(e).startswith(expected) for e in refused.value.result.errors)
    # etown-bot check: file:line on stderr, exit 1.
    monkeypatch.chdir(kb_copy.parent)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    code = main(["check", "--faq", str(kb_copy)])
    err = capsys.readouterr().err
    assert code == 1
    assert any(line.startswith(expected) for line in err.splitlines()), err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- validation stays linear


def _many_phrasings(directory: Path, count: int) -> None:
    """One entry with ``count`` phrasings (two of them repeated), and count/5 entries with errors."""
    lines = ["- id: bulk", "  questions:", "    en:"]
    lines += [f"      - question {i} about park {i % 97}" for i in range(count)]
    lines += ["      - question 0 about park 0", "      - question 1 about park 1", "  answer: {en: x}"]
    for i in range(count // 5):
        lines += [f"- id: broken-{i}", f"  questions: {{en: [broken entry {i}]}}", "  answer: {}"]
    (directory / "bulk.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


# Every module of the package counts: the reader, the schema and the cross-checks alike.
PACKAGE = str(Path(bot.knowledge.__file__).parent) + os.sep


class _OverBudget(BaseException):  # not an Exception: load_knowledge_base's last-resort handler must not take it
    pass


def _kb_lines_executed(directory: Path, budget: int) -> int:
    """Lines of bot/knowledge/ executed by one load: a count, not a timing, so the machine's load cannot matter."""
    executed = 0

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal executed
        if event == "line":
            executed += 1
            if executed > budget:
                raise _OverBudget
        return local

    def calls(frame: Any, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename.startswith(PACKAGE) else None

    sys.settrace(calls)
    try:
        result = load_knowledge_base(directory, today=TODAY)
    except _OverBudget:
        pytest.fail(f"over {budget:,} lines of bot/knowledge/ executed")
    finally:
        sys.settrace(None)
    assert "bulk.yaml" in str(result.issues)  # it was read and checked
    return executed


def test_validation_is_linear_in_the_number_of_phrasings(tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    small.mkdir()
    large.mkdir()
    _many_phrasings(small, 1_000)
    _many_phrasings(large, 10_000)
    result = load_knowledge_base(large, today=TODAY)
    found = [str(i) for i in result.issues]
    # Each repeat is reported on its own line (it used to be the line of the first occurrence); a repeat
    # inside one entry is a warning (issue 17: real exports hold them).
    assert "large/bulk.yaml:10004: bulk: warning: question listed twice: 'question 0 about park 0'" in found
    assert "large/bulk.yaml:10005: bulk: warning: question listed twice: 'question 1 about park 1'" in found
    assert sum("'answer' has no text" in e for e in found) == 2_000
    executed_small = _kb_lines_executed(small, budget=10**9)
    # Ten times the phrasings, ten times the work (plus a little): a quadratic step would be a hundred times.
    executed_large = _kb_lines_executed(large, budget=15 * executed_small)
    assert executed_large < 15 * executed_small
