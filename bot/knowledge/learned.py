"""Phrasings the bot learned from staff: ``faq/learned.yaml``.

When staff answer a queued question with an entry (the staff chat's "Answer with ... + add phrasing",
``etown-bot unanswered learn`` or ``answer --entry ... --learn``), the question becomes a phrasing of that
entry: one item of this file, validated with the whole knowledge base before it is kept (an edit that would
not load is undone at once), live at the next reload, and removed again by ``unlearn``.

The file is the staff's too: items can be edited or deleted by hand. The bot rewrites it when it adds or
removes an item, keeping the header comment only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.model import LANGS, LoadResult
from bot.knowledge.schema import LEARNED_FILE, MAX_LEARNED_CHARS

HEADER = (
    "# Phrasings the bot learned from staff: each question staff answered with an entry ('Answer with ... +\n"
    "# add phrasing' in the staff chat, 'etown-bot unanswered learn ID ENTRY'). Checked like any edit; edit or\n"
    "# delete items freely ('etown-bot unanswered unlearn ID' removes one). The bot rewrites this file when it\n"
    "# adds or removes an item and keeps only this comment.\n"
)


@dataclass(frozen=True)
class Outcome:
    """What ``learn`` or ``unlearn`` did: ``ok``, and a message for staff either way."""

    ok: bool
    message: str
    result: LoadResult | None = None


def learned_path(directory: Path) -> Path:
    return directory / LEARNED_FILE


def _text(directory: Path) -> str | None:
    path = learned_path(directory)
    return path.read_text(encoding="utf-8") if path.exists() else None


def read_items(directory: Path, text: str | None = None) -> list[dict[str, Any]]:
    """The file's items as written (``text``: the file's, when the caller read it already; an absent or empty
    file has none; an unreadable one raises ValueError or yaml.YAMLError)."""
    text = _text(directory) if text is None else text
    data = yaml.safe_load(text) if text is not None else None
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ValueError(f"{LEARNED_FILE} must be a list of {{entry, question}} items")
    return data


def render(items: list[dict[str, Any]]) -> str:
    """The file's text: the header, then one block per item, every text quoted (a colon stays text)."""
    lines = [HEADER]
    for item in items:
        lines.append(f"- entry: {item['entry']}")
        lines.append(f"  question: {json.dumps(str(item['question']), ensure_ascii=False)}")
        for key in ("lang", "item", "added", "by"):
            if item.get(key) is not None:
                value = item[key]
                lines.append(f"  {key}: {value if isinstance(value, int) else json.dumps(str(value))}")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One writer at a time (the bot and the command line may both learn): an advisory lock beside the file."""
    lock = directory / ".learned.lock"
    with open(lock, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(directory: Path, text: str | None) -> None:
    """Replace the file atomically (a reload never reads half of it); None deletes it."""
    path = learned_path(directory)
    if text is None:
        path.unlink(missing_ok=True)
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def learn(
    directory: Path,
    entry_id: str,
    question: str,
    lang: str,
    item: int | None = None,
    by: int | None = None,
    today: dt.date | None = None,
) -> Outcome:
    """Add ``question`` as a phrasing of ``entry_id``; kept only if the knowledge base still loads with it
    and the phrasing is really added (not a repeat of one the knowledge base has)."""
    from bot.knowledge.load import load_knowledge_base
    from bot.matching.text import clean

    question = " ".join(question.split())
    if not clean(question):
        return Outcome(False, "the question has no words to learn")
    if len(question) > MAX_LEARNED_CHARS:
        return Outcome(
            False, f"a message of {len(question):,} characters is not a phrasing (at most {MAX_LEARNED_CHARS})"
        )
    lang = lang if lang in LANGS else ("zh" if lang.startswith("zh") else "en")
    with _locked(directory):
        before = _text(directory)
        try:
            items = read_items(directory, before)
        except (ValueError, yaml.YAMLError) as exc:
            return Outcome(False, f"{LEARNED_FILE} cannot be read ({exc}); fix it first (etown-bot check)")
        current = load_knowledge_base(directory, today)
        if current.kb is None:
            return Outcome(False, f"the knowledge base has {len(current.errors)} error(s); fix them first", current)
        entry = current.kb.entries.get(entry_id)
        if entry is None:
            return Outcome(False, f"there is no entry '{entry_id}'")
        key = clean(question)
        owner = next(
            (
                e.id
                for e in current.kb.entries.values()
                for texts in e.questions.values()
                for q in texts
                if clean(q) == key
            ),
            None,
        )
        if owner is not None:
            return Outcome(False, f"'{question}' is already a phrasing of {owner}")
        record: dict[str, Any] = {"entry": entry_id, "question": question, "lang": lang}
        if item is not None:
            record["item"] = item
        record["added"] = (today or dt.date.today()).isoformat()
        if by is not None:
            record["by"] = by
        _write(directory, render([*items, record]))
        result = load_knowledge_base(directory, today)
        learned = result.kb is not None and question in result.kb.entries[entry_id].questions.get(lang, ())
        if not learned:
            _write(directory, before)  # never leave the knowledge base worse than it was
            problems = "; ".join(str(issue) for issue in (result.errors or result.warnings)[:3])
            return Outcome(False, f"not kept: the knowledge base would not load with it ({problems})", result)
    return Outcome(True, f"learned: '{question}' is now a phrasing of {entry_id} ({LEARNED_FILE})", result)


def unlearn(directory: Path, item: int | None = None, question: str | None = None) -> Outcome:
    """Remove what was learned from queue item ``item`` (or the phrasing ``question``)."""
    from bot.matching.text import clean

    with _locked(directory):
        try:
            items = read_items(directory)
        except (ValueError, yaml.YAMLError) as exc:
            return Outcome(False, f"{LEARNED_FILE} cannot be read ({exc}); fix it first (etown-bot check)")

        def matches(record: dict[str, Any]) -> bool:
            if item is not None and record.get("item") == item:
                return True
            return question is not None and clean(str(record.get("question", ""))) == clean(question)

        kept = [record for record in items if not matches(record)]
        if len(kept) == len(items):
            what = f"#{item}" if item is not None else repr(question)
            return Outcome(False, f"nothing learned from {what} in {LEARNED_FILE}")
        _write(directory, render(kept) if kept else None)
    removed = len(items) - len(kept)
    return Outcome(True, f"unlearned {removed} phrasing(s) from {LEARNED_FILE}")
