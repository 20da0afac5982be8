"""Each record's fields: their types and shapes, reported as ``file:line: entry-id: message``.

Everything here looks at one record at a time (a source, a topic, a synonym group, an entry and its
figure); what refers to another record (a source id, a topic, ``related``, ``{{fact}}``) is resolved in
``validate``. Every problem is collected, never raised, so a file shows all its problems at once.

Hand-written rather than pydantic models (issue 13 asked for pydantic where it removes code; measured,
it does not here). The same checks as pydantic models (h-schema, commit "knowledge: field types and
shapes as pydantic models") gave the same messages but took about 200 more lines of code: pydantic keeps
nothing of a value once one part fails, so telling every problem and still cross-checking an entry's good
phrasings needed pruning and re-validating, every message still needed its own validator, and every loc
its line. The first load also cost about 27 ms more CPU (model building: 108 vs 81 ms for faq/), reloads
7-8% more (benchmarks/README.md, "Issue 13: the knowledge base's schema").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from bot.knowledge.model import (
    LANGS,
    PLACEHOLDER_RE,
    QUALIFIERS,
    UNITS,
    ChatKind,
    Entry,
    Issue,
    Kind,
    SmallTalk,
    Source,
    Topic,
    Unit,
    parse_date,
)
from bot.knowledge.reader import LineDict, LineList, line_of
from bot.matching.text import clean

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_IDS = ("smalltalk", "unclear")  # ``expect:`` values of evaluation cases (bot.matching.evaluate)
# Ids travel in Telegram callback data (64 bytes with a prefix and a question id).
MAX_ID_LENGTH = 48

FAQ_KEYS = ("id", "topic", "questions", "answer", "source", "related", "keywords", "hand_off")
FACT_KEYS = (
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
    "superseded_by",
    "history",
    "questions",
    "related",
    "keywords",
)
# learned.yaml (bot.knowledge.learned): phrasings staff taught by answering a queued question with an entry.
LEARNED_FILE = "learned.yaml"
LEARNED_KEYS = ("entry", "question", "lang", "item", "added", "by")
MAX_LEARNED_CHARS = 300  # a phrasing, not a message pasted in (bot/staff/suggest.py proposes at most 200)
HISTORY_KEYS = ("value", "qualifier", "unit", "period", "source", "verified")
SOURCE_KEYS = ("id", "title", "url", "published", "reprint")
TOPIC_KEYS = ("id", "title", "order")
SMALLTALK_KEYS = ("kinds", "unclear")
CHAT_KIND_KEYS = ("id", "phrases", "reply", "topics", "wraps_questions")
UNCLEAR_KEYS = ("fillers", "reply")


def date_text(value: Any) -> str:
    """A date as the file wrote it (YAML reads ``2024-01-02`` as a date)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def valid_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:  # "http://[" and other malformed IPv6 hosts
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def _mapping_not_text(key: str, value: dict[Any, Any]) -> str:
    """The message for text that YAML read as a mapping: an unquoted "Note: ..." is ``{Note: ...}``."""
    first = next(iter(value), "")
    return (
        f"'{key}' is a mapping ('{first}: ...'), not a text: a colon followed by a space inside unquoted text "
        "starts a mapping; put the text in quotes, or write '>' after the key and the text on the next lines"
    )


