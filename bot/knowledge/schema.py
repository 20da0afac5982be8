"""Each record's fields: their types and shapes, reported as ``file:line: entry-id: message``.

Everything here looks at one record at a time (a source, a topic, a synonym group, an entry and its
figure); what refers to another record (a source id, a topic, ``related``, ``{{fact}}``) is resolved in
``validate``. Every problem is collected, never raised, so a file shows all its problems at once.

The field types and shapes are pydantic models in ``shapes``; what is left here is what they do not
say: which model a record is (FAQ or fact), its id (every message names it), and the files' outer shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.knowledge.model import PLACEHOLDER_RE, Entry, Issue, Kind, Source, Topic
from bot.knowledge.reader import LineDict, LineList, line_of
from bot.matching.text import clean

if TYPE_CHECKING:
    from bot.knowledge.shapes import Problem

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Ids travel in Telegram callback data (64 bytes with a prefix and a question id).
MAX_ID_LENGTH = 48


class Checker:
    """Collects issues while turning raw YAML data into field values."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def error(self, file: str, line: int, entry_id: str | None, message: str) -> None:
        self.issues.append(Issue(file, line, entry_id, message, "error"))

    def warn(self, file: str, line: int, entry_id: str | None, message: str) -> None:
        self.issues.append(Issue(file, line, entry_id, message, "warning"))

    def report(self, file: str, problems: Iterable[Problem], owner: str | None) -> None:
        self.issues += [Issue(file, p.line, owner, p.message) for p in problems]


# --------------------------------------------------------------------------- sources, topics, synonyms


def source(file: str, data: LineDict, entry_id: str | None, require_id: bool) -> tuple[Source | None, list[Issue]]:
    """A source of ``sources.yaml`` (``require_id``) or written inline under an entry's ``source:``, and its issues."""
    # Imported here, not at the top: ``etown-bot --help`` imports this module and must not pay for pydantic.
    from bot.knowledge import shapes

    values, problems = shapes.check(shapes.SourceFields if require_id else shapes.InlineSource, data)
    sid = values.get("id", "")
    who = entry_id or sid or None
    # Unknown keys and the id's own problems are the source's before it has an id; the rest name it.
    issues = [Issue(file, p.line, entry_id, p.message) for p in problems if p.field in (None, "id")]
    if sid and not ID_RE.match(sid):
        issues.append(Issue(file, data.line, who, f"source id '{sid}' must be lower-case letters, digits, '-'"))
    issues += [Issue(file, p.line, who, p.message) for p in problems if p.field not in (None, "id")]
    if not all(key in values for key in ("title", "url", "published")):
        return None, issues
    return Source(sid, values["title"], values["url"], values["published"], values.get("reprint", False)), issues


def sources(check: Checker, file: str, data: Any) -> Iterator[tuple[Source, LineDict]]:
    """Each well-formed source of ``sources.yaml``, with its mapping (for the line)."""
    if not isinstance(data, list):
        check.error(file, 1, None, "sources.yaml must be a list of sources")
        return
    for item in data:
        if not isinstance(item, LineDict):
            check.error(file, line_of(data), None, "each source must be a mapping")
            continue
        found, issues = source(file, item, None, require_id=True)
        check.issues += issues
        if found is not None:
            yield found, item


def topics(check: Checker, file: str, data: Any) -> Iterator[tuple[Topic, LineDict]]:
    """Each well-formed topic of ``topics.yaml``; ``order`` defaults to the position in the file."""
    if not isinstance(data, list):
        check.error(file, 1, None, "topics.yaml must be a list of topics")
        return
    from bot.knowledge import shapes

    for position, item in enumerate(data):
        if not isinstance(item, LineDict):
            check.error(file, line_of(data), None, "each topic must be a mapping")
            continue
        values, problems = shapes.check(shapes.TopicFields, item)
        tid = values.get("id")
        for p in problems:
            owner = item.get("id") if p.field is None else None if p.field == "id" else tid
            check.issues.append(Issue(file, p.line, owner, p.message))
        if tid is not None:
            yield Topic(tid, values.get("title", {}), values.get("order") or position + 1), item


