"""Callback data: what a button says, in at most 64 bytes, checked again when it comes back.

Telegram returns callback data verbatim, but a modified client can send anything, and a button can
outlive the knowledge-base entry it points to. So every press is parsed here into an ``Action`` (or
None) and the handlers re-check whatever it refers to before acting on it.

Formats (``lang`` is ``en``, ``zh`` or ``zh-Hant``; ids follow the knowledge base's ``[a-z0-9-]`` rule)::

    a:<lang>:<entry>           show an entry's answer (did-you-mean, related, topic lists)
    p:<lang>:<question>:<entry> a did-you-mean choice: show the answer and note the pick on the question
    T:<lang>                   the topic menu
    t:<lang>:<topic>           the entries of a topic
    n:<question>               "None of these": hand the logged question to staff
    f:<1|0>:<question>:<entry> helpful / not helpful (question 0 when it was not logged)
    l:<lang|auto>              choose the language (auto: the language of each question)
    s:<verb>:<item>[:<entry>]  staff buttons (dismiss, add as phrasing, ...)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CALLBACK_BYTES = 64
LANGS = ("en", "zh", "zh-Hant")  # bot.languages.REPLY_LANGS
AUTO = "auto"  # bot.languages.AUTO

_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_NUM = r"(?:0|[1-9][0-9]{0,17})"
_LANG = r"(?:en|zh-Hant|zh)"
_PATTERNS: dict[str, re.Pattern[str]] = {
    "a": re.compile(rf"a:(?P<lang>{_LANG}):(?P<entry>{_ID})"),
    "p": re.compile(rf"p:(?P<lang>{_LANG}):(?P<question>{_NUM}):(?P<entry>{_ID})"),
    "T": re.compile(rf"T:(?P<lang>{_LANG})"),
    "t": re.compile(rf"t:(?P<lang>{_LANG}):(?P<topic>{_ID})"),
    "n": re.compile(rf"n:(?P<question>{_NUM})"),
    "f": re.compile(rf"f:(?P<helpful>[01]):(?P<question>{_NUM}):(?P<entry>{_ID})"),
    "l": re.compile(rf"l:(?P<lang>{_LANG}|auto)"),
    "s": re.compile(rf"s:(?P<verb>[a-z]{{1,8}}):(?P<item>{_NUM})(?::(?P<entry>{_ID}))?"),
}
# For CallbackQueryHandler(pattern=...): route by the first letter; the full check is parse().
ROUTES = {kind: re.compile(rf"^{kind}:") for kind in _PATTERNS}


class CallbackDataTooLong(ValueError):
    """A button would carry more than Telegram's 64 bytes."""


@dataclass(frozen=True)
class Action:
    """A parsed button press; fields a kind does not use are empty / 0."""

    kind: str
    lang: str = ""
    entry: str = ""
    topic: str = ""
    question: int = 0
    helpful: bool = False
    verb: str = ""
    item: int = 0


def _checked(data: str) -> str:
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise CallbackDataTooLong(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    if parse(data) is None:
        raise ValueError(f"not valid callback data: {data!r}")
    return data


def answer(lang: str, entry_id: str) -> str:
    return _checked(f"a:{lang}:{entry_id}")


def pick(lang: str, question_id: int | None, entry_id: str) -> str:
    """A did-you-mean button; a plain answer button when the question was not logged or the data would not
    fit (the pick is then not noted, the investor still gets the answer)."""
    data = f"p:{lang}:{question_id}:{entry_id}"
    if not question_id or len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        return answer(lang, entry_id)
    return _checked(data)


def topics(lang: str) -> str:
    return _checked(f"T:{lang}")


def topic(lang: str, topic_id: str) -> str:
    return _checked(f"t:{lang}:{topic_id}")


def none_of_these(question_id: int | None) -> str:
    return _checked(f"n:{question_id or 0}")


def feedback(helpful: bool, question_id: int | None, entry_id: str) -> str:
    data = f"f:{int(helpful)}:{question_id or 0}:{entry_id}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        data = f"f:{int(helpful)}:0:{entry_id}"  # feedback still counts for the entry without the question
    return _checked(data)


def language(lang: str) -> str:
    return _checked(f"l:{lang}")


def staff(verb: str, item_id: int, entry_id: str | None = None) -> str:
    return _checked(f"s:{verb}:{item_id}" + (f":{entry_id}" if entry_id else ""))


def parse(data: str | None) -> Action | None:
    """The action a button stands for, or None for anything malformed, forged or oversized."""
    if not data or len(data.encode("utf-8", "replace")) > MAX_CALLBACK_BYTES:
        return None
    pattern = _PATTERNS.get(data[0])
    match = pattern.fullmatch(data) if pattern is not None else None
    if match is None:
        return None
    fields = match.groupdict()
    return Action(
        kind=data[0],
        lang=fields.get("lang") or "",
        entry=fields.get("entry") or "",
        topic=fields.get("topic") or "",
        question=int(fields.get("question") or 0),
        helpful=fields.get("helpful") == "1",
        verb=fields.get("verb") or "",
        item=int(fields.get("item") or 0),
    )
