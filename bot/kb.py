"""The knowledge base: domain types, loading ``faq/*.yaml`` and validating it.

``load_knowledge_base`` never raises for bad content: it returns every problem found as an
``Issue`` (``file:line: entry-id: message``) and a ``KnowledgeBase`` only when there is no error, so a
broken edit can never replace a good knowledge base that is already serving.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from bot.text import clean

LANGS = ("en", "zh")
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 32
STALE_AFTER_DAYS = 3 * 365 + 1  # "older than three years", leap day included
SPECIAL_FILES = ("topics.yaml", "synonyms.yaml", "sources.yaml")

_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Ids travel in Telegram callback data (64 bytes with a prefix and a question id).
MAX_ID_LENGTH = 48
PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")

Severity = Literal["error", "warning"]
Kind = Literal["faq", "fact"]


# --------------------------------------------------------------------------- domain types


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
        return _parse_date(self.published) or dt.date.min


@dataclass(frozen=True)
class Topic:
    id: str
    title: Mapping[str, str]
    order: int


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
    related: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    metric: Mapping[str, str] = field(default_factory=dict)
    figure: Figure | None = None
    note: Mapping[str, str] = field(default_factory=dict)
    history: tuple[Figure, ...] = ()
    reviewed: dt.date | None = None

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages this entry can be answered in."""
        texts = self.answer if self.kind == "faq" else self.metric
        return tuple(lang for lang in LANGS if texts.get(lang))

    def headline(self, lang: str) -> str:
        """The entry's first phrasing in ``lang`` (else the other language), for menus and buttons."""
        for candidate in (lang, *LANGS):
            if self.questions.get(candidate):
                return self.questions[candidate][0]
        return self.metric.get(lang) or next(iter(self.metric.values()), self.id)


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated, immutable knowledge base."""

    entries: Mapping[str, Entry]
    topics: tuple[Topic, ...]
    sources: Mapping[str, Source]
    synonyms: tuple[tuple[str, ...], ...]
    directory: Path

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


# --------------------------------------------------------------------------- YAML with line numbers


class _LineDict(dict[str, Any]):
    line: int = 0
    key_lines: dict[str, int]


class _LineList(list[Any]):
    line: int = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    """``yaml.safe_load`` semantics, plus line numbers, and refusing aliases, deep nesting and duplicate keys.

    Aliases are refused outright: staff files do not need them, and refusing them defeats
    "billion laughs" bombs before anything is expanded.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise ComposerError(None, None, "anchors and aliases (*name) are not allowed here", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterable[_LineDict]:
    data = _LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise ConstructorError(None, None, "a key must be plain text", key_node.start_mark)
        key = str(key)
        if key in data:
            raise ConstructorError(None, None, f"key '{key}' appears twice", key_node.start_mark)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Iterable[_LineList]:
    data = _LineList()
    data.line = node.start_mark.line + 1
    data.item_lines = [child.start_mark.line + 1 for child in node.value]
    yield data
    data.extend(loader.construct_object(child, deep=True) for child in node.value)


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    # An impossible date such as 2024-13-01 stays text, so validation can name it instead of crashing.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def read_yaml(path: Path, name: str) -> tuple[Any, list[Issue]]:
    """Parse one file; problems come back as issues, never as exceptions."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [Issue(name, 1, None, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Issue(name, 1, None, f"cannot read the file: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Issue(name, line, None, "not valid UTF-8 text (save the file as UTF-8)")]
    loader = _Loader(text)
    try:
        return loader.get_single_data(), []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        if isinstance(exc, ConstructorError) and "could not determine a constructor" in problem:
            problem = "tags such as !!python/... are not allowed (plain YAML only)"
        return None, [Issue(name, line, None, f"YAML error: {problem}")]
    except yaml.YAMLError as exc:
        return None, [Issue(name, 1, None, f"YAML error: {exc}")]
    except RecursionError:
        return None, [Issue(name, 1, None, "YAML error: nested too deeply")]
    finally:
        loader.dispose()


# --------------------------------------------------------------------------- validation helpers


def _parse_date(value: Any) -> dt.date | None:
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


def _date_text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _valid_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def _line_of(data: Any, key: str | None = None) -> int:
    if isinstance(data, _LineDict):
        return data.key_lines.get(key, data.line) if key else data.line
    return getattr(data, "line", 0)


class _Checker:
    """Collects issues while turning raw YAML data into domain objects."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def error(self, file: str, line: int, entry_id: str | None, message: str) -> None:
        self.issues.append(Issue(file, line, entry_id, message, "error"))

    def warn(self, file: str, line: int, entry_id: str | None, message: str) -> None:
        self.issues.append(Issue(file, line, entry_id, message, "warning"))

    def text(self, file: str, data: _LineDict, key: str, entry_id: str | None, required: bool) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.error(file, data.line, entry_id, f"missing field '{key}'")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(file, _line_of(data, key), entry_id, f"'{key}' must be a text")
            return None
        text = str(value).strip()
        if not text:
            self.error(file, _line_of(data, key), entry_id, f"'{key}' is empty")
            return None
        return text

    def localized(self, file: str, data: _LineDict, key: str, entry_id: str | None, required: bool) -> dict[str, str]:
        """A per-language text: ``{en: ..., zh: ...}``; a plain string stands for both languages."""
        value = data.get(key)
        line = _line_of(data, key)
        if value is None:
            if required:
                self.error(file, data.line, entry_id, f"missing field '{key}'")
            return {}
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value).strip()
            if not text:
                self.error(file, line, entry_id, f"'{key}' is empty")
                return {}
            return dict.fromkeys(LANGS, text)
        if not isinstance(value, dict):
            self.error(file, line, entry_id, f"'{key}' must be a text or a mapping of en/zh texts")
            return {}
        out: dict[str, str] = {}
        for lang, text in value.items():
            if lang not in LANGS:
                self.error(file, line, entry_id, f"'{key}' has unknown language '{lang}' (use en, zh)")
            elif not isinstance(text, str | int | float) or isinstance(text, bool) or not str(text).strip():
                self.error(file, line, entry_id, f"'{key}.{lang}' is empty")
            else:
                out[lang] = str(text).strip()
        if not out and not any(i.line == line and i.entry_id == entry_id for i in self.issues):
            self.error(file, line, entry_id, f"'{key}' has no text")
        return out

    def id_list(self, file: str, data: _LineDict, key: str, entry_id: str | None) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.error(file, _line_of(data, key), entry_id, f"'{key}' must be a list of texts")
            return ()
        return tuple(v.strip() for v in value)

    def unknown_keys(self, file: str, data: _LineDict, allowed: Iterable[str], entry_id: str | None) -> None:
        allowed = set(allowed)
        for key in data:
            if key not in allowed:
                self.error(
                    file,
                    _line_of(data, key),
                    entry_id,
                    f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})",
                )


