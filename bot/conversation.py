"""Follow-ups: a chat's short context, and the questions that only make sense with it.

After an answer, a chat remembers it (``Turn``: the entry, its topic and the question as it was matched)
for ``CONTEXT_TTL`` seconds. A message that is not answered on its own and reads as a follow-up is asked
again with that context (``follow_up``): one that names only a new period ("and in 2021?", "2025年呢？")
is the last question with the period replaced; one with a pronoun ("how many hospitals are near it?") or a
bare sibling aspect ("what about housing?", "人才公寓呢？") is matched together with the last question. A
message answered on its own is never re-asked, so context cannot make a clear new question worse.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass

from bot.matching.text import clean
from bot.periods import YEAR_RE, asked_years, without_years

CONTEXT_TTL = 15 * 60.0  # seconds: a question after a quarter of an hour starts afresh
MAX_CHATS = 100_000  # contexts kept in memory; the oldest go first
# Longer messages say what they are about themselves.
FOLLOW_UP_MAX_WORDS = 8
FOLLOW_UP_MAX_HAN = 12
# A follow-up answered with the last question's help must not carry a word this important that the answering
# entry does not know (the matcher's ``missing`` signal, 0..1: 1 for a word no phrasing uses and general
# language rarely does, "電話號碼"; "it" and "呢" weigh next to nothing).
FOLLOW_UP_UNKNOWN = 0.5

_PRONOUNS = frozenset(
    {"it", "its", "it's", "there", "that", "this", "they", "them", "their", "those", "these", "one", "ones"}
    | {
        "它",
        "它们",
        "它的",
        "那里",
        "那儿",
        "这里",
        "该",
        "其",
        "这个",
        "那个",
        "这家",
        "那家",
        "此",
        "他们",
        "这些",
        "那些",
    }
)
# What a message with nothing else is made of, around a period or an aspect: "and in 2021?", "2025年呢".
_LINKS = frozenset(
    {"and", "in", "for", "what", "about", "how", "so", "then", "also", "the", "a", "of", "during", "as", "by"}
    | {"year", "那", "那么", "还有", "呢", "的", "年", "吗", "是", "多少", "怎么样", "如何", "又", "再", "请问"}
)
_ASPECT_OPENERS = ("what about ", "how about ", "and ", "also ", "那", "还有", "那么")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


@dataclass(frozen=True)
class Turn:
    """What a chat was last answered: the entry, its topic and the question as it was matched."""

    entry_id: str
    topic: str | None
    question: str
    at: float
    lang: str = "en"  # the reply's language: a follow-up with no words of its own ("2021?") keeps it


def _words(text: str) -> list[str]:
    return clean(text).split()


def _short(text: str) -> bool:
    cleaned = clean(text)
    return len(cleaned.split()) <= FOLLOW_UP_MAX_WORDS and len(_HAN_RE.findall(cleaned)) <= FOLLOW_UP_MAX_HAN


def _only_links(text: str) -> bool:
    """Whether ``text`` holds nothing but linking words ("and in", "那 呢")."""
    cleaned = clean(text)
    rest = [w for w in cleaned.split() if w not in _LINKS]
    if not rest:
        return True
    # Chinese is unsegmented here: drop the linking words as substrings
    joined = "".join(rest)
    for link in sorted((w for w in _LINKS if _HAN_RE.match(w)), key=len, reverse=True):
        joined = joined.replace(link, "")
    return not joined


def names_only_a_period(message: str) -> bool:
    """ "and in 2021?", "2025年呢？": a year and linking words, nothing else. Such a message answered on its own
    is answered by whichever entry names the year; after an answer it is that answer's question, for the year."""
    return bool(asked_years(message)) and _short(message) and _only_links(without_years(message))


def follow_up(message: str, turn: Turn | None, now: float | None = None) -> str | None:
    """The question to ask instead of ``message`` given the chat's last answer, or None when ``message``
    does not read as a follow-up of it (or there is none, or it expired)."""
    if turn is None or (now if now is not None else time.time()) - turn.at > CONTEXT_TTL:
        return None
    if not _short(message):
        return None
    years = asked_years(message)
    if years and _only_links(without_years(message)):
        # "and in 2021?": the last question, for the new period
        previous = turn.question
        if YEAR_RE.search(previous):
            return YEAR_RE.sub(years[0], previous, count=1)
        joiner = "" if _HAN_RE.search(previous) else " in "
        return f"{previous.rstrip('?？。.! ')}{joiner}{years[0]}{'年' if joiner == '' else ''}"
    words = set(_words(message))
    cleaned = clean(message)
    pronoun = bool(words & _PRONOUNS) or any(p in cleaned for p in _PRONOUNS if _HAN_RE.match(p))
    aspect = cleaned.startswith(_ASPECT_OPENERS) or cleaned.endswith("呢") or message.rstrip().endswith(("呢？", "呢?"))
    if pronoun or aspect:
        return f"{message.strip()} {turn.question}"
    return None


class Conversations:
    """The last answer of each chat, in memory, for ``CONTEXT_TTL`` seconds (``MAX_CHATS`` at most)."""

    def __init__(self, ttl: float = CONTEXT_TTL, limit: int = MAX_CHATS) -> None:
        self.ttl = ttl
        self.limit = limit
        self._turns: OrderedDict[int, Turn] = OrderedDict()

    def get(self, chat_id: int, now: float | None = None) -> Turn | None:
        turn = self._turns.get(chat_id)
        if turn is not None and (now if now is not None else time.time()) - turn.at > self.ttl:
            del self._turns[chat_id]
            return None
        return turn

    def remember(self, chat_id: int, turn: Turn) -> None:
        self._turns[chat_id] = turn
        self._turns.move_to_end(chat_id)
        while len(self._turns) > self.limit:
            self._turns.popitem(last=False)

    def forget(self, chat_id: int) -> None:
        self._turns.pop(chat_id, None)