def synonym_groups(check: Checker, file: str, data: Any) -> Iterator[tuple[tuple[str, ...], int]]:
    """Each well-formed group of ``synonyms.yaml``, with its line."""
    if not isinstance(data, list):
        check.error(file, 1, None, "synonyms.yaml must be a list of groups, e.g. - [bda, e-town, 亦庄]")
        return
    for index, group in enumerate(data):
        line = data.item_lines[index] if isinstance(data, LineList) else 1
        if not isinstance(group, list) or not all(isinstance(t, str | int) for t in group):
            check.error(file, line, None, "a synonym group must be a list of terms")
            continue
        terms = tuple(str(t).strip() for t in group)
        if len(terms) < 2 or any(not clean(t) for t in terms):
            check.error(file, line, None, "a synonym group needs at least two non-empty terms")
            continue
        yield terms, line


# --------------------------------------------------------------------------- entries


@dataclass
class Draft:
    """An entry between reading its fields and resolving its references (``validate`` does that last)."""

    entry: Entry
    data: LineDict
    source_ref: Any = None
    placeholders: list[tuple[str, int]] = field(default_factory=list)
    phrasings: list[tuple[str, str, int]] = field(default_factory=list)  # (clean(text), text, line), in order


def entry_items(check: Checker, file: str, data: Any) -> Iterator[LineDict]:
    """The mappings of an entries file (an empty file has none)."""
    if data is None:
        return
    if not isinstance(data, list):
        check.error(file, 1, None, "an entries file must be a list of entries (each starting with '- id:')")
        return
    for item in data:
        if not isinstance(item, LineDict):
            check.error(file, line_of(data), None, "each entry must be a mapping starting with 'id:'")
            continue
        yield item


def entry(check: Checker, file: str, data: LineDict) -> Draft | None:
    """An entry's own fields; None when it has no usable id. Its figure is read with its source, later."""
    raw_id = data.get("id")
    entry_id = str(raw_id).strip() if isinstance(raw_id, str | int) else None
    if entry_id is None:
        check.error(file, data.line, None, "missing field 'id'")
    elif not ID_RE.match(entry_id):
        check.error(file, line_of(data, "id"), entry_id, "id must be lower-case letters, digits and '-'")
    elif len(entry_id) > MAX_ID_LENGTH:
        check.error(
            file, line_of(data, "id"), entry_id, f"id is longer than {MAX_ID_LENGTH} characters (Telegram buttons)"
        )
    kind: Kind = "fact" if "metric" in data else "faq"
    if kind == "fact" and "answer" in data:
        check.error(file, data.line, entry_id, "an entry has either 'answer' (FAQ) or 'metric' (fact), not both")
    from bot.knowledge import shapes

    values, problems = shapes.check(shapes.FactFields if kind == "fact" else shapes.FaqFields, data)
    check.report(file, problems, entry_id)
    if entry_id is None:
        return None
    asked, phrasings = _phrasings(data, values.get("questions", {}), problems)
    common: dict[str, Any] = {
        "id": entry_id,
        "kind": kind,
        "topic": values.get("topic"),
        "questions": asked,
        "file": file,
        "line": data.line,
        "related": values.get("related", ()),
        "keywords": values.get("keywords", ()),
    }
    placeholders: list[tuple[str, int]] = []
    if kind == "faq":
        answer = values.get("answer", {})
        for text in answer.values():
            placeholders += [(m.group(1), line_of(data, "answer")) for m in PLACEHOLDER_RE.finditer(text)]
        common["answer"] = answer
    else:
        common["metric"] = values.get("metric", {})
        common["note"] = values.get("note", {})
        common["reviewed"] = values.get("reviewed")
    return Draft(Entry(**common), data, data.get("source"), placeholders, phrasings)


def _phrasings(
    data: LineDict, asked: dict[str, tuple[tuple[str, str], ...]], problems: list[Problem]
) -> tuple[dict[str, tuple[str, ...]], list[tuple[str, str, int]]]:
    """The phrasings by language, and each one's cleaned form and line for the cross-checks.

    The model kept the phrasings that passed, in order; their lines are those of the items not refused.
    """
    found: list[tuple[str, str, int]] = []
    if not asked:
        return {}, found
    raw = data["questions"]
    refused = {p.loc for p in problems if p.loc[:1] == ("questions",) and len(p.loc) == 3}
    for lang, items in asked.items():
        lines = [line for i, line in enumerate(raw[lang].item_lines) if ("questions", lang, i) not in refused]
        found += [(key, text, line) for (key, text), line in zip(items, lines, strict=True)]
    return {lang: tuple(text for _, text in items) for lang, items in asked.items()}, found
