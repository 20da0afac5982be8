"""Writing knowledge-base files into a test folder and reading back what loading said about them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.knowledge.load import load_knowledge_base
from tests.conftest import TODAY

# Another file with an ordinary mistake: it must still be checked and reported next to the hostile one.
ALSO_BROKEN = "- id: also-broken\n  questions: {en: [a question nobody else asks]}\n"
ALSO_BROKEN_ERROR = "faq/also.yaml:1: also-broken: missing field 'answer'"


def issues_of(directory: Path, today: dt.date = TODAY) -> list[str]:
    return [str(i) for i in load_knowledge_base(directory, today=today).issues]


def add(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def errors_with_also_broken(kb_copy: Path) -> list[str]:
    """Every error, after checking that the other broken file was still read and the files refused."""
    add(kb_copy, "also.yaml", ALSO_BROKEN)
    result = load_knowledge_base(kb_copy, today=TODAY)
    errors = [str(i) for i in result.errors]
    assert result.kb is None
    assert ALSO_BROKEN_ERROR in errors, errors
    return errors
