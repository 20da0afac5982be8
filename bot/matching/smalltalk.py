"""Small talk and messages with nothing to answer: told apart from questions before any matching.

A message made only of the phrases of ``smalltalk.yaml`` (greetings, thanks, "who are you") and its
fillers ("hmm", "嗯") is small talk; one with fillers alone, or with no letters at all ("?", "7", emoji),
is unclear. Anything else in the message ("hi, what is the GDP?") makes it a question, matched as usual.
Both verdicts are replies of their own, never a hand-off to staff (``bot.assistant``).

Matching is on units: a Latin word or a single Chinese character, after ``clean`` (case, width,
Traditional characters, punctuation) and with runs of three or more of one character taken as one
("hiii", "哈哈哈"). A phrase matches a run of units exactly; a single Latin word of four letters or more
may be a typo of a one-word phrase ("helo", "thnaks").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from bot.matching.text import clean

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bot.knowledge.model import SmallTalk

ChatStatus = Literal["smalltalk", "unclear"]

TYPO_MIN_LETTERS = 4  # shorter words are too close to each other ("hi" / "ho", "ok" / "on") to be typos
TYPO_SCORE = 85  # rapidfuzz ratio: "helo" ~ "hello" 89, "thnaks" ~ "thanks" 83 is not, "thx" is a phrase
_REPEATS = re.compile(r"(.)\1{2,}")
_cleaned = clean  # kept for the last messages (``clean``): classify, Matcher.chat and strip clean each in turn
_UNIT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_FILLER = ""  # the kind recorded for a filler unit run
# Keyboard rows: mash is mostly typed along one ("asdkjh", "qwe", "zxcv").
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_VOWELS = frozenset("aeiouy")


@dataclass(frozen=True)
class ChatVerdict:
    """What a message is when it is not a question: ``kind`` is the small-talk kind (None when unclear)."""

    status: ChatStatus
    kind: str | None = None


def units(text: str) -> tuple[str, ...]:
    """The units a message is matched on: Latin words and single Chinese characters, cleaned."""
    return tuple(_UNIT.findall(_REPEATS.sub(r"\1", _cleaned(text))))


def has_words(text: str) -> bool:
    """Whether the message holds a letter or a Chinese character (not only punctuation, digits, emoji)."""
    return any(char.isalpha() for char in _cleaned(text))


def mash_shaped(word: str) -> bool:
    """A Latin word shaped like keyboard mash: along one keyboard row, no vowel, or one chunk repeated.

    Only for words no dictionary knows: "typewriter" is along one row too.
    """
    word = word.casefold()
    if len(word) < 2 or not word.isascii() or not word.isalpha():
        return False
    if any(set(word) <= set(row) for row in _ROWS) or not _VOWELS & set(word):
        return True
    return len(word) >= 4 and any(
        len(word) % size == 0 and word == word[:size] * (len(word) // size) for size in (1, 2, 3)
    )


class SmallTalkMatcher:
    """Tells small talk and content-free messages from questions, by ``smalltalk.yaml``'s phrases."""

    def __init__(self, smalltalk: SmallTalk) -> None:
        self._table: dict[tuple[str, ...], str] = {}  # units -> kind id ('' for a filler)
        self._priority: dict[str, int] = {}
        self._wrappers = frozenset(kind.id for kind in smalltalk.kinds if kind.wraps_questions)
        for priority, kind in enumerate(smalltalk.kinds):
            self._priority[kind.id] = priority
            for phrase in _all(kind.phrases.values()):
                self._table.setdefault(units(phrase), kind.id)
        for filler in _all(smalltalk.fillers.values()):
            self._table.setdefault(units(filler), _FILLER)
        self._table.pop((), None)
        self._longest = max((len(key) for key in self._table), default=0)
        # One-word Latin phrases a longer word may be a typo of.
        self._words = {key[0]: kind for key, kind in self._table.items() if len(key) == 1 and key[0].isascii()}
        self._word_list = [word for word in self._words if len(word) >= TYPO_MIN_LETTERS - 1]
        # The lengths of the wrapping phrases by their first unit (True) and last unit (False), longest first:
        # most questions open with a unit no phrase opens with, and need no further look.
        edges: dict[bool, dict[str, set[int]]] = {True: {}, False: {}}
        for key, kind_id in self._table.items():
            if kind_id in self._wrappers:
                edges[True].setdefault(key[0], set()).add(len(key))
                edges[False].setdefault(key[-1], set()).add(len(key))
        self._wrapper_edges = {side: {u: sorted(n, reverse=True) for u, n in e.items()} for side, e in edges.items()}
        # rank and topic_entries strip the same question in turn
        self._strip = lru_cache(maxsize=256)(self._strip_uncached)

    def classify(self, message: str) -> ChatVerdict | None:
        """``smalltalk`` (with its kind) or ``unclear``; None when the message is a question."""
        cleaned = _cleaned(message)
        if not any(char.isalpha() for char in cleaned):  # ``has_words``, on the one cleaned copy
            return ChatVerdict("unclear")
        found = self.kinds(tuple(_UNIT.findall(_REPEATS.sub(r"\1", cleaned))))
        if found is None:
            return None
        if not found:
            return ChatVerdict("unclear")
        return ChatVerdict("smalltalk", min(found, key=self._priority.__getitem__))

    def kinds(self, message_units: tuple[str, ...]) -> set[str] | None:
        """The small-talk kinds the units are made of (empty: fillers alone); None if any unit is neither."""
        found: set[str] = set()
        i = 0
        while i < len(message_units):
            for length in range(min(self._longest, len(message_units) - i), 0, -1):
                kind = self._table.get(message_units[i : i + length])
                if kind is not None:
                    break
            else:
                kind, length = self._typo(message_units[i]), 1
                if kind is None:
                    return None
            if kind:
                found.add(kind)
            i += length
        return found

    def strip(self, message: str) -> str:
        """The message without the greetings and thanks it opens or closes with ("hi, ...", "..., thanks!"),
        cleaned; the message itself when it has none, or nothing else.

        Only the phrases of kinds marked ``wraps_questions`` (greetings, thanks, goodbyes: not "what are
        you", which opens "what are you able to help with"), and only up to a space or punctuation: Chinese
        has no spaces, and "行" (OK) opens "行动计划". Kept, they were words no entry knows:
        "你好，亦庄有哪些细胞与基因治疗企业？" was a did-you-mean where the bare question is answered.
        """
        return self._strip(message)

    def _strip_uncached(self, message: str) -> str:
        cleaned = _cleaned(message)
        spans = [(m.start(), m.end()) for m in _UNIT.finditer(cleaned)]
        # Only the units at either end are ever compared: collapse repeats in those alone.
        found = _LazyUnits(cleaned, spans)

        def boundary(before: int) -> bool:  # a space (punctuation, once cleaned) between units before-1 and before
            return 0 < before < len(spans) and spans[before - 1][1] < spans[before][0]

        start, end = 0, len(spans)
        while start < end:
            length = next((n for n in self._wrapper_lengths(found, start, end, True) if boundary(start + n)), 0)
            if not length:
                break
            start += length
        while end > start:
            length = next((n for n in self._wrapper_lengths(found, start, end, False) if boundary(end - n)), 0)
            if not length:
                break
            end -= length
        if (start, end) == (0, len(spans)) or start >= end:
            return message
        return cleaned[spans[start][0] : spans[end - 1][1]]

    def _wrapper_lengths(self, found: _LazyUnits, start: int, end: int, forward: bool) -> list[int]:
        """Lengths of the wrapping phrases starting at ``start`` (or ending at ``end``), longest first."""
        lengths = []
        edge = self._wrapper_edges[forward].get(found.key(start if forward else end - 1, 1)[0], ())
        for length in (n for n in edge if n <= end - start):  # longest first
            key = found.key(start, length) if forward else found.key(end - length, length)
            if self._table.get(key) in self._wrappers:
                lengths.append(length)
        return lengths

    def _typo(self, unit: str) -> str | None:
        from rapidfuzz import fuzz, process

        if len(unit) < TYPO_MIN_LETTERS or not unit.isascii() or not unit.isalpha():
            return None
        best = process.extractOne(unit, self._word_list, scorer=fuzz.ratio, score_cutoff=TYPO_SCORE)
        return None if best is None else self._words[best[0]]


class _LazyUnits:
    """A cleaned message's units by index, repeats collapsed on first use."""

    def __init__(self, cleaned: str, spans: list[tuple[int, int]]) -> None:
        self._cleaned, self._spans = cleaned, spans
        self._done: dict[int, str] = {}

    def key(self, start: int, length: int) -> tuple[str, ...]:
        return tuple(self._unit(i) for i in range(start, start + length))

    def _unit(self, index: int) -> str:
        unit = self._done.get(index)
        if unit is None:
            a, b = self._spans[index]
            unit = self._done[index] = _REPEATS.sub(r"\1", self._cleaned[a:b])
        return unit


def _all(groups: Iterable[tuple[str, ...]]) -> list[str]:
    return [text for group in groups for text in group]
