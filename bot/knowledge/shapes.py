"""Each record's field types and shapes as pydantic models, and their errors as ``file:line`` messages.

Imported only when files are checked (``schema`` imports it lazily): importing pydantic costs about
65 ms (bot/config.py), which ``etown-bot --help`` must not pay; the bot and ``etown-bot check`` have
already paid it for the configuration by the time they load the knowledge base.

pydantic stops at the first failing field of a value and gives no partial result, while staff need
every problem at once and the rest of an entry still checked (its phrasings, for the repeated-question
checks and the warnings). So every field of a ``Record`` goes through ``_keep``: a field that fails is
recorded, the failing parts (by pydantic's ``loc``) are pruned and the rest validated again, and what
passes is kept. ``check`` then turns each error's ``loc`` into the line the reader recorded for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal, cast
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError

from bot.knowledge.model import LANGS, QUALIFIERS, UNITS, Unit, parse_date
from bot.knowledge.reader import LineDict, LineList
from bot.matching.text import clean

Lang = Literal["en", "zh"]

# What each error says; ``{field}`` is the record's key, ``{lang}`` the language in the loc, ``{got}`` the
# value's repr and ``{value}`` the value as text (the wording of the hand-written checks, unchanged).
MESSAGES: dict[str, str] = {
    "missing": "missing field '{field}'",
    "extra_forbidden": "unknown key '{field}' (allowed: {allowed})",
    "text": "'{field}' must be a text",
    "empty": "'{field}' is empty",
    "localized": "'{field}' must be a text or a mapping of en/zh texts",
    "literal_error": "'{field}' has unknown language '{lang}' (use en, zh)",
    "lang_empty": "'{field}.{lang}' is empty",
    "too_short": "'{field}' has no text",
    "id_list": "'{field}' must be a list of texts",
    "flag": "'{field}' must be true or false",
    "whole": "'{field}' must be a whole number",
    "questions_mapping": "'questions' must be a mapping: {{en: [...], zh: [...]}}",
    "questions_list": "'questions.{lang}' must be a list of questions",
    "question_empty": "empty question in 'questions.{lang}'",
    "no_question": "'questions' has no question",
    "value_none": "'value' must be a number",
    "value": "'value' must be a number (got {got})",
    "qualifier": f"unknown qualifier '{{value}}' ({', '.join(QUALIFIERS)})",
    "unit": f"unknown unit {{got}} (use {', '.join(UNITS)} or {{{{en: ..., zh: ...}}}})",
    "unit_both": "'unit' needs both en and zh",
    "url": "malformed URL '{value}'",
    "published": "malformed date '{value}' (use YYYY-MM-DD or YYYY-MM)",
    "reviewed": "malformed date in 'reviewed' (YYYY-MM-DD)",
}
# Said on the record's own line (its ``- id:``), as the hand-written checks did.
_ON_RECORD_LINE = frozenset({"missing", "value_none"})
# "has no text" only when nothing else was wrong in the mapping: after pruning it would be said of every
# mapping whose languages were all wrong.
_FIRST_PASS_ONLY = frozenset({"too_short"})


def _fail(kind: str, value: Any = None) -> PydanticCustomError:
    return PydanticCustomError(kind, kind, {"value": value})


def _textlike(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


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


# --------------------------------------------------------------------------- field types


def _text(value: Any) -> str:
    if value is None:
        raise _fail("missing")
    if not _textlike(value):
        raise _fail("text")
    if not (text := str(value).strip()):
        raise _fail("empty")
    return text


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _lang_text(value: Any) -> str:
    if not _textlike(value) or not (text := str(value).strip()):
        raise _fail("lang_empty")
    return text


def _localized_input(value: Any) -> Any:
    """A plain text stands for both languages."""
    if value is None:
        raise _fail("missing")
    if _textlike(value):
        if not (text := str(value).strip()):
            raise _fail("empty")
        return dict.fromkeys(LANGS, text)
    if not isinstance(value, dict):
        raise _fail("localized")
    return value


def _id_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail("id_list")
    return tuple(v.strip() for v in value)


def _flag(value: Any) -> bool:
    """``true`` or ``false`` (``yes`` is YAML for true; ``"yes"`` in quotes is text, refused)."""
    if not isinstance(value, bool):
        raise _fail("flag")
    return value


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail("whole")
    return value


def _url(value: Any) -> str:
    text = _text(value)
    if not valid_url(text):
        raise _fail("url", text)
    return text


def _published(value: Any) -> str:
    if value is None:
        raise _fail("missing")
    if parse_date(value) is None:
        raise _fail("published", date_text(value))
    return date_text(value)


def _reviewed(value: Any) -> dt.date | None:
    if value is None:
        return None
    date = parse_date(value)
    if date is None or len(date_text(value)) != 10:
        raise _fail("reviewed")
    return date


def _value(value: Any) -> Decimal:
    if value is None or isinstance(value, bool):
        raise _fail("value_none")
    try:
        number = Decimal(str(value).replace(",", "").strip())
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise _fail("value", value) from None
    return number


def _qualifier(value: Any) -> str:
    if value not in QUALIFIERS:
        raise _fail("qualifier", value)
    return str(value)


def _unit(value: Any, handler: ValidatorFunctionWrapHandler) -> Unit:
    """A unit's name (``percent``), or how it reads in each language."""
    if isinstance(value, str) and value in UNITS:
        return UNITS[value]
    if not isinstance(value, dict):
        raise _fail("unit", value)
    texts = handler(value)
    if set(texts) != set(LANGS):
        raise _fail("unit_both")
    return Unit(texts["en"], texts["zh"])


