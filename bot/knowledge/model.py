"""The knowledge base's domain types: frozen, built only from files that passed every check."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

LANGS = ("en", "zh")
# ``{{fact-id}}`` in an answer shows that fact's figure.
PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")

Severity = Literal["error", "warning"]
Kind = Literal["faq", "fact"]


def parse_date(value: Any) -> dt.date | None:
    """A date as the files write it (YYYY-MM-DD, or YYYY-MM for the first of the month), else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    match = _DATE_RE.match(str(value).strip()) if isinstance(value, str | int) else None
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3] or 1))
    except ValueError:
        return None


@dataclass(frozen=True)
class Issue:
    """One problem found in the knowledge base, printed as ``file:line: entry-id: message``."""

    file: str
    line: int
    entry_id: str | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {self.entry_id or '-'}: {prefix}{self.message}"


@dataclass(frozen=True)
class Source:
    """Where a statement or figure comes from."""

    id: str
    title: str
    url: str
    published: str  # YYYY-MM-DD or YYYY-MM, as the page gives it
    reprint: bool = False

    @property
    def published_date(self) -> dt.date:
        """The publication date (the first of the month when only the month is known)."""
        return parse_date(self.published) or dt.date.min


@dataclass(frozen=True)
class Topic:
    id: str
    title: Mapping[str, str]
    order: int

    def label(self, lang: str) -> str:
        """The title in a reply language (``zh-Hant`` converted from ``zh``; else the other language)."""
        from bot.languages import localized

        return localized(self.title, lang) or self.id


@dataclass(frozen=True)
class Unit:
    """How a figure's unit reads in each language; Chinese may use a scaled unit (亿 = 100 million)."""

    en: str
    zh: str
    zh_scale: int = 1
    attached: bool = False  # written without a space after the number ("43.55%")


UNITS: dict[str, Unit] = {
    "yuan": Unit("yuan", "元"),
    "million_yuan": Unit("million yuan", "万元", 100),
    "billion_yuan": Unit("billion yuan", "亿元", 10),
    "million_usd": Unit("million US dollars", "万美元", 100),
    "billion_usd": Unit("billion US dollars", "亿美元", 10),
    "trillion_yuan": Unit("trillion yuan", "万亿元"),
    "billion_eur": Unit("billion euros", "亿欧元", 10),
    "percent": Unit("%", "%", attached=True),
    "km2": Unit("square kilometres", "平方公里"),
    "m2": Unit("square metres", "平方米"),
    "companies": Unit("companies", "家企业"),
    "count": Unit("", ""),
}
QUALIFIERS = ("exact", "more_than", "nearly", "about", "up_to", "at_least")


@dataclass(frozen=True)
class Figure:
    """One sourced number with the period it describes."""

    value: Decimal
    qualifier: str
    unit: Unit
    period: Mapping[str, str]
    source: Source
    verified: bool
    also: tuple[Source, ...] = ()  # further sources giving the same figure (``source: [s6, s7]``)

    @property
    def sources(self) -> tuple[Source, ...]:
        return (self.source, *self.also)


@dataclass(frozen=True)
class Entry:
    """An FAQ entry (``kind == "faq"``, with ``answer``) or a fact (``kind == "fact"``, with ``figure``)."""

    id: str
    kind: Kind
    topic: str | None
    questions: Mapping[str, tuple[str, ...]]
    file: str
    line: int
    answer: Mapping[str, str] = field(default_factory=dict)
    source: Source | None = None
    also: tuple[Source, ...] = ()  # further sources confirming the answer (``source: [s20, s22]``)
    related: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    metric: Mapping[str, str] = field(default_factory=dict)
    figure: Figure | None = None
    note: Mapping[str, str] = field(default_factory=dict)
    history: tuple[Figure, ...] = ()
    reviewed: dt.date | None = None
    superseded_by: str | None = None  # a fact with a newer figure for the same metric
    hand_off: bool = False  # answering it also passes the question to staff ("I want to talk to a person")

    @property
    def sources(self) -> tuple[Source, ...]:
        """Every source the entry itself cites, the first one first."""
        return () if self.source is None else (self.source, *self.also)

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages this entry can be answered in."""
        texts = self.answer if self.kind == "faq" else self.metric
        return tuple(lang for lang in LANGS if texts.get(lang))

    def headline(self, lang: str) -> str:
        """The entry's first phrasing in ``lang`` (else the other language), for menus and buttons;
        ``zh-Hant``: the Chinese one in Traditional characters."""
        if lang == "zh-Hant":
            from bot.languages import to_traditional

            return to_traditional(self.headline("zh"))
        for candidate in (lang, *LANGS):
            if self.questions.get(candidate):
                return self.questions[candidate][0]
        return self.metric.get(lang) or next(iter(self.metric.values()), self.id)


@dataclass(frozen=True)
class ChatKind:
    """One kind of small talk (``smalltalk.yaml``): its phrases per language and the bot's reply."""

    id: str
    phrases: Mapping[str, tuple[str, ...]]
    reply: Mapping[str, str]
    topics: bool = False  # the reply shows the topic buttons (greetings)
    wraps_questions: bool = False  # its phrases may open or close a question ("hi, ...", "..., thanks")
    line: int = 0


@dataclass(frozen=True)
class SmallTalk:
    """What the bot says to small talk and to messages with nothing it can use (``smalltalk.yaml``).

    ``kinds`` in priority order (a message mixing kinds gets the first's reply); ``fillers``: words that
    carry no question ("hmm", "嗯"); ``unclear``: the reply asking to rephrase.
    """

    kinds: tuple[ChatKind, ...] = ()
    fillers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unclear: Mapping[str, str] = field(default_factory=dict)

    def kind(self, kind_id: str) -> ChatKind | None:
        return next((k for k in self.kinds if k.id == kind_id), None)


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated, immutable knowledge base."""

    entries: Mapping[str, Entry]
    topics: tuple[Topic, ...]
    sources: Mapping[str, Source]
    synonyms: tuple[tuple[str, ...], ...]
    directory: Path
    smalltalk: SmallTalk = field(default_factory=SmallTalk)

    def matchable(self) -> list[Entry]:
        """Entries investors can reach by asking: those with at least one phrasing."""
        return [e for e in self.entries.values() if any(e.questions.values())]

    def topic_entries(self, topic_id: str) -> list[Entry]:
        return [e for e in self.matchable() if e.topic == topic_id]

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


@dataclass(frozen=True)
class LoadResult:
    """What loading found: the knowledge base (None when any error) and every issue."""

    kb: KnowledgeBase | None
    issues: tuple[Issue, ...]

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]