class Checker:
    """Collects issues while turning raw YAML data into field values."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def error(self, file: str, line: int, entry_id: str | None, message: str) -> None:
        self.issues.append(Issue(file, line, entry_id, message, "error"))

    def warn(self, file: str, line: int, entry_id: str | None, message: str) -> None:
        self.issues.append(Issue(file, line, entry_id, message, "warning"))

    def text(self, file: str, data: LineDict, key: str, entry_id: str | None, required: bool) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.error(file, data.line, entry_id, f"missing field '{key}'")
            return None
        if isinstance(value, dict):
            self.error(file, line_of(data, key), entry_id, _mapping_not_text(key, value))
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(file, line_of(data, key), entry_id, f"'{key}' must be a text")
            return None
        text = str(value).strip()
        if not text:
            self.error(file, line_of(data, key), entry_id, f"'{key}' is empty")
            return None
        return text

    def localized(self, file: str, data: LineDict, key: str, entry_id: str | None, required: bool) -> dict[str, str]:
        """A per-language text: ``{en: ..., zh: ...}``; a plain string stands for both languages."""
        value = data.get(key)
        line = line_of(data, key)
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
            elif isinstance(text, dict):
                self.error(file, line_of(value, lang), entry_id, _mapping_not_text(f"{key}.{lang}", text))
            elif not isinstance(text, str | int | float) or isinstance(text, bool) or not str(text).strip():
                self.error(file, line, entry_id, f"'{key}.{lang}' is empty")
            else:
                out[lang] = str(text).strip()
        # Only when the loop above said nothing: counting beats scanning every issue found so far, which
        # made a file full of errors quadratic.
        if not out and len(self.issues) == reported:
            self.error(file, line, entry_id, f"'{key}' has no text")
        return out

    def id_list(self, file: str, data: LineDict, key: str, entry_id: str | None) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.error(file, line_of(data, key), entry_id, f"'{key}' must be a list of texts")
            return ()
        return tuple(v.strip() for v in value)

    def unknown_keys(self, file: str, data: LineDict, allowed: Iterable[str], entry_id: str | None) -> None:
        allowed = set(allowed)
        for key in data:
            if key not in allowed:
                self.error(
                    file,
                    line_of(data, key),
                    entry_id,
                    f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})",
                )

    def flag(self, file: str, data: LineDict, key: str, entry_id: str | None, default: bool) -> bool:
        """``true`` or ``false`` (``yes`` is YAML for true; ``"yes"`` in quotes is text, refused)."""
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.error(file, line_of(data, key), entry_id, f"'{key}' must be true or false")
            return default
        return value


# --------------------------------------------------------------------------- sources, topics, synonyms


def source(check: Checker, file: str, data: LineDict, entry_id: str | None, require_id: bool) -> Source | None:
    """A source of ``sources.yaml`` (``require_id``) or written inline under an entry's ``source:``."""
    check.unknown_keys(file, data, SOURCE_KEYS if require_id else SOURCE_KEYS[1:], entry_id)
    sid = check.text(file, data, "id", entry_id, required=require_id) or ""
    who = entry_id or sid or None
    if sid and not ID_RE.match(sid):
        check.error(file, data.line, who, f"source id '{sid}' must be lower-case letters, digits, '-'")
    title = check.text(file, data, "title", who, required=True)
    url = check.text(file, data, "url", who, required=True)
    if url and not valid_url(url):
        check.error(file, line_of(data, "url"), who, f"malformed URL '{url}'")
        url = None
    published_raw = data.get("published")
    published = date_text(published_raw) if published_raw is not None else None
    if published_raw is None:
        check.error(file, data.line, who, "missing field 'published'")
    elif parse_date(published_raw) is None:
        check.error(file, line_of(data, "published"), who, f"malformed date '{published}' (use YYYY-MM-DD or YYYY-MM)")
        published = None
    reprint = check.flag(file, data, "reprint", who, default=False)
    if not (title and url and published):
        return None
    return Source(sid, title, url, published, reprint)


def sources(check: Checker, file: str, data: Any) -> Iterator[tuple[Source, LineDict]]:
    """Each well-formed source of ``sources.yaml``, with its mapping (for the line)."""
    if not isinstance(data, list):
        check.error(file, 1, None, "sources.yaml must be a list of sources")
        return
    for item in data:
        if not isinstance(item, LineDict):
            check.error(file, line_of(data), None, "each source must be a mapping")
            continue
        found = source(check, file, item, None, require_id=True)
        if found is not None:
            yield found, item


def topics(check: Checker, file: str, data: Any) -> Iterator[tuple[Topic, LineDict]]:
    """Each well-formed topic of ``topics.yaml``; ``order`` defaults to the position in the file."""
    if not isinstance(data, list):
        check.error(file, 1, None, "topics.yaml must be a list of topics")
        return
    for position, item in enumerate(data):
        if not isinstance(item, LineDict):
            check.error(file, line_of(data), None, "each topic must be a mapping")
            continue
        check.unknown_keys(file, item, TOPIC_KEYS, item.get("id"))
        tid = check.text(file, item, "id", None, required=True)
        title = check.localized(file, item, "title", tid, required=True)
        order = item.get("order", position + 1)
        if isinstance(order, bool) or not isinstance(order, int):
            check.error(file, line_of(item, "order"), tid, "'order' must be a whole number")
            order = position + 1
        if tid is not None:
            yield Topic(tid, title, order), item


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


# --------------------------------------------------------------------------- small talk


