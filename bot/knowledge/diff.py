"""What a new version of the knowledge base changes against the live one: entries added, removed and
changed, and for each change which fields (``etown-bot kb diff DIR``, the staff chat's reload report)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from bot.knowledge.model import LANGS, Entry, Issue, KnowledgeBase

# Where an entry is written is no change to what it says.
_IGNORED = frozenset({"file", "line"})


@dataclass(frozen=True)
class EntryChange:
    """One entry in both versions, with what differs: ``questions.en +2 -1``, ``answer``, ``figure`` ..."""

    entry_id: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class KnowledgeDiff:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[EntryChange, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def compare(old: KnowledgeBase | None, new: KnowledgeBase) -> KnowledgeDiff:
    """``new`` against ``old`` (None: everything is added)."""
    before = dict(old.entries) if old is not None else {}
    after = dict(new.entries)
    changed = []
    for entry_id in sorted(set(before) & set(after)):
        changes = entry_changes(before[entry_id], after[entry_id])
        if changes:
            changed.append(EntryChange(entry_id, changes))
    return KnowledgeDiff(
        added=tuple(sorted(set(after) - set(before))),
        removed=tuple(sorted(set(before) - set(after))),
        changed=tuple(changed),
    )


def entry_changes(old: Entry, new: Entry) -> tuple[str, ...]:
    """The fields of ``new`` that differ from ``old``; phrasings counted per language (``questions.zh +3``)."""
    out: list[str] = []
    for field in fields(Entry):
        name = field.name
        if name in _IGNORED or getattr(old, name) == getattr(new, name):
            continue
        if name == "questions":
            for lang in LANGS:
                was, now = set(old.questions.get(lang, ())), set(new.questions.get(lang, ()))
                counts = " ".join(f"{sign}{n}" for sign, n in (("+", len(now - was)), ("-", len(was - now))) if n)
                if counts:
                    out.append(f"questions.{lang} {counts}")
        else:
            out.append(name)
    return tuple(out)


def new_issues(old: Sequence[Issue], new: Sequence[Issue]) -> list[Issue]:
    """The issues of ``new`` that ``old`` did not have. The same file, entry and message is the same issue:
    an edit above it moves its line."""
    known = {(issue.file, issue.entry_id, issue.message) for issue in old}
    return [issue for issue in new if (issue.file, issue.entry_id, issue.message) not in known]


def describe(diff: KnowledgeDiff, limit: int = 15) -> list[str]:
    """One line per kind of change, ``limit`` ids each at most (the staff chat); each changed entry with
    what changed in it when there are few."""
    lines = []
    for label, ids in (("added", diff.added), ("removed", diff.removed)):
        if ids:
            lines.append(f"{label}: {_ids(ids, limit)}")
    if diff.changed:
        if len(diff.changed) <= limit:
            lines.append("changed: " + "; ".join(f"{c.entry_id} ({', '.join(c.changes)})" for c in diff.changed))
        else:
            lines.append(f"changed: {_ids([c.entry_id for c in diff.changed], limit)}")
    return lines


def _ids(ids: Sequence[str], limit: int) -> str:
    return ", ".join(ids[:limit]) + (f" (+{len(ids) - limit})" if len(ids) > limit else "")