# --------------------------------------------------------------------------- the loader


_FAQ_KEYS = ("id", "topic", "questions", "answer", "source", "related", "keywords")
_FACT_KEYS = (
    "id",
    "topic",
    "metric",
    "value",
    "qualifier",
    "unit",
    "period",
    "note",
    "source",
    "verified",
    "reviewed",
    "history",
    "questions",
    "related",
    "keywords",
)
_HISTORY_KEYS = ("value", "qualifier", "unit", "period", "source", "verified")
_SOURCE_KEYS = ("id", "title", "url", "published", "reprint")


@dataclass
class _Draft:
    """An entry between parsing and cross-checking (references are resolved last)."""

    entry: Entry
    data: _LineDict
    source_ref: Any = None
    placeholders: list[tuple[str, int]] = field(default_factory=list)


class _Loading:
    def __init__(self, directory: Path, today: dt.date) -> None:
        self.dir = directory
        self.today = today
        self.check = _Checker()
        self.sources: dict[str, Source] = {}
        self.topics: list[Topic] = []
        self.synonyms: list[tuple[str, ...]] = []
        self.drafts: dict[str, _Draft] = {}

    def name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.dir.parent))
        except ValueError:
            return str(path)

    # --- special files

    def load_sources(self, file: str, data: Any) -> None:
        if not isinstance(data, list):
            self.check.error(file, 1, None, "sources.yaml must be a list of sources")
            return
        for item in data:
            if not isinstance(item, _LineDict):
                self.check.error(file, _line_of(data), None, "each source must be a mapping")
                continue
            source = self.inline_source(file, item, None, require_id=True)
            if source is None:
                continue
            if source.id in self.sources:
                self.check.error(file, item.line, source.id, f"source id '{source.id}' is used twice")
            self.sources[source.id] = source

    def inline_source(self, file: str, data: _LineDict, entry_id: str | None, require_id: bool) -> Source | None:
        self.check.unknown_keys(file, data, _SOURCE_KEYS if require_id else _SOURCE_KEYS[1:], entry_id)
        sid = self.check.text(file, data, "id", entry_id, required=require_id) or ""
        who = entry_id or sid or None
        if sid and not _ID_RE.match(sid):
            self.check.error(file, data.line, who, f"source id '{sid}' must be lower-case letters, digits, '-'")
        title = self.check.text(file, data, "title", who, required=True)
        url = self.check.text(file, data, "url", who, required=True)
        if url and not _valid_url(url):
            self.check.error(file, _line_of(data, "url"), who, f"malformed URL '{url}'")
            url = None
        published_raw = data.get("published")
        published = _date_text(published_raw) if published_raw is not None else None
        if published_raw is None:
            self.check.error(file, data.line, who, "missing field 'published'")
        elif _parse_date(published_raw) is None:
            self.check.error(
                file, _line_of(data, "published"), who, f"malformed date '{published}' (use YYYY-MM-DD or YYYY-MM)"
            )
            published = None
        reprint = data.get("reprint", False)
        if not isinstance(reprint, bool):
            self.check.error(file, _line_of(data, "reprint"), who, "'reprint' must be true or false")
            reprint = False
        if not (title and url and published):
            return None
        return Source(sid, title, url, published, reprint)

    def load_topics(self, file: str, data: Any) -> None:
        if not isinstance(data, list):
            self.check.error(file, 1, None, "topics.yaml must be a list of topics")
            return
        seen: set[str] = set()
        for position, item in enumerate(data):
            if not isinstance(item, _LineDict):
                self.check.error(file, _line_of(data), None, "each topic must be a mapping")
                continue
            self.check.unknown_keys(file, item, ("id", "title", "order"), item.get("id"))
            tid = self.check.text(file, item, "id", None, required=True)
            title = self.check.localized(file, item, "title", tid, required=True)
            order = item.get("order", position + 1)
            if isinstance(order, bool) or not isinstance(order, int):
                self.check.error(file, _line_of(item, "order"), tid, "'order' must be a whole number")
                order = position + 1
            if tid is None:
                continue
            if tid in seen:
                self.check.error(file, item.line, tid, f"topic id '{tid}' is used twice")
            seen.add(tid)
            self.topics.append(Topic(tid, title, order))
        self.topics.sort(key=lambda t: t.order)

    def load_synonyms(self, file: str, data: Any) -> None:
        if not isinstance(data, list):
            self.check.error(file, 1, None, "synonyms.yaml must be a list of groups, e.g. - [bda, e-town, 亦庄]")
            return
        owner: dict[str, int] = {}
        for index, group in enumerate(data):
            line = data.item_lines[index] if isinstance(data, _LineList) else 1
            if not isinstance(group, list) or not all(isinstance(t, str | int) for t in group):
                self.check.error(file, line, None, "a synonym group must be a list of terms")
                continue
            terms = tuple(str(t).strip() for t in group)
            if len(terms) < 2 or any(not clean(t) for t in terms):
                self.check.error(file, line, None, "a synonym group needs at least two non-empty terms")
                continue
            for term in terms:
                key = clean(term)
                if key in owner and owner[key] != line:
                    self.check.error(file, line, None, f"'{term}' is already in the group on line {owner[key]}")
                owner[key] = line
            self.synonyms.append(terms)

    # --- entries

    def load_entries(self, file: str, data: Any) -> None:
        if data is None:
            return
        if not isinstance(data, list):
            self.check.error(file, 1, None, "an entries file must be a list of entries (each starting with '- id:')")
            return
        for item in data:
            if not isinstance(item, _LineDict):
                self.check.error(file, _line_of(data), None, "each entry must be a mapping starting with 'id:'")
                continue
            self.load_entry(file, item)

    def load_entry(self, file: str, data: _LineDict) -> None:
        raw_id = data.get("id")
        entry_id = str(raw_id).strip() if isinstance(raw_id, str | int) else None
        if entry_id is None:
            self.check.error(file, data.line, None, "missing field 'id'")
        elif not _ID_RE.match(entry_id):
            self.check.error(file, _line_of(data, "id"), entry_id, "id must be lower-case letters, digits and '-'")
        elif len(entry_id) > MAX_ID_LENGTH:
            self.check.error(
                file, _line_of(data, "id"), entry_id, f"id is longer than {MAX_ID_LENGTH} characters (Telegram buttons)"
            )
        kind: Kind = "fact" if "metric" in data else "faq"
        if kind == "fact" and "answer" in data:
            self.check.error(
                file, data.line, entry_id, "an entry has either 'answer' (FAQ) or 'metric' (fact), not both"
            )
        self.check.unknown_keys(file, data, _FACT_KEYS if kind == "fact" else _FAQ_KEYS, entry_id)

        questions = self.questions(file, data, entry_id, required=kind == "faq")
        topic = self.check.text(file, data, "topic", entry_id, required=False)
        draft_source = data.get("source")
        common: dict[str, Any] = {
            "id": entry_id or "",
            "kind": kind,
            "topic": topic,
            "questions": questions,
            "file": file,
            "line": data.line,
            "related": self.check.id_list(file, data, "related", entry_id),
            "keywords": self.check.id_list(file, data, "keywords", entry_id),
        }
        placeholders: list[tuple[str, int]] = []
        if kind == "faq":
            answer = self.check.localized(file, data, "answer", entry_id, required=True)
            for text in answer.values():
                placeholders += [(m.group(1), _line_of(data, "answer")) for m in PLACEHOLDER_RE.finditer(text)]
            common["answer"] = answer
        else:
            common["metric"] = self.check.localized(file, data, "metric", entry_id, required=True)
            common["note"] = self.check.localized(file, data, "note", entry_id, required=True)
            for key in ("value", "unit", "period", "source"):
                if key not in data:
                    self.check.error(file, data.line, entry_id, f"missing field '{key}'")
            reviewed = data.get("reviewed")
            if reviewed is not None:
                common["reviewed"] = _parse_date(reviewed)
                if common["reviewed"] is None or len(_date_text(reviewed)) != 10:
                    self.check.error(
                        file, _line_of(data, "reviewed"), entry_id, "malformed date in 'reviewed' (YYYY-MM-DD)"
                    )
                    common["reviewed"] = None
        if entry_id is None:
            return
        if entry_id in self.drafts:
            first = self.drafts[entry_id].entry
            self.check.error(file, data.line, entry_id, f"duplicate id (first defined at {first.file}:{first.line})")
            return
        self.drafts[entry_id] = _Draft(Entry(**common), data, draft_source, placeholders)

    def questions(self, file: str, data: _LineDict, entry_id: str | None, required: bool) -> dict[str, tuple[str, ...]]:
        value = data.get("questions")
        if value is None:
            if required:
                self.check.error(file, data.line, entry_id, "missing field 'questions'")
            return {}
        line = _line_of(data, "questions")
        if not isinstance(value, _LineDict):
            self.check.error(file, line, entry_id, "'questions' must be a mapping: {en: [...], zh: [...]}")
            return {}
        out: dict[str, tuple[str, ...]] = {}
        for lang, items in value.items():
            lang_line = value.key_lines.get(lang, line)
            if lang not in LANGS:
                self.check.error(file, lang_line, entry_id, f"'questions' has unknown language '{lang}' (use en, zh)")
                continue
            if not isinstance(items, _LineList):
                self.check.error(file, lang_line, entry_id, f"'questions.{lang}' must be a list of questions")
                continue
            texts: list[str] = []
            for text, text_line in zip(items, items.item_lines, strict=True):
                if not isinstance(text, str | int | float) or isinstance(text, bool) or not clean(str(text)):
                    self.check.error(file, text_line, entry_id, f"empty question in 'questions.{lang}'")
                    continue
                texts.append(str(text).strip())
            if texts:
                out[lang] = tuple(texts)
        if required and not out:
            self.check.error(file, line, entry_id, "'questions' has no question")
        return out

    # --- cross-checks, once everything is read

    def resolve_source(self, file: str, line: int, entry_id: str, ref: Any) -> Source | None:
        if isinstance(ref, str):
            source = self.sources.get(ref.strip())
            if source is None:
                self.check.error(file, line, entry_id, f"unknown source '{ref}' (not in sources.yaml)")
            return source
        if isinstance(ref, _LineDict):
            return self.inline_source(file, ref, entry_id, require_id=False)
        self.check.error(file, line, entry_id, "'source' must be a source id or {title, url, published}")
        return None

    def figure(self, file: str, data: _LineDict, entry_id: str, default_unit: Unit | None) -> Figure | None:
        line = data.line
        raw_value = data.get("value")
        value: Decimal | None = None
        if isinstance(raw_value, bool) or raw_value is None:
            self.check.error(file, line, entry_id, "'value' must be a number")
        else:
            try:
                value = Decimal(str(raw_value).replace(",", "").strip())
                if not value.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                self.check.error(
                    file, _line_of(data, "value"), entry_id, f"'value' must be a number (got {raw_value!r})"
                )
                value = None
        qualifier = data.get("qualifier", "exact")
        if qualifier not in QUALIFIERS:
            self.check.error(
                file,
                _line_of(data, "qualifier"),
                entry_id,
                f"unknown qualifier '{qualifier}' ({', '.join(QUALIFIERS)})",
            )
            qualifier = "exact"
        unit = self.unit(file, data, entry_id) if "unit" in data else default_unit
        period = self.check.localized(file, data, "period", entry_id, required=True)
        source = (
            self.resolve_source(file, _line_of(data, "source"), entry_id, data["source"]) if "source" in data else None
        )
        verified = data.get("verified", True)
        if not isinstance(verified, bool):
            self.check.error(file, _line_of(data, "verified"), entry_id, "'verified' must be true or false")
            verified = True
        if source is not None and source.reprint and verified:
            self.check.error(
                file,
                _line_of(data, "source"),
                entry_id,
                f"source '{source.id or source.title}' is a reprint: mark the figure 'verified: false'",
            )
        if value is None or unit is None or not period or source is None:
            return None
        return Figure(value, str(qualifier), unit, period, source, verified)

    def unit(self, file: str, data: _LineDict, entry_id: str) -> Unit | None:
        raw = data.get("unit")
        if isinstance(raw, str) and raw in UNITS:
            return UNITS[raw]
        if isinstance(raw, _LineDict):
            texts = self.check.localized(file, data, "unit", entry_id, required=True)
            if set(texts) == set(LANGS):
                return Unit(texts["en"], texts["zh"])
            self.check.error(file, _line_of(data, "unit"), entry_id, "'unit' needs both en and zh")
            return None
        self.check.error(
            file,
            _line_of(data, "unit"),
            entry_id,
            f"unknown unit {raw!r} (use {', '.join(UNITS)} or {{en: ..., zh: ...}})",
        )
        return None

    def finish(self) -> dict[str, Entry]:
        entries: dict[str, Entry] = {}
        topic_ids = {t.id for t in self.topics}
        for entry_id, draft in self.drafts.items():
            entry, data, file = draft.entry, draft.data, draft.entry.file
            updates: dict[str, Any] = {}
            if entry.kind == "faq" and draft.source_ref is not None:
                updates["source"] = self.resolve_source(file, _line_of(data, "source"), entry_id, draft.source_ref)
            if entry.kind == "fact":
                figure = self.figure(file, data, entry_id, None)
                updates["figure"] = figure
                updates["source"] = figure.source if figure else None
                updates["history"] = self.history(file, data, entry_id, figure)
            if entry.topic is not None and self.topics and entry.topic not in topic_ids:
                self.check.error(
                    file, _line_of(data, "topic"), entry_id, f"unknown topic '{entry.topic}' (not in topics.yaml)"
                )
            for related in entry.related:
                if related not in self.drafts:
                    self.check.error(
                        file, _line_of(data, "related"), entry_id, f"related id '{related}' does not exist"
                    )
                elif related == entry_id:
                    self.check.error(file, _line_of(data, "related"), entry_id, "an entry cannot be related to itself")
            for ref, line in draft.placeholders:
                target = self.drafts.get(ref)
                if target is None or target.entry.kind != "fact":
                    self.check.error(file, line, entry_id, f"'{{{{{ref}}}}}' is not the id of a fact")
            entries[entry_id] = Entry(**{**entry.__dict__, **updates})
        self.cross_check_questions(entries)
        self.warnings(entries)
        return entries

    def history(self, file: str, data: _LineDict, entry_id: str, figure: Figure | None) -> tuple[Figure, ...]:
        raw = data.get("history")
        if raw is None:
            return ()
        if not isinstance(raw, _LineList):
            self.check.error(file, _line_of(data, "history"), entry_id, "'history' must be a list of older figures")
            return ()
        out: list[Figure] = []
        for item in raw:
            if not isinstance(item, _LineDict):
                self.check.error(file, raw.line, entry_id, "each 'history' item must be a mapping")
                continue
            self.check.unknown_keys(file, item, _HISTORY_KEYS, entry_id)
            if "source" not in item:
                self.check.error(file, item.line, entry_id, "missing field 'source' in history item")
                continue
            older = self.figure(file, item, entry_id, figure.unit if figure else None)
            if older is not None:
                out.append(older)
        return tuple(out)

    def cross_check_questions(self, entries: Mapping[str, Entry]) -> None:
        seen: dict[str, str] = {}
        for entry in entries.values():
            data = self.drafts[entry.id].data
            for lang, texts in entry.questions.items():
                for text in texts:
                    key = clean(text)
                    owner = seen.get(key)
                    line = self.question_line(data, lang, text)
                    if owner == entry.id:
                        self.check.error(entry.file, line, entry.id, f"question listed twice: {text!r}")
                    elif owner is not None:
                        self.check.error(
                            entry.file, line, entry.id, f"the same question is in entry '{owner}': {text!r}"
                        )
                    seen.setdefault(key, entry.id)

    @staticmethod
    def question_line(data: _LineDict, lang: str, text: str) -> int:
        questions = data.get("questions")
        if isinstance(questions, _LineDict):
            items = questions.get(lang)
            if isinstance(items, _LineList):
                for item, line in zip(items, items.item_lines, strict=True):
                    if isinstance(item, str) and item.strip() == text:
                        return line
        return data.line

    def warnings(self, entries: Mapping[str, Entry]) -> None:
        cutoff = self.today - dt.timedelta(days=STALE_AFTER_DAYS)
        for entry in entries.values():
            data = self.drafts[entry.id].data
            for lang, texts in entry.questions.items():
                if len(texts) < 3:
                    self.check.warn(
                        entry.file,
                        _line_of(data, "questions"),
                        entry.id,
                        f"only {len(texts)} {lang} phrasing(s); 3 or more help the bot recognise the question",
                    )
            figure = entry.figure
            stale = figure is not None and figure.source.published_date < cutoff
            if figure is not None and stale and (entry.reviewed is None or entry.reviewed < cutoff):
                self.check.warn(
                    entry.file,
                    _line_of(data, "source"),
                    entry.id,
                    f"figure from a source published {figure.source.published}, over three years ago: look for a "
                    "newer figure, or set 'reviewed: YYYY-MM-DD' once confirmed",
                )