def smalltalk(check: Checker, file: str, data: Any) -> SmallTalk:
    """``smalltalk.yaml``: the small-talk kinds in priority order, the fillers and the unclear reply."""
    from bot.matching.smalltalk import has_words, units

    if not isinstance(data, LineDict):
        check.error(file, 1, None, "smalltalk.yaml must be a mapping with 'kinds' and 'unclear'")
        return SmallTalk()
    check.unknown_keys(file, data, SMALLTALK_KEYS, None)
    owner: dict[tuple[str, ...], str] = {}  # a phrase's units -> where it was first given

    def phrase_lists(item: LineDict, key: str, owner_id: str | None, where: str) -> dict[str, tuple[str, ...]]:
        value, line = item.get(key), line_of(item, key)
        if value is None:
            check.error(file, item.line, owner_id, f"missing field '{key}'")
            return {}
        if not isinstance(value, dict):
            check.error(file, line, owner_id, f"'{key}' must be a mapping of en/zh lists")
            return {}
        out: dict[str, tuple[str, ...]] = {}
        reported = len(check.issues)
        for lang, texts in value.items():
            lang_line = line_of(value, lang)
            if lang not in LANGS:
                check.error(file, lang_line, owner_id, f"'{key}' has unknown language '{lang}' (use en, zh)")
                continue
            if not isinstance(texts, list) or not all(isinstance(t, str | int) for t in texts):
                check.error(file, lang_line, owner_id, f"'{key}.{lang}' must be a list of texts")
                continue
            if any(isinstance(t, bool) for t in texts):
                check.error(
                    file,
                    lang_line,
                    owner_id,
                    f"'{key}.{lang}': put yes, no, on and off in quotes (YAML reads them as true/false)",
                )
                continue
            kept: list[str] = []
            for index, raw in enumerate(texts):
                text = str(raw).strip()
                text_line = texts.item_lines[index] if isinstance(texts, LineList) else lang_line
                if not has_words(text):
                    check.error(file, text_line, owner_id, f"'{text}' has no words to match (letters or Chinese)")
                    continue
                key_units = units(text)
                if key_units in owner and owner[key_units] != where:
                    check.error(file, text_line, owner_id, f"'{text}' is already in {owner[key_units]}")
                    continue
                owner.setdefault(key_units, where)
                kept.append(text)
            out[lang] = tuple(kept)
        if not any(out.values()) and len(check.issues) == reported:
            check.error(file, line, owner_id, f"'{key}' has no phrases")
        return out

    def reply(item: LineDict, owner_id: str | None) -> dict[str, str]:
        texts = check.localized(file, item, "reply", owner_id, required=True)
        missing = [lang for lang in LANGS if lang not in texts]
        if texts and missing:
            check.error(file, line_of(item, "reply"), owner_id, f"'reply' needs a text in {', '.join(missing)}")
        return texts

    kinds: list[ChatKind] = []
    raw_kinds = data.get("kinds")
    if not isinstance(raw_kinds, list):
        check.error(file, line_of(data, "kinds"), None, "'kinds' must be a list of small-talk kinds")
        raw_kinds = []
    seen: set[str] = set()
    for item in raw_kinds:
        if not isinstance(item, LineDict):
            check.error(file, line_of(raw_kinds), None, "each small-talk kind must be a mapping starting with 'id:'")
            continue
        kind_id = check.text(file, item, "id", None, required=True)
        check.unknown_keys(file, item, CHAT_KIND_KEYS, kind_id)
        if kind_id is not None and not ID_RE.match(kind_id):
            check.error(file, line_of(item, "id"), kind_id, "id must be lower-case letters, digits and '-'")
        elif kind_id in seen:
            check.error(file, line_of(item, "id"), kind_id, f"small-talk kind '{kind_id}' is given twice")
        phrases = phrase_lists(item, "phrases", kind_id, f"kind '{kind_id}' (line {item.line})")
        texts = reply(item, kind_id)
        topics = check.flag(file, item, "topics", kind_id, default=False)
        wraps = check.flag(file, item, "wraps_questions", kind_id, default=False)
        if kind_id is not None and kind_id not in seen:
            seen.add(kind_id)
            kinds.append(ChatKind(kind_id, phrases, texts, topics, wraps, item.line))
    unclear = data.get("unclear")
    if not isinstance(unclear, LineDict):
        check.error(file, line_of(data, "unclear") or 1, None, "'unclear' must be a mapping with 'fillers' and 'reply'")
        return SmallTalk(tuple(kinds))
    check.unknown_keys(file, unclear, UNCLEAR_KEYS, None)
    fillers = phrase_lists(unclear, "fillers", None, f"the fillers (line {unclear.line})")
    return SmallTalk(tuple(kinds), fillers, reply(unclear, None))


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
    elif entry_id in RESERVED_IDS:
        check.error(file, line_of(data, "id"), entry_id, f"id '{entry_id}' is reserved (evaluation cases use it)")
    elif len(entry_id) > MAX_ID_LENGTH:
        check.error(
            file, line_of(data, "id"), entry_id, f"id is longer than {MAX_ID_LENGTH} characters (Telegram buttons)"
        )
    kind: Kind = "fact" if "metric" in data else "faq"
    if kind == "fact" and "answer" in data:
        check.error(file, data.line, entry_id, "an entry has either 'answer' (FAQ) or 'metric' (fact), not both")
    check.unknown_keys(file, data, FACT_KEYS if kind == "fact" else FAQ_KEYS, entry_id)

    asked, phrasings = questions(check, file, data, entry_id, required=kind == "faq")
    topic = check.text(file, data, "topic", entry_id, required=False)
    common: dict[str, Any] = {
        "id": entry_id or "",
        "kind": kind,
        "topic": topic,
        "questions": asked,
        "file": file,
        "line": data.line,
        "related": check.id_list(file, data, "related", entry_id),
        "keywords": check.id_list(file, data, "keywords", entry_id),
    }
    placeholders: list[tuple[str, int]] = []
    if kind == "faq":
        answer = check.localized(file, data, "answer", entry_id, required=True)
        for text in answer.values():
            placeholders += [(m.group(1), line_of(data, "answer")) for m in PLACEHOLDER_RE.finditer(text)]
        common["answer"] = answer
        common["hand_off"] = check.flag(file, data, "hand_off", entry_id, default=False)
    else:
        common["metric"] = check.localized(file, data, "metric", entry_id, required=True)
        common["note"] = check.localized(file, data, "note", entry_id, required=True)
        for key in ("value", "unit", "period", "source"):
            if key not in data:
                check.error(file, data.line, entry_id, f"missing field '{key}'")
        reviewed = data.get("reviewed")
        if reviewed is not None:
            common["reviewed"] = parse_date(reviewed)
            if common["reviewed"] is None or len(date_text(reviewed)) != 10:
                check.error(file, line_of(data, "reviewed"), entry_id, "malformed date in 'reviewed' (YYYY-MM-DD)")
                common["reviewed"] = None
        common["superseded_by"] = check.text(file, data, "superseded_by", entry_id, required=False)
    if entry_id is None:
        return None
    return Draft(Entry(**common), data, data.get("source"), placeholders, phrasings)


