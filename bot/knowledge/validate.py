"""The checks across records, once each record's fields are read: ids, references, repeats, warnings.

``Validation`` gathers sources, topics, synonyms and entries file by file (``schema`` reads each
record), then ``finish`` resolves every reference and returns the entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bot.knowledge import schema
from bot.knowledge.model import LANGS, Entry, Figure, SmallTalk, Source, Topic, Unit
from bot.knowledge.reader import LineDict, LineList, line_of
from bot.knowledge.schema import Checker, Draft
from bot.matching.text import clean, has_han

STALE_AFTER_DAYS = 3 * 365 + 1  # "older than three years", leap day included


SAVED_APART = 2.0  # seconds between the last-saved file and the others (``saved_last``)


class Validation:
    """Every record read so far, and the issues found in them."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.unreadable_ids: set[str] = set()  # ids in files that could not be read (not reported again)
        self.file_times: dict[str, float] = {}  # file name -> modification time (``cross_check_questions``)
        self.learned: list[tuple[str, str, str, int]] = []  # (entry id, question, lang, line) of learned.yaml
        self.learned_file: str | None = None
        self.check = Checker()
        self.sources: dict[str, Source] = {}
        self.topics: list[Topic] = []
        self.synonyms: list[tuple[str, ...]] = []
        self.drafts: dict[str, Draft] = {}
        self.smalltalk = SmallTalk()
        self.smalltalk_file: str | None = None

    # --- what each file adds (ids are unique per kind)

    def add_sources(self, file: str, data: Any) -> None:
        for source, item in schema.sources(self.check, file, data):
            if source.id in self.sources:
                self.check.error(file, item.line, source.id, f"source id '{source.id}' is used twice")
            self.not_in_future(file, line_of(item, "published"), source.id, source)
            self.sources[source.id] = source

    def lost(self, ref: str, defined: Mapping[str, Any]) -> bool:
        """Whether ``ref`` is missing from ``defined`` (the entries, or the sources) only because a file that
        could not be read defines it: that file's error is reported, the reference is not reported again."""
        return ref in self.unreadable_ids and ref not in defined

    def not_in_future(self, file: str, line: int, who: str | None, source: Source) -> None:
        """A page published after today is a typo in its date (2052 for 2025), or a page nobody has read."""
        if source.published_date > self.today:
            self.check.error(file, line, who, f"publication date {source.published} is in the future")

    def add_topics(self, file: str, data: Any) -> None:
        seen: set[str] = set()
        for topic, item in schema.topics(self.check, file, data):
            if topic.id in seen:
                self.check.error(file, item.line, topic.id, f"topic id '{topic.id}' is used twice")
            seen.add(topic.id)
            self.topics.append(topic)
        self.topics.sort(key=lambda t: t.order)

    def add_synonyms(self, file: str, data: Any) -> None:
        owner: dict[str, int] = {}
        for terms, line in schema.synonym_groups(self.check, file, data):
            for term in terms:
                key = clean(term)
                if key in owner and owner[key] != line:
                    self.check.error(file, line, None, f"'{term}' is already in the group on line {owner[key]}")
                owner[key] = line
            self.synonyms.append(terms)

    def add_smalltalk(self, file: str, data: Any) -> None:
        self.smalltalk = schema.smalltalk(self.check, file, data)
        self.smalltalk_file = file

    def add_learned(self, file: str, data: Any) -> None:
        """``learned.yaml`` (``bot.knowledge.learned``): phrasings staff taught, added to entries in ``finish``."""
        self.learned_file = file
        if data is None:
            return
        if not isinstance(data, LineList):
            self.check.error(file, 1, None, "learned.yaml must be a list of {entry, question} items")
            return
        for item in data:
            if not isinstance(item, LineDict):
                self.check.error(file, line_of(data), None, "each learned item must be a mapping (entry, question)")
                continue
            self.check.unknown_keys(file, item, schema.LEARNED_KEYS, None)
            entry_id = self.check.text(file, item, "entry", None, required=True)
            question = self.check.text(file, item, "question", entry_id, required=True)
            lang = item.get("lang", None)
            if entry_id is None or question is None:
                continue
            if lang is not None and lang not in LANGS:
                self.check.error(
                    file, line_of(item, "lang"), entry_id, f"learned 'lang' must be en or zh (got {lang!r})"
                )
                continue
            if len(question) > schema.MAX_LEARNED_CHARS:
                self.check.error(
                    file,
                    line_of(item, "question"),
                    entry_id,
                    f"a learned question is at most {schema.MAX_LEARNED_CHARS} characters",
                )
                continue
            self.learned.append((entry_id, question, lang or ("zh" if has_han(question) else "en"), item.line))

    def apply_learned(self, entries: dict[str, Entry]) -> None:
        """Add the learned phrasings to their entries. A phrasing of an entry that is gone, or one the
        knowledge base has already, is a warning and left out: a staff click must never stop a reload."""
        if not self.learned or self.learned_file is None:
            return
        owner = {key: entry_id for entry_id, draft in self.drafts.items() for key, _, _ in draft.phrasings}
        for entry_id, question, lang, line in self.learned:
            entry = entries.get(entry_id)
            if entry is None:
                self.check.warn(
                    self.learned_file, line, entry_id, "learned for an entry that no longer exists: left out"
                )
                continue
            key = clean(question)
            if key in owner:
                self.check.warn(
                    self.learned_file, line, entry_id, f"already a phrasing of '{owner[key]}': {question!r} left out"
                )
                continue
            owner[key] = entry_id
            questions = {**entry.questions, lang: (*entry.questions.get(lang, ()), question)}
            entries[entry_id] = Entry(**{**entry.__dict__, "questions": questions})

    def add_entries(self, file: str, data: Any) -> None:
        for item in schema.entry_items(self.check, file, data):
            draft = schema.entry(self.check, file, item)
            if draft is None:
                continue
            entry_id = draft.entry.id
            if entry_id in self.drafts:
                first = self.drafts[entry_id].entry
                self.check.error(
                    file, item.line, entry_id, f"duplicate id (first defined at {first.file}:{first.line})"
                )
                continue
            self.drafts[entry_id] = draft

    # --- references, once everything is read

    def resolve_source(self, file: str, line: int, entry_id: str, ref: Any) -> Source | None:
        if isinstance(ref, str):
            source = self.sources.get(ref.strip())
            if source is None and not self.lost(ref.strip(), self.sources):
                self.check.error(file, line, entry_id, f"unknown source '{ref}' (not in sources.yaml)")
            return source
        if isinstance(ref, LineDict):
            inline = schema.source(self.check, file, ref, entry_id, require_id=False)
            if inline is not None:
                self.not_in_future(file, line_of(ref, "published"), entry_id, inline)
            return inline
        self.check.error(file, line, entry_id, "'source' must be a source id or {title, url, published}")
        return None

    def resolve_sources(self, file: str, line: int, entry_id: str, ref: Any) -> tuple[Source, ...] | None:
        """``source: s6``, an inline source, or a list of them (``[s6, s7]``: every source that gives the
        statement, the first one first); None when any of them is wrong (reported)."""
        refs = list(ref) if isinstance(ref, list) else [ref]
        if not refs:
            self.check.error(file, line, entry_id, "'source' is an empty list")
            return None
        found = [self.resolve_source(file, line, entry_id, item) for item in refs]
        if any(source is None for source in found):
            return None
        resolved = tuple(source for source in found if source is not None)
        if len({source.url for source in resolved}) < len(resolved):
            self.check.error(file, line, entry_id, "the same source is listed twice under 'source'")
        return resolved

    def figure(self, file: str, data: LineDict, entry_id: str, default_unit: Unit | None) -> Figure | None:
        check = self.check
        value = schema.value(check, file, data, entry_id)
        qualifier = schema.qualifier(check, file, data, entry_id)
        unit = schema.unit(check, file, data, entry_id) if "unit" in data else default_unit
        period = check.localized(file, data, "period", entry_id, required=True)
        found = (
            self.resolve_sources(file, line_of(data, "source"), entry_id, data["source"]) if "source" in data else None
        )
        verified = check.flag(file, data, "verified", entry_id, default=True)
        # A figure is verified when one of its sources is an original page; from reprints only, it is not.
        if found and verified and all(source.reprint for source in found):
            names = ", ".join(f"'{source.id or source.title}'" for source in found)
            check.error(
                file,
                line_of(data, "source"),
                entry_id,
                f"source {names} {'is a reprint' if len(found) == 1 else 'are reprints'}: mark the figure"
                " 'verified: false'",
            )
        if value is None or unit is None or not period or not found:
            return None
        return Figure(value, qualifier, unit, period, found[0], verified, found[1:])

    def history(self, file: str, data: LineDict, entry_id: str, figure: Figure | None) -> tuple[Figure, ...]:
        raw = data.get("history")
        if raw is None:
            return ()
        if not isinstance(raw, LineList):
            self.check.error(file, line_of(data, "history"), entry_id, "'history' must be a list of older figures")
            return ()
        out: list[Figure] = []
        for item in raw:
            if not isinstance(item, LineDict):
                self.check.error(file, raw.line, entry_id, "each 'history' item must be a mapping")
                continue
            self.check.unknown_keys(file, item, schema.HISTORY_KEYS, entry_id)
            if "source" not in item:
                self.check.error(file, item.line, entry_id, "missing field 'source' in history item")
                continue
            older = self.figure(file, item, entry_id, figure.unit if figure else None)
            if older is not None:
                out.append(older)
        return tuple(out)

    def finish(self) -> dict[str, Entry]:
        """The entries with their references resolved; every problem is in ``check.issues``."""
        entries: dict[str, Entry] = {}
        topic_ids = {t.id for t in self.topics}
        for entry_id, draft in self.drafts.items():
            entry, data, file = draft.entry, draft.data, draft.entry.file
            updates: dict[str, Any] = {}
            if entry.kind == "faq" and draft.source_ref is not None:
                found = self.resolve_sources(file, line_of(data, "source"), entry_id, draft.source_ref)
                updates["source"], updates["also"] = (found[0], found[1:]) if found else (None, ())
            if entry.kind == "fact":
                figure = self.figure(file, data, entry_id, None)
                updates["figure"] = figure
                updates["source"], updates["also"] = (figure.source, figure.also) if figure else (None, ())
                updates["history"] = self.history(file, data, entry_id, figure)
                newer = entry.superseded_by
                if newer is not None and not self.lost(newer, self.drafts):
                    where = line_of(data, "superseded_by")
                    if newer not in self.drafts or self.drafts[newer].entry.kind != "fact":
                        self.check.error(file, where, entry_id, f"superseded_by '{newer}' is not the id of a fact")
                    elif newer == entry_id:
                        self.check.error(file, where, entry_id, "a fact cannot supersede itself")
            if entry.topic is not None and self.topics and entry.topic not in topic_ids:
                self.check.error(
                    file, line_of(data, "topic"), entry_id, f"unknown topic '{entry.topic}' (not in topics.yaml)"
                )
            for related in entry.related:
                if self.lost(related, self.drafts):
                    continue
                if related not in self.drafts:
                    self.check.error(file, line_of(data, "related"), entry_id, f"related id '{related}' does not exist")
                elif related == entry_id:
                    self.check.error(file, line_of(data, "related"), entry_id, "an entry cannot be related to itself")
            for ref, line in draft.placeholders:
                target = self.drafts.get(ref)
                if self.lost(ref, self.drafts):
                    continue
                if target is None or target.entry.kind != "fact":
                    self.check.error(file, line, entry_id, f"'{{{{{ref}}}}}' is not the id of a fact")
            entries[entry_id] = Entry(**{**entry.__dict__, **updates})
        self.cross_check_questions(entries)
        self.apply_learned(entries)
        self.warnings(entries)
        self.cross_check_smalltalk(entries)
        return entries

    def cross_check_smalltalk(self, entries: Mapping[str, Entry]) -> None:
        """A small-talk phrase that is also an entry's phrasing is answered as small talk, never with the entry."""
        from bot.matching.smalltalk import units

        if self.smalltalk_file is None:
            return
        asked: dict[tuple[str, ...], str] = {}
        for entry in entries.values():
            for texts in entry.questions.values():
                for text in texts:
                    asked.setdefault(units(text), entry.id)
        for kind in self.smalltalk.kinds:
            for text in (t for group in kind.phrases.values() for t in group):
                entry_id = asked.get(units(text))
                if entry_id is not None:
                    self.check.warn(
                        self.smalltalk_file,
                        kind.line,
                        kind.id,
                        f"'{text}' is also a question of entry '{entry_id}': it gets the small-talk reply,"
                        " not the entry",
                    )

    def saved_last(self) -> str | None:
        """The file modified more than ``SAVED_APART`` seconds after every other file, if there is one."""
        if len(self.file_times) < 2:
            return None
        (second, _), (newest, name) = sorted((t, n) for n, t in self.file_times.items())[-2:]
        return name if newest - second > SAVED_APART else None

    def cross_check_questions(self, entries: Mapping[str, Entry]) -> None:
        # One dict lookup per phrasing, each with the line recorded when it was read: finding the line
        # again by scanning the entry's list was quadratic (82,000 phrasings in one entry: 112 s, now 1 s).
        # The file saved last is checked last, so a repeat is reported where it was just added, also when the
        # new file sorts before the old one (a_new.yaml repeating policy.yaml). Only a file saved clearly after
        # all others counts: a fresh checkout writes every file within a moment, and is checked by name.
        latest = self.saved_last()
        seen: dict[str, str] = {}
        ordered = sorted(entries.values(), key=lambda e: (e.file == latest, e.file, e.line))
        for entry in ordered:
            for key, text, line in self.drafts[entry.id].phrasings:
                owner = seen.get(key)
                if owner == entry.id:
                    # Harmless to the matcher, and common in real exports (QnA Maker): kept, and said.
                    self.check.warn(entry.file, line, entry.id, f"question listed twice: {text!r}")
                elif owner is not None:
                    self.check.error(entry.file, line, entry.id, f"the same question is in entry '{owner}': {text!r}")
                seen.setdefault(key, entry.id)

    def warnings(self, entries: Mapping[str, Entry]) -> None:
        cutoff = self.today - dt.timedelta(days=STALE_AFTER_DAYS)
        for entry in entries.values():
            data = self.drafts[entry.id].data
            for lang, texts in entry.questions.items():
                if len(texts) < 3:
                    self.check.warn(
                        entry.file,
                        line_of(data, "questions"),
                        entry.id,
                        f"only {len(texts)} {lang} phrasing(s); 3 or more help the bot recognise the question",
                    )
            figure = entry.figure
            if figure is None:
                continue
            newest = max(figure.sources, key=lambda source: source.published_date)
            if entry.reviewed is not None and entry.reviewed > self.today:
                self.check.error(entry.file, line_of(data, "reviewed"), entry.id, "'reviewed' is a date in the future")
            elif entry.reviewed is not None and entry.reviewed < newest.published_date:
                self.check.error(
                    entry.file,
                    line_of(data, "reviewed"),
                    entry.id,
                    f"'reviewed' is before the source was published ({newest.published})",
                )
            # A fact that names its newer figure (superseded_by) is kept as history on purpose.
            stale = newest.published_date < cutoff and entry.superseded_by is None
            if stale and (entry.reviewed is None or entry.reviewed < cutoff):
                self.check.warn(
                    entry.file,
                    line_of(data, "source"),
                    entry.id,
                    f"figure from a source published {newest.published}, over three years ago: look for a "
                    "newer figure, or set 'reviewed: YYYY-MM-DD' once confirmed",
                )
