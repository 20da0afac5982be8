"""Text normalisation shared by the matcher and the knowledge-base checks.

One ``Normalizer`` is built per knowledge-base load (it knows the synonym groups); phrasings are
normalised once at index time and a query only normalises itself.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import opencc

    from bot.matching.segmentations import Segmentations

# OpenCC, jieba and Snowball are imported where they are first used: the knowledge-base loader imports this
# module for ``clean`` and every ``etown-bot`` command imports that, while importing jieba alone cost 78 ms.

# CJK Unified Ideographs (+ extension A and compatibility block): what makes a question Chinese.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RE = re.compile(f"[{_HAN}]")
_HAN_RUN_RE = re.compile(f"[{_HAN}]+")
# Invisible characters that would split words: zero-width, bidi controls, BOM, soft hyphen.
_INVISIBLE_RE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_SPACE_RE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    import opencc

    return opencc.OpenCC("t2s")


def has_han(text: str) -> bool:
    """True when the text contains a Chinese character."""
    return _HAN_RE.search(text) is not None


def detect_language(text: str) -> str:
    """``zh`` for a question containing Chinese characters, else ``en``."""
    return "zh" if has_han(text) else "en"


def is_traditional(text: str) -> bool:
    """True when converting to Simplified changes the text (it uses Traditional characters)."""
    return has_han(text) and _t2s().convert(text) != text


def _keep(char: str) -> bool:
    # Letters, digits and marks carry meaning; '+' keeps "1+N" and "1+2" apart from "1 N".
    return unicodedata.category(char)[0] in "LNM" or char == "+"


@lru_cache(maxsize=1024)
def clean(text: str) -> str:
    """NFKC, case folding, Traditional -> Simplified, punctuation to spaces, whitespace collapsed.

    Kept for the last questions: small talk (``bot.matching.smalltalk``) and the matcher clean the same
    message in turn (clean was most of the small-talk step's 0.07 ms per question, cProfile).
    """
    text = unicodedata.normalize("NFKC", _INVISIBLE_RE.sub("", text)).casefold()
    if has_han(text):
        text = _t2s().convert(text)
    text = "".join(c if _keep(c) else " " for c in text)
    return _SPACE_RE.sub(" ", text).strip()


_Cut = Callable[[str, bool], list[str]]
_Tag = Callable[[str, bool], list[tuple[str, str]]]
_DEFAULT_SEGMENTER_USES = itertools.count()  # next() is atomic: one Normalizer only gets rjieba's default


# Words whose stem means something else: "listed" (on a stock exchange) stemmed to "list" made "how many
# listed biotech companies are in E-Town?" an answered question about the support-policy *list* (0.79).
_UNSTEMMED = {"listed": "listed", "listing": "listing", "listings": "listing"}


class Normalizer:
    """Cleans text and maps synonyms to their canonical term; segments Chinese for token scorers."""

    def __init__(self, synonym_groups: Iterable[Sequence[str]] = ()) -> None:
        import Stemmer

        # Snowball stemming for Latin words ("incentives" ~ "incentive"); measured +1-2 points.
        stem = Stemmer.Stemmer("english").stemWord
        self._stem = lru_cache(maxsize=65536)(lambda word: _UNSTEMMED.get(word) or stem(word))
        replacements: dict[str, str] = {}
        self._segmenter_words: list[str] = []  # taught to jieba when it is built (``_cut``)
        self._segmenter: _Cut | None = None
        self._tagger: _Tag | None = None
        # Segmentations kept from an earlier run (the staff's command line sets them): a Chinese run found
        # there is not given to jieba, so a queue seen before groups without building the segmenter.
        self.segmentations: Segmentations | None = None
        for group in synonym_groups:
            cleaned = [clean(term) for term in group]
            canonical = cleaned[0]
            for term in cleaned:
                if term and term != canonical:
                    replacements.setdefault(term, canonical)
            for term in cleaned:
                # Teach the segmenter whole terms such as 经开区 so they stay one token.
                if has_han(term) and " " not in term:
                    self._segmenter_words.append(term)
        self._taught = frozenset(self._segmenter_words)
        self._replacements = replacements
        self._pattern = self._compile(replacements)

    @property
    def segmenter_words(self) -> tuple[str, ...]:
        """The words taught to the segmenter (from the synonyms), in the order they are taught."""
        return tuple(self._segmenter_words)

    def _segment(self, run: str) -> list[str]:
        """jieba's words of a run of Chinese characters (from ``segmentations`` when they know it)."""
        known = self.segmentations
        if known is None:
            return self._cut()(run, False)
        words = known.get(run)
        if words is None:
            words = self._cut()(run, False)
            known.put(run, words)
        return words

    def _cut(self) -> _Cut:
        """jieba's ``cut``, built on the first Chinese text: a segmenter costs 60-75 ms to build (its
        dictionary), which English-only work, such as grouping an English queue, need not pay."""
        if self._segmenter is None:
            import rjieba

            # Importing rjieba builds a default segmenter (75 ms); the first Normalizer of the process takes
            # it rather than building a second one. Nothing else here uses rjieba's module-level functions,
            # so it is as fresh as a new ``Jieba()``; later Normalizers (a reload, other synonyms) get their own.
            if next(_DEFAULT_SEGMENTER_USES) == 0:
                cut, tag, add_word = rjieba.cut, rjieba.tag, rjieba.add_word
            else:
                jieba = rjieba.Jieba()
                cut, tag, add_word = jieba.cut, jieba.tag, jieba.add_word
            for term in self._segmenter_words:
                add_word(term, 100_000, None)
            self._segmenter, self._tagger = cut, tag
        return self._segmenter

    def _tag(self) -> _Tag:
        """jieba's part-of-speech ``tag``, from the same segmenter as ``_cut`` (so it knows the same words)."""
        if self._tagger is None:
            self._cut()
        assert self._tagger is not None
        return self._tagger

    @staticmethod
    def _compile(replacements: dict[str, str]) -> re.Pattern[str] | None:
        if not replacements:
            return None
        # Longest first, so "beijing economic technological development area" wins over "beijing".
        terms = sorted(replacements, key=len, reverse=True)
        chinese = [re.escape(term) for term in terms if has_han(term)]
        latin = [re.escape(term) for term in terms if not has_han(term)]
        branches = []
        if chinese:  # Chinese has no word boundaries to respect
            branches.append("|".join(chinese))
        if latin:
            # Latin terms only match whole words. One boundary check around the whole group, not one per
            # term: 10x faster on the shipped synonyms, same matches. A Chinese term first is never wrong:
            # where a Chinese and a Latin term both match, the Latin one is the other's prefix.
            branches.append(rf"(?<![^\W_])(?:{'|'.join(latin)})(?![^\W_])")
        return re.compile("|".join(branches))

    def normalize(self, text: str) -> str:
        """Cleaned text with every synonym replaced by its group's canonical term."""
        text = clean(text)
        if self._pattern is not None and text:
            text = self._pattern.sub(lambda m: f" {self._replacements[m.group(0)]} ", text)
            text = _SPACE_RE.sub(" ", text).strip()
        return text

    def tokens(self, normalized: str) -> list[str]:
        """Words of a normalised text: Latin split on spaces and stemmed, Chinese runs segmented by jieba."""
        return [token for token, _ in self.words(normalized)]

    def words(self, normalized: str) -> list[tuple[str, str]]:
        """(token, surface word) pairs: the surface is the word before stemming ("compani", "companies")."""
        out: list[tuple[str, str]] = []
        for chunk in normalized.split(" "):
            if not chunk:
                continue
            if not has_han(chunk):
                out.append((self._stem(chunk), chunk))
                continue
            position = 0
            for run in _HAN_RUN_RE.finditer(chunk):
                if run.start() > position:
                    latin = chunk[position : run.start()]
                    out.append((self._stem(latin), latin))
                out.extend((w, w) for w in self._segment(run.group(0)) if w.strip())
                position = run.end()
            if position < len(chunk):
                out.append((self._stem(chunk[position:]), chunk[position:]))
        return out

    def names(self, text: str, normalized: str | None = None) -> list[str]:
        """Normalised tokens of the words of ``text`` that look like names of places, organisations or people
        (``normalized``: ``self.normalize(text)``, when the caller has it already).

        Chinese: words jieba tags as a place or organisation name (ns, nt), of
        two characters or more. Latin: capitalised words that do not start a sentence, and acronyms. A name
        the knowledge base does not know ("Wuxi", "苏州", "张江") says the question is about something else,
        where an unknown common word ("pls", "流程") is only a paraphrase.
        """
        names: list[str] = []
        run: list[str] = []  # consecutive name-like Latin words are one name: "Suzhou BioBAY", "Beijing E-Town"
        for match in _LATIN_WORD_RE.finditer(text):
            word = match.group(0)
            if _glued_to_digit(text, match.start(), match.end()) or word.casefold() in _CALENDAR_WORDS:
                # "H1", "Q3", "5G" are codes and "Feb", "Monday" dates, not names
                if run:
                    names.append(" ".join(run))
                    run = []
                continue
            before = match.start() - 1
            while before >= 0 and text[before].isspace():
                before -= 1
            starts_sentence = before < 0 or text[before] in ".!?。！？"
            if (len(word) >= 2 and word.isupper()) or (word[0].isupper() and not starts_sentence):
                if run and not text[match.start() - 1].isspace() and text[match.start() - 1] != "-":
                    names.append(" ".join(run))
                    run = []
                run.append(word)
            elif run:
                names.append(" ".join(run))
                run = []
        if run:
            names.append(" ".join(run))
        tokens = [token for name in names for token in self.tokens(self.normalize(name))]
        for han in _HAN_RUN_RE.finditer(self.normalize(text) if normalized is None else normalized):
            for word, tag in self._tag()(han.group(0), False):
                # Words taught from the synonyms carry no reliable tag.
                if tag in _NAME_TAGS and len(word) >= 2 and word not in self._taught:
                    tokens.append(word)
        return tokens

    def is_place(self, word: str) -> bool:
        """True when jieba tags the Chinese ``word``, whole, as a place name (ns)."""
        tagged = self._tag()(word, False)
        return len(tagged) == 1 and tagged[0][1] == "ns"

    def segmented(self, text: str) -> str:
        """Normalised text with Chinese segmented into space-separated words."""
        return " ".join(self.tokens(self.normalize(text)))


_LATIN_WORD_RE = re.compile(r"[A-Za-z][A-Za-z&-]*")


# Month and weekday names: dates, not names of somewhere else ("Feb 2023").
_CALENDAR_WORDS = frozenset(
    word
    for line in (
        "january february march april may june july august september october november december",
        "jan feb mar apr jun jul aug sep sept oct nov dec",
        "monday tuesday wednesday thursday friday saturday sunday",
    )
    for word in line.split()
)


def _glued_to_digit(text: str, start: int, end: int) -> bool:
    """Whether the word at ``text[start:end]`` touches a digit on either side."""
    return (end < len(text) and text[end].isdigit()) or (start > 0 and text[start - 1].isdigit())


_NAME_TAGS = frozenset({"ns", "nt"})  # jieba: place and organisation names (person names, nr, tag words like 多少钱)

# Words rarer than this (wordfreq's Zipf scale: log10 of occurrences per billion words) are not in its
# "small" lists; they count as rare.
RARE_ZIPF = 3.0


@lru_cache(maxsize=2)
def _frequencies(lang: str) -> dict[str, float]:
    import wordfreq  # loaded on first use (8 MB for both lists)

    return dict(wordfreq.get_frequency_dict(lang, wordlist="small"))


def load_word_frequencies() -> None:
    """Load both frequency lists now, so the first question in either language does not wait for them."""
    for lang in ("en", "zh"):
        _frequencies(lang)


COMMON_ZIPF = 5.0  # wordfreq's Zipf scale: "no", "why", "how", "是", "的"; not "talent", "fund", "GDP"
COMMON_WORDS_FILE = Path(__file__).with_name("common_words.txt")


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """The words at least ``COMMON_ZIPF`` common in general English or Chinese, from a file written from
    wordfreq (``write_common_words``): 2,429 words read in about a millisecond, where loading wordfreq takes
    304 ms, which the staff's command line (grouping the queue) need not pay."""
    return frozenset(COMMON_WORDS_FILE.read_text(encoding="utf-8").split())


def common_words_from_wordfreq() -> list[str]:
    """What ``common_words.txt`` holds, computed from wordfreq: English then Chinese, each sorted."""
    out: list[str] = []
    for lang in ("en", "zh"):
        frequencies = _frequencies(lang)
        out += sorted(w for w, v in frequencies.items() if v > 0 and math.log10(v) + 9.0 >= COMMON_ZIPF)
    return out


def write_common_words() -> None:
    """Rewrite ``common_words.txt`` (after a wordfreq upgrade; a test says when it is due)."""
    COMMON_WORDS_FILE.write_text("\n".join(common_words_from_wordfreq()) + "\n", encoding="utf-8")


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """How common a word is in general English or Chinese (Zipf scale, 0 for words rarer than ``RARE_ZIPF``)."""
    frequency = _frequencies("zh" if has_han(word) else "en").get(word, 0.0)
    return math.log10(frequency) + 9.0 if frequency > 0 else 0.0


# Parts of a year that statistics are given for. A question about the second half of 2024 is not answered
# by the figure for the first half, though every other word matches: the matcher treats a period the entry
# does not name like a year it does not name (``Signals.year_missing``). Ranges come first, so that
# "Q1-Q3" or "1-9月" is one period, not Q1 and Q3. Text as ``Normalizer.normalize`` leaves it: lower case,
# Simplified Chinese, hyphens as spaces.
_TO = r"(?:\s*(?:to|through|until|至|到|~)\s*|\s+)"
_PERIOD_PATTERNS = (
    (
        "q1-q3",
        rf"\bq1{_TO}q3\b|\bfirst three quarters\b|\bjan(?:uary)?{_TO}sep(?:t|tember)?\b|前三季度|(?<!\d)1{_TO}9\s*月",
    ),
    (
        "h1",
        rf"\bh1\b|\b(?:first|1st) half\b|\bfirst six months\b|\bjan(?:uary)?{_TO}june?\b"
        rf"|[上前]半年|前六个月|(?<!\d)1{_TO}6\s*月",
    ),
    (
        "h2",
        rf"\bh2\b|\b(?:second|2nd) half\b|\blast six months\b|\bjul(?:y)?{_TO}dec(?:ember)?\b"
        rf"|[下后]半年|后六个月|(?<!\d)7{_TO}12\s*月",
    ),
    ("q1", rf"\bq1\b|\b(?:first|1st) quarter\b|第?一季度|(?<!\d)1{_TO}3\s*月"),
    ("q2", r"\bq2\b|\b(?:second|2nd) quarter\b|第?二季度"),
    ("q3", r"\bq3\b|\b(?:third|3rd) quarter\b|第?三季度"),
    ("q4", r"\bq4\b|\b(?:fourth|4th) quarter\b|第?四季度"),
)
_PERIOD_RE = re.compile("|".join(f"(?P<{key.replace('-', '_')}>{pattern})" for key, pattern in _PERIOD_PATTERNS))


# Every pattern above holds a digit or one of these: most questions are ruled out by this cheap search
# before the long alternation runs (CLINC150 questions: 35 us each with the alternation alone, 6 us with this).
_PERIOD_HINT_RE = re.compile(r"[0-9季半月]|half|quarter|months|jan|jul")


def period_parts(normalized: str) -> list[tuple[str, str]]:
    """Each period a normalised text names, in order: its part of a year ("h1", "h2", "q1" to "q4",
    "q1-q3") and its text ("jan to sep", "前三季度")."""
    if not normalized or _PERIOD_HINT_RE.search(normalized) is None:
        return []
    return [
        (next(key for key, value in found.groupdict().items() if value is not None).replace("_", "-"), found.group(0))
        for found in _PERIOD_RE.finditer(normalized)
    ]


def periods(normalized: str) -> frozenset[str]:
    """The parts of a year a normalised text names: "h1", "h2", "q1" to "q4", "q1-q3"."""
    return frozenset(part for part, _ in period_parts(normalized))