def questions(
    check: Checker, file: str, data: LineDict, entry_id: str | None, required: bool
) -> tuple[dict[str, tuple[str, ...]], list[tuple[str, str, int]]]:
    """The phrasings by language, and each one's cleaned form and line for the cross-checks."""
    value = data.get("questions")
    found: list[tuple[str, str, int]] = []
    if value is None:
        if required:
            check.error(file, data.line, entry_id, "missing field 'questions'")
        return {}, found
    line = line_of(data, "questions")
    if not isinstance(value, LineDict):
        check.error(file, line, entry_id, "'questions' must be a mapping: {en: [...], zh: [...]}")
        return {}, found
    out: dict[str, tuple[str, ...]] = {}
    for lang, items in value.items():
        lang_line = value.key_lines.get(lang, line)
        if lang not in LANGS:
            check.error(file, lang_line, entry_id, f"'questions' has unknown language '{lang}' (use en, zh)")
            continue
        if not isinstance(items, LineList):
            check.error(file, lang_line, entry_id, f"'questions.{lang}' must be a list of questions")
            continue
        texts: list[str] = []
        for text, text_line in zip(items, items.item_lines, strict=True):
            key = clean(str(text)) if isinstance(text, str | int | float) and not isinstance(text, bool) else ""
            if not key:
                check.error(file, text_line, entry_id, f"empty question in 'questions.{lang}'")
                continue
            texts.append(str(text).strip())
            found.append((key, texts[-1], text_line))
        if texts:
            out[lang] = tuple(texts)
    if required and not out:
        check.error(file, line, entry_id, "'questions' has no question")
    return out, found


# --------------------------------------------------------------------------- a figure's own fields


def value(check: Checker, file: str, data: LineDict, entry_id: str) -> Decimal | None:
    raw = data.get("value")
    if isinstance(raw, bool) or raw is None:
        check.error(file, data.line, entry_id, "'value' must be a number")
        return None
    try:
        number = Decimal(str(raw).replace(",", "").strip())
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        check.error(file, line_of(data, "value"), entry_id, f"'value' must be a number (got {raw!r})")
        return None
    return number


def qualifier(check: Checker, file: str, data: LineDict, entry_id: str) -> str:
    raw = data.get("qualifier", "exact")
    if raw not in QUALIFIERS:
        check.error(file, line_of(data, "qualifier"), entry_id, f"unknown qualifier '{raw}' ({', '.join(QUALIFIERS)})")
        return "exact"
    return str(raw)


def unit(check: Checker, file: str, data: LineDict, entry_id: str) -> Unit | None:
    raw = data.get("unit")
    if isinstance(raw, str) and raw in UNITS:
        return UNITS[raw]
    if isinstance(raw, LineDict):
        texts = check.localized(file, data, "unit", entry_id, required=True)
        if set(texts) == set(LANGS):
            return Unit(texts["en"], texts["zh"])
        check.error(file, line_of(data, "unit"), entry_id, "'unit' needs both en and zh")
        return None
    check.error(
        file,
        line_of(data, "unit"),
        entry_id,
        f"unknown unit {raw!r} (use {', '.join(UNITS)} or {{en: ..., zh: ...}})",
    )
    return None
