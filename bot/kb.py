"""The knowledge base: domain types, loading ``faq/*.yaml`` and validating it.

``load_knowledge_base`` never raises for bad content: it returns every problem found as an
``Issue`` (``file:line: entry-id: message``) and a ``KnowledgeBase`` only when there is no error, so a
broken edit can never replace a good knowledge base that is already serving.
"""

from __future__ import annotations

import codecs
import datetime as dt
import logging
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, NoReturn, Protocol, cast
from urllib.parse import urlsplit

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.error import Mark
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

if yaml.__with_libyaml__:
    from yaml._yaml import CParser

from bot.matching.text import clean

log = logging.getLogger(__name__)

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


class _Composer(Composer):
    """Composes nodes from parser events, refusing aliases and deep nesting before anything is built.

    Aliases are refused outright: staff files do not need them, and refusing them defeats
    "billion laughs" bombs before anything is expanded.
    """

    _depth = 0
    # Provided by the parser it is mixed with (PyYAML's or libyaml's).
    check_event: Callable[..., bool]
    peek_event: Callable[[], yaml.Event]

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._refuse("anchors and aliases (*name) are not allowed here")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                self._refuse(f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _refuse(self, problem: str) -> NoReturn:
        # libyaml's marks have the same attributes as PyYAML's (the stubs type them apart).
        raise ComposerError(None, None, problem, cast(Mark, self.peek_event().start_mark))


class _Constructing(SafeConstructor):
    """``yaml.safe_load``'s constructors, but a value they cannot build is a marked error, not a traceback."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            # ``!!int abc``, ``!!bool maybe``, ``!!timestamp x`` or an integer of 5,000 digits (Python
            # refuses to convert over 4,300) end here from deep inside PyYAML's constructors.
            text = node.value if isinstance(node.value, str) else ""
            digits = sum(c.isdigit() for c in text)
            if isinstance(exc, ValueError) and digits > sys.get_int_max_str_digits():
                problem = f"a number of {digits:,} digits is too long (put it in quotes if it is text)"
            else:
                shown = text if len(text) <= 40 else text[:40] + "..."
                problem = f"{shown!r} cannot be read as {node.tag.rsplit(':', 1)[-1]}"
            raise ConstructorError(None, None, problem, node.start_mark) from exc


class _PythonLoader(Reader, Scanner, Parser, _Composer, _Constructing, Resolver):
    """``yaml.safe_load`` semantics, plus line numbers, and refusing aliases, deep nesting and duplicate keys."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _Composer.__init__(self)
        _Constructing.__init__(self)
        Resolver.__init__(self)


class _YamlLoader(Protocol):
    def get_single_data(self) -> Any: ...
    def dispose(self) -> None: ...


_Loader: Callable[[str], _YamlLoader] = _PythonLoader
if yaml.__with_libyaml__:  # else PyYAML was built without libyaml: the same results, slower

    class _LibyamlLoader(_Composer, CParser, _Constructing, Resolver):
        """The same, with libyaml's scanner and parser (the events) under the same Python composer.

        Parsing is the bulk of a reload once validation is linear: a 5.1 MB file of 90,000 phrasings
        took 4.1 s with the pure-Python parser and 0.36 s with libyaml's events and this composer.
        """

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Composer.__init__(self)
            _Constructing.__init__(self)
            Resolver.__init__(self)

    _Loader = _LibyamlLoader


def _construct_map(loader: _Constructing, node: yaml.MappingNode) -> Iterable[_LineDict]:
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


def _construct_seq(loader: _Constructing, node: yaml.SequenceNode) -> Iterable[_LineList]:
    data = _LineList()
    data.line = node.start_mark.line + 1
    data.item_lines = [child.start_mark.line + 1 for child in node.value]
    yield data
    data.extend(loader.construct_object(child, deep=True) for child in node.value)


def _construct_timestamp(loader: _Constructing, node: yaml.ScalarNode) -> Any:
    # An impossible date such as 2024-13-01 stays text, so validation can name it instead of crashing.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


# cast: PyYAML's stubs accept constructors only for its own loader classes.
_Constructing.add_constructor("tag:yaml.org,2002:timestamp", cast(Any, _construct_timestamp))
_Constructing.add_constructor("tag:yaml.org,2002:map", cast(Any, _construct_map))
_Constructing.add_constructor("tag:yaml.org,2002:seq", cast(Any, _construct_seq))

# What YAML accepts (PyYAML's and libyaml's readers both check exactly this set); anything else is
# refused before parsing, so each one gets its line and column instead of a ReaderError.
_NOT_PRINTABLE_RE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# YAML's line breaks, so lines counted here agree with the parser's for the same file.
_LINE_BREAK_RE = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_CONTROL_NAMES = {
    0x07: "bell",
    0x08: "backspace",
    0x0B: "vertical tab",
    0x0C: "form feed",
    0x1B: "escape",
    0x7F: "delete",
    0xFFFE: "not a character",
    0xFFFF: "not a character",
}
_MAX_CHARACTER_LINES = 20  # a file pasted from a PDF may have hundreds; the first ones show the problem
_MAX_CHARACTERS = 1_000


def _decode(raw: bytes, name: str) -> tuple[str | None, list[Issue]]:
    for bom, encoding in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32")):
        if raw.startswith(bom):
            return None, [Issue(name, 1, None, f"the file is saved as {encoding}: save it as UTF-8")]
    for bom in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if raw.startswith(bom):
            return None, [Issue(name, 1, None, "the file is saved as UTF-16: save it as UTF-8")]
    try:
        # A UTF-8 byte-order mark (Windows Notepad writes one) is fine: YAML skips it.
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            Issue(
                name,
                line,
                None,
                f"not valid UTF-8 text (byte 0x{raw[exc.start]:02x} at byte {column} of the line): save the file "
                "as UTF-8 (it may be in GBK or another older encoding)",
            )
        ]


