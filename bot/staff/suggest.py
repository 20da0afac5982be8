"""What the knowledge base offers an open question: its nearest entries, and YAML for staff to paste
into ``faq/`` (new phrasings of an entry, or skeletons of new entries)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from bot.knowledge.model import Entry, KnowledgeBase
from bot.matching.text import clean, common_words, detect_language
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


# faq/README.md, "What must not be answered": no source gives these, so the bot hands them to staff and a
# new entry for them would have nothing sourced to say. Matched on the question's words (stemmed).
STAFF_ONLY = (
    "rent rents rental price prices tax taxes hotline phone telephone email e-mail address wechat "
    "租金 房租 地价 价格 税 税率 税收 电话 热线 邮箱 地址 微信"
)
MIN_PICKERS = 2  # investors who picked the same entry for the same question before it is proposed
MAX_PHRASING_CHARS = 200  # longer is a message pasted in, not a way of asking (a 3,105-character one was copied)
# A phrasing is proposed only when its entry knows the question's key words. A key word is one rarer than
# COMMON_ZIPF in general language; unknown to the entry with a weight (the matcher's ``missing`` signal)
# above this, it makes another question: "how many *listed* biotech companies" (0.61 for the company
# count), "a *vaccine* plant" of Sanofi (1.0), "上市" (0.80). Common words weigh as much ("these days"
# 0.60, "what" 0.41) and are paraphrase, so they are let through.
MAX_UNKNOWN = 0.5


def suggest_yaml(
    groups: Sequence[Group],
    kb: KnowledgeBase,
    matcher: Matcher,
    min_score: float | None = None,
    max_phrasings: int = 10,
    picks: Sequence[tuple[str, str, int]] = (),
    min_pickers: int = MIN_PICKERS,
) -> str:
    """YAML for staff to paste into ``faq/``: questions investors answered themselves by picking the same
    entry from a did-you-mean (``picks``: question, entry, askers; at least ``min_pickers`` investors),
    first; then open groups as new phrasings of their nearest entry, or
    as skeletons of new entries when no entry is near enough (score below ``min_score``, by default
    halfway between the matcher's suggest and answer thresholds).

    Safe by construction (issue 17): small talk and unclear messages, messages too long to be a phrasing,
    questions for what an entry says the sources do not give, and questions with a key word the nearest
    entry does not know are never proposed as its phrasings; no new entry is proposed for a topic the
    manual sends to staff (``STAFF_ONLY``) or for a question that names an existing entry. What was left
    out is listed in comments with the reason.

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
    staff_only = {token for token, _ in normalizer.words(normalizer.normalize(STAFF_ONLY))}
    named_in = _names_index(kb, matcher)
    phrasings: dict[str, dict[str, list[str]]] = {}
    notes: dict[str, list[str]] = {}

    def add_note(entry: Entry, text: str) -> None:
        """A comment above an entry's proposed phrasings: where to add them first, then why each came."""
        notes.setdefault(entry.id, [said.add_under.format(entry=entry.id, file=entry.file, line=entry.line)])
        notes[entry.id].append(text)

    # The same question (case and punctuation folded) picked with the same entry by several investors: they
    # told the bot which entry answers it. Still no small talk, no long message, nothing the entry's answer
    # says the sources do not give.
    picked: dict[tuple[str, str], tuple[str, int]] = {}
    for text, entry_id, askers in picks:
        key = (clean(text), entry_id)
        wording, count = picked.get(key, (text, 0))
        picked[key] = (wording, count + askers)
    for (_, entry_id), (text, askers) in sorted(picked.items(), key=lambda kv: -kv[1][1]):
        normalized = normalizer.normalize(text)
        entry = kb.entries.get(entry_id)
        if askers < min_pickers or entry is None or not normalized or normalized in known:
            continue
        if len(text) > MAX_PHRASING_CHARS or matcher.chat(text) is not None:
            continue
        ranked = [c for c in matcher.rank(text, 3) if c.entry_id == entry_id]
        if ranked and ranked[0].gap:
            continue
        known.add(normalized)
        phrasings.setdefault(entry_id, {}).setdefault(detect_language(text), []).append(text)
        add_note(entry, said.picked_note.format(count=askers))
    new_entries: list[tuple[str, dict[str, Any]]] = []
    skipped: list[str] = []
    taken = set(kb.entries)
    for group in groups:
        texts = []
        for text in group.texts:
            if len(text) > MAX_PHRASING_CHARS:
                skipped.append(said.skipped_long.format(length=len(text), item=group.item_ids[-1]))
            elif matcher.chat(text) is None:  # small talk and unclear input are no questions to learn
                texts.append(text)
        ranked = matcher.rank(group.representative, 1) if texts else []
        best = ranked[0] if ranked and ranked[0].entry_id in kb.entries else None
        if best is not None and best.gap:
            skipped.append(said.skipped_gap.format(question=group.representative, entry=best.entry_id))
            continue
        by_lang: dict[str, list[str]] = {}
        near = best is not None and best.score >= threshold
        for text in texts:
            normalized = normalizer.normalize(text)
            if not normalized or normalized in known:
                continue
            if near and best is not None:
                unknown = matcher.unknown_word(text, best.entry_id)
                if unknown is not None and unknown[1] > MAX_UNKNOWN and unknown[0] not in common_words():
                    skipped.append(said.skipped_uncovered.format(question=text, entry=best.entry_id, word=unknown[0]))
                    continue
            known.add(normalized)
            bucket = by_lang.setdefault(detect_language(text), [])
            if len(bucket) < max_phrasings:
                bucket.append(text)
        if not by_lang:
            continue
        if near and best is not None:
            entry = kb.entries[best.entry_id]
            target = phrasings.setdefault(entry.id, {})
            for lang in sorted(by_lang):
                target.setdefault(lang, []).extend(by_lang[lang])
            add_note(entry, said.phrasing_note.format(count=group.count, newest=group.newest_day, score=best.score))
            continue
        question = group.representative
        words = {token for token, _ in normalizer.words(normalizer.normalize(question))}
        if words & staff_only:
            word = sorted(words & staff_only)[0]
            skipped.append(said.skipped_staff_only.format(question=question, word=word))
            continue
        named = _named_entry(question, normalizer, named_in, len(kb.matchable()))
        if named is not None:
            skipped.append(said.skipped_names_entry.format(question=question, entry=named))
            continue
        # Named by its English words with synonyms applied ("E-Town" -> etown); a Chinese question has none.
        latin = bool(_slug(clean(question)))
        base = (_slug(normalizer.normalize(question)) if latin else "") or "new-question"
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
    if skipped:
        lines.append(_comment(said.skipped_heading))
        lines += ["#   " + " ".join(line.split()) for line in skipped]
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


def _names_index(kb: KnowledgeBase, matcher: Matcher) -> dict[str, set[str]]:
    """Each word of the entries' phrasings and keywords -> the entries that use it."""
    normalizer = matcher.normalizer
    index: dict[str, set[str]] = {}
    for entry in kb.entries.values():
        texts = [t for group in entry.questions.values() for t in group] + list(entry.keywords)
        for text in texts:
            for token, _ in normalizer.words(normalizer.normalize(text)):
                index.setdefault(token, set()).add(entry.id)
    return index


def _named_entry(question: str, normalizer: Any, index: dict[str, set[str]], entries: int) -> str | None:
    """An entry the question names (a company or place name only one or two entries are asked by:
    "Sanofi"), which should be extended rather than get a new neighbour. A name a quarter of the entries
    are asked by ("E-Town") is what the whole knowledge base is about, not an entry's."""
    for name in normalizer.names(question):
        for token, _ in normalizer.words(normalizer.normalize(name)):
            owners = index.get(token, set())
            if 0 < len(owners) <= 2 and len(owners) * 4 < entries:
                return sorted(owners)[0]
    return None
