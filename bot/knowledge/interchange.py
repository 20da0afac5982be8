"""An existing FAQ in and out of the knowledge base: a QnA Maker style TSV (Question, Answer, Source,
Metadata) or a CSV with question and answer columns (``etown-bot kb import``), and the knowledge base as
such a TSV (``etown-bot kb export``).

Rows with the same answer become one entry (its phrasings are the rows' questions); the same question
twice, after case, width and punctuation are folded, is kept once with a warning. The entries are written
as YAML that ``etown-bot check`` accepts; a source column is kept as a comment, since a source needs a
publication date nobody has given yet.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.knowledge.model import KnowledgeBase
from bot.matching.text import clean, has_han

QUESTION_COLUMNS = ("question", "questions", "q", "问题")
ANSWER_COLUMNS = ("answer", "answers", "a", "reply", "答案", "回答")
SOURCE_COLUMNS = ("source", "来源")
METADATA_COLUMNS = ("metadata", "meta", "tags")
MAX_QUESTION_CHARS = 300  # longer is a message pasted in, not a way of asking (issue 17: 3,105 characters)
MAX_ID_CHARS = 40
RESERVED = frozenset({"smalltalk", "unclear"})
_SLUG_RE = re.compile(r"[^a-z0-9]+")


class ImportProblem(ValueError):
    """The file cannot be imported at all (no question or answer column, not UTF-8): the message says why."""


@dataclass(frozen=True)
class Row:
    line: int
    question: str
    answer: str
    source: str = ""
    metadata: str = ""


@dataclass
class ImportedEntry:
    id: str
    questions: dict[str, list[str]]
    answer: dict[str, str]
    topic: str | None = None
    sources: list[str] = field(default_factory=list)
    first_line: int = 0


@dataclass(frozen=True)
class Imported:
    entries: tuple[ImportedEntry, ...]
    warnings: tuple[str, ...]
    rows: int


def read_rows(path: Path) -> list[Row]:
    """The rows of a TSV or CSV file (by its name; a ``.txt`` or unknown name is sniffed)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportProblem(f"{path.name} is not UTF-8 text (save it as UTF-8): byte {exc.start}") from None
    suffix = path.suffix.lower()
    delimiter = "\t" if suffix == ".tsv" else "," if suffix == ".csv" else _sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table = [row for row in reader]
    if not table:
        raise ImportProblem(f"{path.name} is empty")
    header = [cell.strip().casefold() for cell in table[0]]
    columns = {name: _column(header, names) for name, names in _COLUMNS.items()}
    if columns["question"] is None or columns["answer"] is None:
        if delimiter == "\t" and len(header) >= 2:  # a QnA Maker export without its header row
            columns = {"question": 0, "answer": 1, "source": 2, "metadata": 3}
            body = list(enumerate(table, 1))
        else:
            raise ImportProblem(
                f"{path.name}: no question and answer columns in the first row (found: {', '.join(table[0])})"
            )
    else:
        body = list(enumerate(table[1:], 2))
    rows = []
    for line, cells in body:

        def cell(name: str, cells: Sequence[str] = cells) -> str:
            index = columns.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        if not any(c.strip() for c in cells):
            continue
        rows.append(Row(line, cell("question"), cell("answer"), cell("source"), cell("metadata")))
    return rows


_COLUMNS = {
    "question": QUESTION_COLUMNS,
    "answer": ANSWER_COLUMNS,
    "source": SOURCE_COLUMNS,
    "metadata": METADATA_COLUMNS,
}


def _column(header: Sequence[str], names: Iterable[str]) -> int | None:
    return next((header.index(name) for name in names if name in header), None)


def _sniff(text: str) -> str:
    first = text.split("\n", 1)[0]
    return "\t" if first.count("\t") >= first.count(",") else ","