def _character_issues(text: str, name: str) -> list[Issue]:
    """One issue per line holding characters YAML refuses (control characters, NUL, U+FFFE...)."""
    issues: list[Issue] = []
    line, line_start, counted = 1, 0, 0
    found: dict[int, list[Any]] = {}  # line -> [column, first character, how many on the line]
    stopped: int | None = None
    for seen, match in enumerate(_NOT_PRINTABLE_RE.finditer(text)):
        position = match.start()
        for brk in _LINE_BREAK_RE.finditer(text, counted, position):  # each break is counted once: linear
            line, line_start = line + 1, brk.end()
        counted = position
        if line in found and seen < _MAX_CHARACTERS:
            found[line][2] += 1
        elif len(found) < _MAX_CHARACTER_LINES and seen < _MAX_CHARACTERS:
            found[line] = [position - line_start + 1, match.group(), 1]
        else:  # stop here: a binary file would otherwise cost time and memory for every character
            stopped = line
            break
    for line, (column, char, count) in found.items():
        code = f"U+{ord(char):04X}"
        more = f" (and {count - 1} more on this line)" if count > 1 else ""
        if char == "\x00":
            message = (
                f"NUL character ({code}) at column {column}{more}: is this a binary file, or saved as UTF-16? "
                "Save it as UTF-8 text"
            )
        else:
            label = _CONTROL_NAMES.get(ord(char))
            what = f"{code} ({label})" if label else code
            kind = "invisible control character" if unicodedata.category(char) == "Cc" else "character"
            message = (
                f"{kind} {what} at column {column}{more} is not allowed: delete it "
                "(it often comes with text pasted from a PDF or a word processor)"
            )
        issues.append(Issue(name, line, None, message))
    if stopped is not None:
        issues.append(Issue(name, stopped, None, "more such characters from here on (not listed)"))
    return issues


def _character_at(text: str, line: int, column: int) -> str | None:
    lines = _LINE_BREAK_RE.split(text, maxsplit=line + 1)
    return lines[line][column] if line < len(lines) and column < len(lines[line]) else None