def _question(value: Any) -> tuple[str, str]:
    """A phrasing and its cleaned form (what the repeated-question check compares)."""
    key = clean(str(value)) if _textlike(value) else ""
    if not key:
        raise _fail("question_empty")
    return key, str(value).strip()


def _question_list(value: Any) -> Any:
    if not isinstance(value, list):
        raise _fail("questions_list")
    return value


def _questions_input(value: Any) -> Any:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail("questions_mapping")
    return value


def _required_questions_input(value: Any) -> Any:
    if value is None:
        raise _fail("missing")
    return _questions_input(value)


def _asked(value: dict[str, tuple[tuple[str, str], ...]]) -> dict[str, tuple[tuple[str, str], ...]]:
    return {lang: items for lang, items in value.items() if items}


def _asked_something(value: dict[str, tuple[tuple[str, str], ...]]) -> dict[str, tuple[tuple[str, str], ...]]:
    if not (asked := _asked(value)):
        raise _fail("no_question")
    return asked


Text = Annotated[str, PlainValidator(_text)]
OptionalText = Annotated[str | None, PlainValidator(_optional_text)]
Localized = Annotated[
    dict[Lang, Annotated[str, PlainValidator(_lang_text)]], Field(min_length=1), BeforeValidator(_localized_input)
]
IdList = Annotated[tuple[str, ...], PlainValidator(_id_list)]
Flag = Annotated[bool, PlainValidator(_flag)]
Phrasings = dict[
    Lang, Annotated[tuple[Annotated[tuple[str, str], PlainValidator(_question)], ...], BeforeValidator(_question_list)]
]
Questions = Annotated[Phrasings, AfterValidator(_asked), BeforeValidator(_questions_input)]
RequiredQuestions = Annotated[Phrasings, AfterValidator(_asked_something), BeforeValidator(_required_questions_input)]
# The wrap's handler reads the {en, zh} mapping; a unit's name never reaches it.
UnitField = Annotated[dict[Lang, Annotated[str, PlainValidator(_lang_text)]], WrapValidator(_unit)]


# --------------------------------------------------------------------------- models


class _Failed:
    """A field that failed whole: nothing of it is kept."""


_FAILED = _Failed()


class _Found:
    """What one record's validation found: the fields that passed and every error (loc, type, value)."""

    __slots__ = ("errors", "values")

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.errors: list[tuple[tuple[str | int, ...], str, Any]] = []


def _value_of(error: Any) -> Any:
    """The value a message shows: what our check named (a URL as text), else what pydantic was given."""
    return (error.get("ctx") or {}).get("value", error["input"])


def _prune(value: Any, locs: list[tuple[str | int, ...]]) -> Any:
    """``value`` without the parts at ``locs`` (relative to it); ``_FAILED`` when a loc is the whole."""
    if any(not loc for loc in locs):
        return _FAILED
    below: dict[str | int, list[tuple[str | int, ...]]] = {}
    for loc in locs:
        below.setdefault(loc[0], []).append(loc[1:])
    if isinstance(value, dict):
        kept = dict(value)
        for key, rest in below.items():
            part = _FAILED if ("[key]",) in rest else _prune(kept.get(key), rest)
            if part is _FAILED:
                kept.pop(key, None)
            else:
                kept[key] = part
        return kept
    if isinstance(value, list):
        out = []
        for index, item in enumerate(value):
            if index in below and (item := _prune(item, below[index])) is _FAILED:
                continue
            out.append(item)
        return out
    return _FAILED