def build(rows: Sequence[Row], existing: KnowledgeBase | None = None, topics: Iterable[str] = ()) -> Imported:
    """Entries from ``rows``: one per answer. ``existing``: the folder's knowledge base, whose ids and
    questions the new entries must not repeat; ``topics``: topic ids a row's metadata may name."""
    warnings: list[str] = []
    known_topics = set(topics)
    taken_ids = set(existing.entries) if existing is not None else set()
    asked: dict[str, str] = {}  # folded question -> where it is already (an entry id or "row N")
    if existing is not None:
        for known in existing.entries.values():
            for texts in known.questions.values():
                for text in texts:
                    asked.setdefault(clean(text), f"entry '{known.id}'")
    by_answer: dict[str, ImportedEntry] = {}
    for row in rows:
        if not row.question or not row.answer:
            warnings.append(f"row {row.line}: no {'question' if not row.question else 'answer'}: skipped")
            continue
        question = " ".join(row.question.split())
        if len(question) > MAX_QUESTION_CHARS:
            warnings.append(f"row {row.line}: a question of {len(question):,} characters is not a phrasing: skipped")
            continue
        key = clean(question)
        if not key:
            warnings.append(f"row {row.line}: the question has no words: skipped")
            continue
        answer = " ".join(row.answer.split())
        answer_key = answer.casefold()
        if key in asked:
            warnings.append(f"row {row.line}: {question!r} repeats {asked[key]} (after folding case and punctuation)")
            continue
        entry = by_answer.get(answer_key)
        if entry is None:
            entry_id = _new_id(question, taken_ids, len(by_answer) + 1)
            taken_ids.add(entry_id)
            entry = ImportedEntry(entry_id, {}, {_language(answer): answer}, first_line=row.line)
            by_answer[answer_key] = entry
        asked[key] = f"row {row.line}"
        entry.questions.setdefault(_language(question), []).append(question)
        topic = _topic(row.metadata, known_topics)
        if topic is not None and entry.topic is None:
            entry.topic = topic
        if row.source and row.source not in entry.sources:
            entry.sources.append(row.source)
    return Imported(tuple(by_answer.values()), tuple(warnings), len(rows))


def _language(text: str) -> str:
    return "zh" if has_han(text) else "en"


def _new_id(question: str, taken: set[str], number: int) -> str:
    slug = _SLUG_RE.sub("-", question.casefold()).strip("-")[:MAX_ID_CHARS].strip("-")
    base = slug if slug and slug not in RESERVED else f"imported-{number}"
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base[: MAX_ID_CHARS - len(str(n)) - 1]}-{n}"
        n += 1
    return candidate


def _topic(metadata: str, known: set[str]) -> str | None:
    """A QnA Maker metadata pair ``topic:policy`` or ``category:policy`` naming a known topic."""
    for pair in re.split(r"[|;,]", metadata):
        name, _, value = pair.partition(":")
        if name.strip().casefold() in {"topic", "category"} and value.strip() in known:
            return value.strip()
    return None


def to_yaml(imported: Imported, origin: str) -> str:
    """The entries as a YAML file staff can edit; every text double-quoted (a colon or '#' stays text)."""
    counts = f"{len(imported.entries)} entries from {imported.rows} rows"
    out = [f"# Imported from {origin} by 'etown-bot kb import': {counts}.", ""]
    for entry in imported.entries:
        out.append(f"- id: {entry.id}")
        if entry.topic:
            out.append(f"  topic: {entry.topic}")
        out.append("  questions:")
        for lang in ("en", "zh"):
            if entry.questions.get(lang):
                out.append(f"    {lang}:")
                out.extend(f"      - {_quoted(q)}" for q in entry.questions[lang])
        out.append("  answer:")
        out.extend(f"    {lang}: {_quoted(text)}" for lang, text in entry.answer.items())
        for source in entry.sources:
            out.append(f"  # source in the file: {source.replace(chr(10), ' ')} (add it to sources.yaml with its date)")
        out.append("")
    return "\n".join(out)


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def to_tsv(kb: KnowledgeBase) -> str:
    """The knowledge base as a QnA Maker style TSV: one row per phrasing, with the rendered answer in the
    phrasing's language (another language's answer when it has none), its first source's URL, and
    ``topic:`` and ``entry:`` metadata."""
    from bot.render import render_answer

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(["Question", "Answer", "Source", "Metadata"])
    for entry in sorted(kb.matchable(), key=lambda e: e.id):
        for lang in ("en", "zh"):
            questions = entry.questions.get(lang, ())
            if not questions:
                continue
            answer = render_answer(kb, entry, lang)
            source = answer.sources[0].url if answer.sources else ""
            metadata = "|".join(f"{k}:{v}" for k, v in (("topic", entry.topic), ("entry", entry.id)) if v)
            for question in questions:
                writer.writerow([question, answer.body, source, metadata])
    return buffer.getvalue()