def entry_files(directory: Path) -> list[Path]:
    """The YAML files of a knowledge-base folder, in a stable order."""
    return sorted(p for p in directory.glob("*.yaml") if p.is_file())


def load_knowledge_base(directory: Path, today: dt.date | None = None) -> LoadResult:
    """Read and validate every ``*.yaml`` in ``directory``; see ``faq/README.md`` for the format."""
    loading = _Loading(directory, today or dt.date.today())
    if not directory.is_dir():
        return LoadResult(None, (Issue(str(directory), 0, None, "knowledge-base folder not found"),))
    files = entry_files(directory)
    parsed: dict[str, tuple[str, Any]] = {}
    for path in files:
        name = loading.name(path)
        data, problems = read_yaml(path, name)
        loading.check.issues.extend(problems)
        if not problems:
            parsed[path.name] = (name, data)
    # Sources and topics first: entries refer to them.
    for special, load in (
        ("sources.yaml", loading.load_sources),
        ("topics.yaml", loading.load_topics),
        ("synonyms.yaml", loading.load_synonyms),
    ):
        if special in parsed:
            name, data = parsed.pop(special)
            load(name, data)
    for name, data in parsed.values():
        loading.load_entries(name, data)
    entries = loading.finish()
    if not entries and not any(i.severity == "error" for i in loading.check.issues):
        loading.check.error(str(directory), 0, None, "no entries found (add a *.yaml file with a list of entries)")
    issues = tuple(sorted(loading.check.issues, key=lambda i: (i.severity != "error", i.file, i.line)))
    if any(i.severity == "error" for i in issues):
        return LoadResult(None, issues)
    kb = KnowledgeBase(
        entries=entries,
        topics=tuple(loading.topics),
        sources=loading.sources,
        synonyms=tuple(loading.synonyms),
        directory=directory,
    )
    return LoadResult(kb, issues)
