"""What the knowledge base offers an open question: its nearest entries, and YAML for staff to paste
into ``faq/`` (new phrasings of an entry, or skeletons of new entries)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from bot.knowledge.model import KnowledgeBase
from bot.matching.text import clean, detect_language
from bot.staff.queue import Group
from bot.words import STAFF

if TYPE_CHECKING:  # the matcher module is cheap, but its callers here only need the type
    from bot.matching.matcher import Matcher

NEAREST = 3
# Words left out of the ids of suggested new entries ("What are office rents?" -> office-rents).
_SLUG_STOPWORDS_TEXT = (
    "a an and are can could do does for how i in is it me of on or please tell the there to we what when where "
    "which who why will with you your"
)
_SLUG_STOPWORDS = frozenset(_SLUG_STOPWORDS_TEXT.split())


@dataclass(frozen=True)
class Nearest:
    """A knowledge-base entry close to a question, with the matcher's 0..1 score."""

    entry_id: str
    score: float
    headline: str  # the entry's first phrasing in the question's language


def nearest_entries(
    text: str, kb: KnowledgeBase, matcher: Matcher, lang: str | None = None, limit: int = NEAREST
) -> tuple[Nearest, ...]:
    """The ``limit`` best entries for ``text``, best first (possibly fewer, or none)."""
    lang = lang or detect_language(text)
    return tuple(
        Nearest(c.entry_id, c.score, kb.entries[c.entry_id].headline(lang))
        for c in matcher.rank(text, limit)
        if c.entry_id in kb.entries  # the matcher may be a reload behind
    )


# --- YAML for faq/


def _slug(normalized: str) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", normalized) if w not in _SLUG_STOPWORDS]
    return "-".join(words[:5])


def _yaml_block(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)


def _comment(text: str) -> str:
    return "# " + " ".join(text.split())


def suggest_yaml(
    groups: Sequence[Group],
    kb: KnowledgeBase,
    matcher: Matcher,
    min_score: float | None = None,
    max_phrasings: int = 10,
) -> str:
    """YAML for staff to paste into ``faq/``: open groups as new phrasings of their nearest entry, or
    as skeletons of new entries when no entry is near enough (score below ``min_score``, by default
    halfway between the matcher's suggest and answer thresholds).

    The text loads with ``yaml.safe_load`` as ``{"phrasings": {entry id: {lang: [...]}}, "new_entries": [...]}``.
    Wordings the knowledge base already has are left out (``check`` refuses the same question twice).
    Skeletons have empty answers, which ``etown-bot check`` refuses: one pasted unedited never goes live.
    """
    said = STAFF.suggest
    settings = matcher.settings
    # Halfway between "offered as did-you-mean" and "answered": near enough to be the same question.
    threshold = (settings.suggest_threshold + settings.answer_threshold) / 2 if min_score is None else min_score
    normalizer = matcher.normalizer
    known = {
        normalizer.normalize(text)
        for entry in kb.entries.values()
        for texts in entry.questions.values()
        for text in texts
    }
    phrasings: dict[str, dict[str, list[str]]] = {}
    notes: dict[str, list[str]] = {}
    new_entries: list[tuple[str, dict[str, Any]]] = []
    taken = set(kb.entries)
    for group in groups:
        by_lang: dict[str, list[str]] = {}
        for text in group.texts:
            normalized = normalizer.normalize(text)
            if not normalized or normalized in known:
                continue
            known.add(normalized)
            bucket = by_lang.setdefault(detect_language(text), [])
            if len(bucket) < max_phrasings:
                bucket.append(text)
        if not by_lang:
            continue
        ranked = matcher.rank(group.representative, 1)
        best = ranked[0] if ranked and ranked[0].entry_id in kb.entries else None
        if best is not None and best.score >= threshold:
            entry = kb.entries[best.entry_id]
            target = phrasings.setdefault(entry.id, {})
            for lang in sorted(by_lang):
                target.setdefault(lang, []).extend(by_lang[lang])
            notes.setdefault(entry.id, []).append(
                said.phrasing_note.format(count=group.count, newest=group.newest_day, score=best.score)
            )
            if len(notes[entry.id]) == 1:
                notes[entry.id].insert(0, said.add_under.format(entry=entry.id, file=entry.file, line=entry.line))
            continue
        # Named by its English words with synonyms applied ("E-Town" -> etown); a Chinese question has none.
        latin = bool(_slug(clean(group.representative)))
        base = (_slug(normalizer.normalize(group.representative)) if latin else "") or "new-question"
        entry_id, n = base, 2
        while entry_id in taken:
            entry_id, n = f"{base}-{n}", n + 1
        taken.add(entry_id)
        skeleton: dict[str, Any] = {"id": entry_id}
        if best is not None and kb.entries[best.entry_id].topic:
            skeleton["topic"] = kb.entries[best.entry_id].topic
        skeleton["questions"] = {lang: by_lang[lang] for lang in sorted(by_lang)}
        skeleton["answer"] = {lang: "" for lang in ("en", "zh")}
        note = said.new_entry_note.format(count=group.count, newest=group.newest_day)
        if best is not None:
            note += said.nearest_too_far.format(entry=best.entry_id, score=best.score)
        new_entries.append((note, skeleton))

    lines = [_comment(said.heading.format(groups=len(groups)))]
    lines += [f"# {line}" for line in said.instructions]  # as written: the last one is indented on purpose
    if phrasings:
        lines.append("phrasings:")
        for entry_id, by_lang in phrasings.items():
            lines += ["  " + _comment(note) for note in notes[entry_id]]
            block = _yaml_block({entry_id: {lang: by_lang[lang] for lang in sorted(by_lang)}})
            lines += ["  " + line for line in block.splitlines()]
    else:
        lines.append("phrasings: {}")
    if new_entries:
        lines.append("new_entries:")
        for note, skeleton in new_entries:
            lines.append(_comment(note))
            lines += _yaml_block([skeleton]).splitlines()
    else:
        lines.append("new_entries: []")
    return "\n".join(lines) + "\n"