def _yaml_problem(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str]:
    """The line and a staff-readable message for a syntax error, the same with either parser."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    problem = exc.problem or exc.context or "invalid YAML"
    if isinstance(exc, ConstructorError) and "could not determine a constructor" in problem:
        if "2002:merge'" in problem:
            problem = "merge keys (<<) are not allowed: write the keys out"
        else:
            problem = "tags such as !!python/... are not allowed (plain YAML only)"
    elif "exceeded maximum nesting depth" in problem:  # libyaml's own limit, met first in flow style
        problem = f"nested deeper than {MAX_DEPTH} levels"
    elif "tab character" in problem or "cannot start any token" in problem:
        char = _character_at(text, mark.line, mark.column) if mark is not None else None
        if char == "\t" or "tab character" in problem:
            problem = "a tab is used for indentation: indent with spaces"
        elif char is not None:
            problem = f"found character {char!r} that cannot start any token (put the text in quotes)"
    return line, f"YAML error: {problem}"


def read_yaml(path: Path, name: str) -> tuple[Any, list[Issue]]:
    """Read and parse one file; every problem comes back as an issue with a line, never as an exception."""
    try:
        # Non-blocking, then fstat: a FIFO named *.yaml must not hang the reload, and what is checked is
        # what is read (no race between a stat and the open).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            status = os.fstat(handle.fileno())
            if stat.S_ISDIR(status.st_mode):
                return None, [Issue(name, 1, None, "is a folder, not a file: rename or move it")]
            if not stat.S_ISREG(status.st_mode):
                return None, [Issue(name, 1, None, "is not a regular file (a device, pipe or socket)")]
            raw = handle.read(MAX_FILE_BYTES + 1)  # never more than this, even if the file grows meanwhile
    except IsADirectoryError:
        return None, [Issue(name, 1, None, "is a folder, not a file: rename or move it")]
    except FileNotFoundError:
        return None, [Issue(name, 1, None, "is a link to a file that does not exist (or was just deleted)")]
    except OSError as exc:
        return None, [Issue(name, 1, None, f"cannot read the file: {exc.strerror or exc}")]
    if len(raw) > MAX_FILE_BYTES:
        size = max(len(raw), status.st_size)
        return None, [Issue(name, 1, None, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")]
    text, issues = _decode(raw, name)
    if text is None:
        return None, issues
    issues = _character_issues(text, name)
    if issues:
        return None, issues
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:  # cannot happen after the checks above; kept as a message, not a traceback
        return None, [Issue(name, 1, None, f"YAML error: {exc}")]
    try:
        return loader.get_single_data(), []
    except yaml.MarkedYAMLError as exc:
        line, message = _yaml_problem(exc, text)
        return None, [Issue(name, line, None, message)]
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
    try:
        parts = urlsplit(value)
    except ValueError:  # "http://[" and other malformed IPv6 hosts
        return False
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
        reported = len(self.issues)
        for lang, text in value.items():
            if lang not in LANGS:
                self.error(file, line, entry_id, f"'{key}' has unknown language '{lang}' (use en, zh)")
            elif not isinstance(text, str | int | float) or isinstance(text, bool) or not str(text).strip():
                self.error(file, line, entry_id, f"'{key}.{lang}' is empty")
            else:
                out[lang] = str(text).strip()
        # Only when the loop above said nothing: counting beats scanning every issue found so far, which
        # made a file full of errors quadratic.
        if not out and len(self.issues) == reported:
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
    phrasings: list[tuple[str, str, int]] = field(default_factory=list)  # (clean(text), text, line), in order


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

        questions, phrasings = self.questions(file, data, entry_id, required=kind == "faq")
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
        self.drafts[entry_id] = _Draft(Entry(**common), data, draft_source, placeholders, phrasings)

    def questions(
        self, file: str, data: _LineDict, entry_id: str | None, required: bool
    ) -> tuple[dict[str, tuple[str, ...]], list[tuple[str, str, int]]]:
        """The phrasings by language, and each one's cleaned form and line for the cross-checks."""
        value = data.get("questions")
        found: list[tuple[str, str, int]] = []
        if value is None:
            if required:
                self.check.error(file, data.line, entry_id, "missing field 'questions'")
            return {}, found
        line = _line_of(data, "questions")
        if not isinstance(value, _LineDict):
            self.check.error(file, line, entry_id, "'questions' must be a mapping: {en: [...], zh: [...]}")
            return {}, found
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
                key = clean(str(text)) if isinstance(text, str | int | float) and not isinstance(text, bool) else ""
                if not key:
                    self.check.error(file, text_line, entry_id, f"empty question in 'questions.{lang}'")
                    continue
                texts.append(str(text).strip())
                found.append((key, texts[-1], text_line))
            if texts:
                out[lang] = tuple(texts)
        if required and not out:
            self.check.error(file, line, entry_id, "'questions' has no question")
        return out, found

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
        # One dict lookup per phrasing, each with the line recorded when it was read: finding the line
        # again by scanning the entry's list was quadratic (82,000 phrasings in one entry: 112 s, now 1 s).
        seen: dict[str, str] = {}
        for entry in entries.values():
            for key, text, line in self.drafts[entry.id].phrasings:
                owner = seen.get(key)
                if owner == entry.id:
                    self.check.error(entry.file, line, entry.id, f"question listed twice: {text!r}")
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
    """Every ``*.yaml`` of a knowledge-base folder, in a stable order.

    Folders, broken links and unreadable files named ``*.yaml`` are listed too, so that loading names them
    instead of skipping them silently; Emacs lock files (``.#name.yaml``, a link to nowhere while a file is
    being edited) are not. Raises ``OSError`` when the folder cannot be listed.
    """
    with os.scandir(directory) as found:
        names = [e.name for e in found if e.name.endswith(".yaml") and not e.name.startswith(".#")]
    return [directory / name for name in sorted(names)]


def load_knowledge_base(directory: Path, today: dt.date | None = None) -> LoadResult:
    """Read and validate every ``*.yaml`` in ``directory``; see ``faq/README.md`` for the format.

    Never raises: whatever is wrong, on disk or inside a file, comes back as an ``Issue``.
    """
    if not directory.is_dir():
        return LoadResult(None, (Issue(str(directory), 0, None, "knowledge-base folder not found"),))
    try:
        files = entry_files(directory)
    except OSError as exc:
        return LoadResult(None, (Issue(str(directory), 0, None, f"cannot read the folder: {exc.strerror or exc}"),))
    try:
        return _load(directory, files, today or dt.date.today())
    except Exception as exc:  # a bug here must still reach staff as a message (check, startup, /reload)
        log.exception("checking %s failed", directory)
        message = f"internal error while checking the files ({type(exc).__name__}: {exc}); the log has the details"
        return LoadResult(None, (Issue(str(directory), 0, None, message),))


def _load(directory: Path, files: list[Path], today: dt.date) -> LoadResult:
    loading = _Loading(directory, today)
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