class Record(BaseModel):
    """A record's fields; ``MISSING`` words a missing field otherwise than "missing field"."""

    model_config = ConfigDict(extra="forbid")
    MISSING: ClassVar[Mapping[str, str]] = {}

    @field_validator("*", mode="wrap")
    @classmethod
    def _keep(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        found = cast(_Found, info.context)
        name = info.field_name or ""
        first = True
        while True:
            try:
                out = handler(value)
            except ValidationError as exc:
                errors = exc.errors(include_url=False)
                found.errors += [
                    ((name, *e["loc"]), e["type"], _value_of(e))
                    for e in errors
                    if first or e["type"] not in _FIRST_PASS_ONLY
                ]
                value, first = _prune(value, [tuple(e["loc"]) for e in errors]), False
                if value is _FAILED:
                    return None
                continue
            found.values[name] = out
            return out


class SourceFields(Record):
    """An entry of ``sources.yaml``."""

    id: Text
    title: Text
    url: Annotated[str, PlainValidator(_url)]
    published: Annotated[str, PlainValidator(_published)]
    reprint: Flag = False


class InlineSource(Record):
    """A source written under an entry's ``source:`` (no id)."""

    title: Text
    url: Annotated[str, PlainValidator(_url)]
    published: Annotated[str, PlainValidator(_published)]
    reprint: Flag = False


class TopicFields(Record):
    """An entry of ``topics.yaml``; ``order`` defaults to the position in the file."""

    id: Text
    title: Localized
    order: Annotated[int | None, PlainValidator(_whole)] = None


class FaqFields(Record):
    """An FAQ entry (its id and source reference are checked by ``schema`` and ``validate``)."""

    id: Any = None
    questions: RequiredQuestions
    topic: OptionalText = None
    related: IdList = ()
    keywords: IdList = ()
    answer: Localized
    source: Any = None


class FactFields(Record):
    """A fact's own fields; its figure (``FigureFields``) is read once the sources are known."""

    id: Any = None
    questions: Questions = Field(default_factory=dict)
    topic: OptionalText = None
    related: IdList = ()
    keywords: IdList = ()
    metric: Localized
    note: Localized
    value: Any
    unit: Any
    period: Any
    source: Any
    reviewed: Annotated[dt.date | None, PlainValidator(_reviewed)] = None
    qualifier: Any = None
    verified: Any = None
    history: Any = None


class FigureFields(Record):
    """A figure: the fact's own (among its other keys), or one of its ``history``."""

    model_config = ConfigDict(extra="ignore")
    MISSING = {"value": MESSAGES["value_none"]}

    value: Annotated[Decimal, PlainValidator(_value)]
    qualifier: Annotated[str, PlainValidator(_qualifier)] = "exact"
    unit: UnitField | None = None
    period: Localized
    source: Any = None
    verified: Flag = True


class HistoryFields(FigureFields):
    """An older figure under ``history``: nothing else may be written there."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- errors as lines


@dataclass(frozen=True)
class Problem:
    """One error of one record: its key (None for an unknown key), line and message."""

    field: str | None
    line: int
    message: str
    rank: int  # the key's place in its model: problems are told in that order
    loc: tuple[str | int, ...] = ()  # pydantic's, from the record down


_DEEP = frozenset({"questions"})  # said on the line of the language or phrasing, not of the key


def _line(data: LineDict, loc: tuple[str | int, ...], kind: str) -> int:
    if kind in _ON_RECORD_LINE:
        return data.line
    line = data.key_lines.get(str(loc[0]), data.line)
    if loc[0] not in _DEEP:
        return line
    node: Any = data.get(str(loc[0]))
    for part in loc[1:]:
        if isinstance(node, LineDict) and part in node:
            line, node = node.key_lines[str(part)], node[str(part)]
        elif isinstance(node, LineList) and isinstance(part, int) and part < len(node):
            line, node = node.item_lines[part], node[part]
        else:
            break
    return line


def _message(model: type[Record], loc: tuple[str | int, ...], kind: str, value: Any) -> str:
    field = str(loc[0])
    if kind == "missing" and field in model.MISSING:
        return model.MISSING[field]
    if kind not in MESSAGES:  # a shape none of ours words: still one line, naming the key
        return f"'{'.'.join(map(str, loc))}' is not valid"
    lang = loc[-2] if kind == "literal_error" and len(loc) > 2 else loc[1] if len(loc) > 1 else ""
    return MESSAGES[kind].format(
        field=field,
        lang=lang,
        got=repr(value),
        value=value,
        allowed=", ".join(sorted(model.model_fields)),
    )


_RANKS: dict[type[Record], dict[str, int]] = {}


def ranks(model: type[Record]) -> dict[str, int]:
    """Each key's place in ``model``: problems are told in this order (unknown keys first)."""
    found = _RANKS.get(model)
    if found is None:
        found = _RANKS[model] = {name: i for i, name in enumerate(model.model_fields)}
    return found


def check(model: type[Record], data: LineDict) -> tuple[dict[str, Any], list[Problem]]:
    """The fields of ``data`` that passed, and every problem in the order of the model's keys."""
    found = _Found()
    try:
        model.model_validate(data, context=found)
    except ValidationError as exc:  # only keys missing or unknown: each field's own errors are in ``found``
        found.errors += [(tuple(e["loc"]), e["type"], _value_of(e)) for e in exc.errors(include_url=False)]
    places = ranks(model)
    problems = []
    for loc, kind, value in found.errors:
        field = None if kind == "extra_forbidden" else str(loc[0])
        rank = -1 if field is None else places.get(field, len(places))
        problems.append(Problem(field, _line(data, loc, kind), _message(model, loc, kind, value), rank, loc))
    problems.sort(key=lambda p: p.rank)
    return found.values, problems
