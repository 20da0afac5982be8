"""Matching a question to knowledge-base entries: pure, synchronous, no Telegram.

Retrieval then re-ranking. Every phrasing is normalised once (NFKC, case, Traditional -> Simplified,
synonyms, jieba segmentation) and indexed as a TF-IDF vector of character n-grams plus words (word
bigrams were measured: 4.6 points worse on the dev set). A query is vectorised once; one sparse
product against the inverted index scores every phrasing (cost follows the query's n-gram postings,
not the number of phrasings). The best phrasing of each entry and the entry's centroid give an entry
score; the top candidates are re-ranked with rapidfuzz's ``token_sort_ratio`` against their
phrasings, fused with the TF-IDF scores, and scaled by vocabulary coverage. Measured on
FAQ data and CLINC150 (see ``benchmarks/README.md``): the fusion beats every single scorer, and
``token_set_ratio``/``WRatio`` are not used because they reward a query whose words are a subset.

Decision: ``answered`` when the top entry clears ``answer_threshold`` and leads the runner-up by
``margin``; ``suggested`` (up to 3 "did you mean") when it clears ``suggest_threshold``;
else ``unanswered``.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal

from rapidfuzz import fuzz, process

from bot.config import Calibration, MatchingConfig
from bot.knowledge.model import KnowledgeBase, SmallTalk
from bot.matching.classifier import EntryClassifier
from bot.matching.confidence import Signals, probability
from bot.matching.smalltalk import ChatVerdict, SmallTalkMatcher, mash_shaped
from bot.matching.text import (
    COMMON_ZIPF,
    Normalizer,
    clean,
    detect_language,
    has_han,
    load_word_frequencies,
    period_parts,
    periods,
    zipf,
)
from bot.render import render_answer

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer

# numpy, scipy and scikit-learn are imported by the functions that use them, not here: importing them cost
# 0.63 s, which every ``etown-bot`` command paid, even ``--help`` and the staff commands that never match.

_NOT_LOADED = ModuleType("not loaded")
# scipy's private C++ kernels, loaded with the first product (``_kernels``); None means "use the public
# expression" (a scipy that moved them, or a test).
_sparsetools: ModuleType | None = _NOT_LOADED


def _kernels() -> ModuleType | None:
    global _sparsetools
    if _sparsetools is _NOT_LOADED:
        # private, but what scipy.sparse itself calls; pinned in pyproject and checked by
        # tests/bot/matching/test_matcher.py
        try:
            from scipy.sparse import _sparsetools as kernels
        except ImportError:  # pragma: no cover - a scipy that moved it: the public expression, slower
            kernels = None
        _sparsetools = kernels
    return _sparsetools


# "smalltalk" and "unclear": the message is no question (``bot.matching.smalltalk``), decided before ranking.
Status = Literal["answered", "suggested", "unanswered", "smalltalk", "unclear"]
# Words of keyboard mash are no word of the knowledge base and rarer than this in general language
# (wordfreq's Zipf scale; 0 for words outside its list): "asdkjh", "qwe" (``Matcher.chat``).
MASH_ZIPF = 1.0
MASH_TYPO = 0.85  # ... and no typo of one: "cgtt" is "cgt" (0.86), "qwe" is not "we" (0.8)

MAX_QUERY_CHARS = 1000  # longer questions are matched on a truncated copy
# Candidates re-ranked with rapidfuzz and given signals. 6 rather than 10: the same decisions on all four FAQ
# sets at the shipped defaults, CLINC150 top-1 91.5 vs 91.4% (validation half B), and 0.83-0.87x the time
# per first-seen question at 15,000 phrasings (the per-candidate coverage and signals were a quarter of it).
RERANK = 6
CLASSIFIER_CANDIDATES = 3  # the classifier's best entries join the similarity candidates
SUGGESTIONS = 3
_SPELLING_BLOCK = 128  # words scored together at build (``_all_spellings``): at most a few MB of scores
TYPO_SIMILARITY = 80  # rapidfuzz ratio from which an unknown word counts as a misspelling of a known one
# A question of at most this many words, of which at most TOPIC_KEY_WORDS are not common language, is a
# topic ("talent", "gdp 2024", "亦庄 基金"): when no entry is a confident answer, the entries that know
# every key word are offered as a did-you-mean rather than handing a bare keyword to staff.
TOPIC_MAX_WORDS = 4
TOPIC_KEY_WORDS = 2
TOPIC_KNOWN = 0.75  # how far an entry must know a key word (a typo or most of a Chinese word's bigrams count)


@dataclass(frozen=True)
class Weights:
    """How the fused score is made; the defaults were chosen on CLINC150 validation and the FAQ dev set."""

    char: float = 1.0  # weight of character n-gram features inside the TF-IDF vector
    word: float = 1.5  # weight of word uni/bigram features
    nearest: float = 0.5  # best single phrasing's cosine
    centroid: float = 0.8  # cosine to the mean of the entry's phrasings
    fuzzy: float = 0.2  # rapidfuzz token_sort_ratio / 100 against the entry's best phrasing
    char_ngrams: tuple[int, int] = (2, 4)
    max_df: float = 0.5  # drop n-grams found in more than this share of phrasings
    shortlist: int = 50  # phrasings re-ranked with rapidfuzz
    coverage: float = 1.0  # how much the share of the question's words known to the entry scales the score
    coverage_power: float = 2.0  # >1 punishes a single unknown key word ("rents", "Suzhou") harder
    # A question word's coverage weight is capped by its rarity in general language (wordfreq Zipf scale):
    rare_zipf: float = 4.0  # words at most this common keep their full weight ...
    common_zipf: float = 8.0  # ... the cap falls linearly to ``common_floor`` of it for words this common
    common_floor: float = 0.1  # (1.0 turns the cap off)
    information: float = 6.0  # scores of questions whose word weights sum below this are scaled down


@dataclass(frozen=True)
class Candidate:
    """One entry's score for a question (the estimated probability that it is right), with the phrasing that
    matched best and the signals the score was computed from (``eval --tune`` re-scores them)."""

    entry_id: str
    score: float
    phrasing: str
    signals: Signals | None = field(default=None, compare=False, repr=False)
    # The question asks for something the entry's answer says is not in the sources ("rents"): never
    # answered with it, whatever the score (``decide``).
    gap: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Match:
    """The decision for one question."""

    question: str
    lang: str
    status: Status
    candidates: tuple[Candidate, ...]  # best first, whatever the status (none for small talk and unclear)
    suggestions: tuple[Candidate, ...]  # filled when status == "suggested"
    kind: str | None = None  # the small-talk kind (``smalltalk.yaml``) when status == "smalltalk"

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def entry_id(self) -> str | None:
        return self.candidates[0].entry_id if self.status == "answered" else None

    @property
    def score(self) -> float:
        return self.candidates[0].score if self.candidates else 0.0


def decide(
    candidates: Sequence[Candidate], settings: MatchingConfig, topic: frozenset[str] = frozenset()
) -> tuple[Status, tuple[Candidate, ...]]:
    """Apply the thresholds and margin to ranked candidates.

    ``topic``: for a bare topic question, the entries that know its key words (``Matcher.topic_entries``):
    offered as a did-you-mean, best first, when no entry clears ``suggest_threshold``.
    """
    if candidates and candidates[0].gap:
        # faq/README.md: what the sources do not give is for staff, not for the entry that says so
        return "unanswered", ()
    if not candidates or candidates[0].score < settings.suggest_threshold:
        offered = tuple(c for c in candidates if c.entry_id in topic)[:SUGGESTIONS]
        return ("suggested", offered) if offered else ("unanswered", ())
    top = candidates[0].score
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    if top >= settings.answer_threshold and top - runner_up >= settings.margin:
        return "answered", ()
    band = [c for c in candidates[:SUGGESTIONS] if c.score >= settings.suggest_threshold]
    return "suggested", tuple(band)


class _QueryVectorizer:
    """Vectorises one short query with a fitted ``TfidfVectorizer``'s vocabulary and idf.

    sklearn's ``transform`` costs about 0.4 ms per call in Python overhead for a single string; this
    produces the same vector (sublinear tf, idf, then weights) in a few microseconds.
    """

    def __init__(self, fitted: TfidfVectorizer, offset: int, weight: float) -> None:
        import numpy as np

        self._analyze = fitted.build_analyzer()
        self._vocabulary: dict[str, int] = fitted.vocabulary_
        # A list of the float32 values as Python floats: indexing it is several times cheaper than
        # ``ndarray.item`` per n-gram, and gives the same numbers.
        self._idf: list[float] = (fitted.idf_.astype(np.float32) * weight).tolist()
        self._offset = offset

    def add(self, text: str, into: dict[int, float]) -> None:
        vocabulary, idf, offset = self._vocabulary, self._idf, self._offset
        for gram, count in Counter(self._analyze(text)).items():
            column = vocabulary.get(gram)
            if column is not None:
                # sublinear tf: 1 + log(count), which is 1 for the usual count of 1 (no log needed)
                into[column + offset] = idf[column] if count == 1 else (1.0 + math.log(count)) * idf[column]


class Matcher:
    """An index over (entry id, phrasing) pairs; build once per knowledge-base load."""

    def __init__(
        self,
        items: Iterable[tuple[str, str]],
        normalizer: Normalizer | None = None,
        settings: MatchingConfig | None = None,
        weights: Weights | None = None,
        context: Iterable[tuple[str, str]] = (),
        classify: bool = True,
        cache_dir: Path | None = None,
        gaps: Iterable[tuple[str, str]] = (),
        smalltalk: SmallTalk | None = None,
    ) -> None:
        """Index ``items`` (entry id, phrasing); ``context`` (entry id, text) only adds to an entry's vocabulary;
        ``gaps`` (entry id, text) are its sentences on what the sources do not give (``gap_part``);
        ``smalltalk``: the phrases that make a message small talk or unclear (``chat``).

        ``classify=False`` skips the classifier (its signals are then 0), for measuring what it adds;
        ``cache_dir`` keeps its fitted weights for the next build of the same phrasings.
        """
        import numpy as np
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize as l2_normalize

        self.normalizer = normalizer or Normalizer()
        self._chat = SmallTalkMatcher(smalltalk or SmallTalk())
        load_word_frequencies()  # question words are weighed by them (``word_weights``)
        self.settings = settings or MatchingConfig()
        self.weights = weights or Weights()
        pairs = [(entry_id, text) for entry_id, text in items if text.strip()]
        if not pairs:
            raise ValueError("cannot build a matcher without phrasings")
        self.entry_ids = sorted({entry_id for entry_id, _ in pairs})
        index_of = {entry_id: i for i, entry_id in enumerate(self.entry_ids)}
        self._index_of = index_of
        # Phrasings sorted by entry, so per-entry maxima are one ``reduceat``.
        pairs.sort(key=lambda pair: index_of[pair[0]])
        self.phrasings = [text for _, text in pairs]
        self.owner = np.fromiter((index_of[e] for e, _ in pairs), dtype=np.int64, count=len(pairs))
        self._starts = np.searchsorted(self.owner, np.arange(len(self.entry_ids)))
        cleaned = [self.normalizer.normalize(text) for text in self.phrasings]
        self.normalized = [" ".join(self.normalizer.tokens(text)) for text in cleaned]  # ``segmented``
        # token_sort_ratio(a, b) == ratio(sorted tokens of a, sorted tokens of b): sort once here.
        self._sorted = [_sort_tokens(text) for text in self.normalized]
        w = self.weights
        # Character n-grams catch typos and unsegmented Chinese; words catch reordered phrasings.
        # Very common n-grams (max_df) carry no signal and would make every query touch every phrasing.
        char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=w.char_ngrams, sublinear_tf=True, max_df=w.max_df, dtype=np.float32
        )
        word = TfidfVectorizer(
            analyzer="word",
            token_pattern=r"\S+",  # noqa: S106 - a regex, not a password
            sublinear_tf=True,
            dtype=np.float32,
        )
        # Peak memory matters at 100,000 phrasings: weight in place and free each matrix once it is merged.
        char_matrix = char.fit_transform(self.normalized)
        char_columns = char_matrix.shape[1]
        char_matrix.data *= w.char
        word_matrix = word.fit_transform(self.normalized)
        word_matrix.data *= w.word
        matrix = sp.hstack([char_matrix, word_matrix], format="csr", dtype=np.float32)
        del char_matrix, word_matrix
        matrix = l2_normalize(matrix, copy=False)
        self._query_parts = (
            _QueryVectorizer(char, 0, w.char),
            _QueryVectorizer(word, char_columns, w.word),
        )
        membership = sp.csr_matrix(
            (np.ones(len(pairs), dtype=np.float32), (self.owner, np.arange(len(pairs)))),
            shape=(len(self.entry_ids), len(pairs)),
        )
        self._centroids_t = l2_normalize(membership @ matrix, copy=False).T.tocsr()
        self.classifier = (
            EntryClassifier.fit(matrix, self.owner, len(self.entry_ids), cache_dir=cache_dir)
            if classify and EntryClassifier.fits(matrix.shape[1], len(self.entry_ids))
            else None
        )
        # Feature-major copy: a query's product only walks the postings of its own n-grams.
        self._inverted = matrix.T.tocsr()
        del matrix
        # Vocabulary coverage: the words each entry knows (phrasings and its rendered answer, with figures),
        # weighted by idf capped by general-language rarity (``word_weights``).
        # A near-domain question ("office rents in BDA") shares the domain words but not its key word.
        vocabularies: list[set[str]] = [set() for _ in self.entry_ids]
        for entry_index, text in zip(self.owner, self.normalized, strict=True):
            vocabularies[entry_index].update(text.split())
        # The parts of a year each entry names (``periods``): "H1 2024" does not answer "the second half".
        named: list[set[str]] = [set() for _ in self.entry_ids]
        for entry_index, text in zip(self.owner, cleaned, strict=True):
            named[entry_index].update(periods(text))
        del cleaned
        for entry_id, text in context:
            if entry_id in index_of:
                normalized_text = self.normalizer.normalize(text)
                vocabularies[index_of[entry_id]].update(self.normalizer.tokens(normalized_text))
                named[index_of[entry_id]].update(periods(normalized_text))
        self._vocab = [frozenset(v) for v in vocabularies]
        self._periods = [frozenset(p) for p in named]
        del vocabularies, named
        # Chinese paraphrases often segment differently (配套 vs 配套资金): character bigrams let a word
        # count as known when its bigrams appear in the entry's text.
        self._han_grams = [
            frozenset(g for word in v if has_han(word) for g in (*_han_grams(word), *word)) for v in self._vocab
        ]
        self._token_idf = {
            token: float(word.idf_[column]) for token, column in word.vocabulary_.items() if " " not in token
        }
        self._unknown_idf = float(word.idf_.max())
        # Every word the knowledge base knows: a rare question word outside it ("Zhangjiang", "Wuxi", "苏州")
        # names something no entry is about.
        self._all_words = frozenset().union(*self._vocab)
        # The key words of the entries' "not in our sources" sentences that no entry knows otherwise ("rent",
        # "租金"): a question naming one asks for what the entry says it cannot give. Words some entry knows
        # ("amount", a year, "咨询") and the markers' own words are left out: they say nothing of the gap.
        marker_words = {
            token
            for marker in (*UNSOURCED_MARKERS, "sources", "资料")
            for token in self.normalizer.tokens(self.normalizer.normalize(marker))
        }
        gap_words: list[set[str]] = [set() for _ in self.entry_ids]
        for entry_id, text in gaps:
            if entry_id in index_of:
                for token, surface in self.normalizer.words(self.normalizer.normalize(text)):
                    if zipf(surface) < COMMON_ZIPF and token not in self._all_words and token not in marker_words:
                        gap_words[index_of[entry_id]].add(token)
        self._gap_words = [frozenset(g) for g in gap_words]
        # By length, then alphabetically: a word's possible misspellings are one slice (``_spellings``).
        self._all_word_list = tuple(sorted(self._all_words, key=lambda word: (len(word), word)))
        self._word_lengths = [len(word) for word in self._all_word_list]
        # A question word's near spellings among all the knowledge base's words, found once and kept: per
        # entry, a typo is then a set lookup. A search per candidate entry cost about a third of a question
        # at 15,000 phrasings (CLINC150, cProfile); the words are what the per-entry searches would find.
        self._near: Callable[[str], tuple[tuple[str, float], ...]] = lru_cache(maxsize=16_384)(self._spellings)
        # Most searches are for words the knowledge base itself knows (88% of them on CLINC150 questions):
        # those are found for every word at once, one rapidfuzz ``cdist`` per word length (0.16 s at 15,000
        # phrasings), so a question's first-seen words rarely wait for a search.
        self._known_near = self._all_spellings()
        self._all_han_grams = frozenset().union(*self._han_grams)
        # Words a quarter of the entries know ("beijing", "etown") name what the whole knowledge base is about:
        # a question naming them is not about somewhere else.
        known_by = Counter(word for vocab in self._vocab for word in vocab)
        self._common_words = frozenset(w for w, n in known_by.items() if n * 4 >= len(self._vocab))

    @classmethod
    def from_knowledge_base(
        cls,
        kb: KnowledgeBase,
        settings: MatchingConfig | None = None,
        weights: Weights | None = None,
        cache_dir: Path | None = None,
    ) -> Matcher:
        """Index every phrasing (and keyword) of every askable entry."""
        items: list[tuple[str, str]] = []
        context: list[tuple[str, str]] = []
        gaps: list[tuple[str, str]] = []
        for entry in kb.matchable():
            for texts in entry.questions.values():
                items.extend((entry.id, text) for text in texts)
            items.extend((entry.id, keyword) for keyword in entry.keywords)
            about = [*entry.answer.values(), *entry.metric.values(), *entry.note.values()]
            # The rendered answer holds the figures ("200亿元", "5,000 companies") questions quote.
            about.extend(render_answer(kb, entry, lang).body for lang in entry.languages)
            for known, gap in map(split_gaps, about):
                context.append((entry.id, known))
                if gap:
                    gaps.append((entry.id, gap))
        return cls(
            items,
            Normalizer(kb.synonyms),
            settings,
            weights,
            context,
            cache_dir=cache_dir,
            gaps=gaps,
            smalltalk=kb.smalltalk,
        )

    def chat(self, question: str) -> ChatVerdict | None:
        """``smalltalk`` or ``unclear`` when the message is no question (``bot.matching.smalltalk``), else None.

        Beyond the phrases: a message whose every word is keyboard mash, in no dictionary and unknown to
        every entry even as a typo ("asdkjh qwe"), is unclear.
        """
        question = question[:MAX_QUERY_CHARS]
        verdict = self._chat.classify(question)
        if verdict is not None:
            return verdict
        # Most questions hold a word that is not mash-shaped: no need to normalise them here.
        found = clean(question).split()
        if not all(mash_shaped(w) or w.isdigit() for w in found) or not any(mash_shaped(w) for w in found):
            return None
        words = self.normalizer.words(self.normalizer.normalize(question))
        if words and all(
            mash_shaped(surface)
            and zipf(surface) < MASH_ZIPF
            and token not in self._all_words
            and not any(score >= MASH_TYPO for _, score in self._near(token))
            for token, surface in words
        ):
            return ChatVerdict("unclear")
        return None

    def _scores(self, normalized: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
        """Cosine of the query to every phrasing and to every entry centroid; the classifier's decisions."""
        import numpy as np

        vector: dict[int, float] = {}
        for part in self._query_parts:
            part.add(normalized, vector)
        if not vector:
            return None
        columns = np.fromiter(vector.keys(), dtype=np.int64, count=len(vector))
        values = np.fromiter(vector.values(), dtype=np.float32, count=len(vector))
        values /= np.linalg.norm(values)
        decision = self.classifier.decision(columns, values) if self.classifier is not None else None
        return (
            _postings_product(self._inverted, columns, values),
            _postings_product(self._centroids_t, columns, values),
            decision,
        )

    def rank(
        self, question: str, limit: int | None = RERANK, calibration: Calibration | None = None
    ) -> list[Candidate]:
        """Entries ranked by confidence (the estimated probability of being right, 0..1), best first: the best
        ``limit``, or (None) every candidate scored: the ``RERANK`` most similar and the classifier's best."""
        import numpy as np

        question = self._chat.strip(question[:MAX_QUERY_CHARS])
        cleaned = self.normalizer.normalize(question)
        words = self.normalizer.words(cleaned)
        normalized = " ".join(token for token, _ in words)
        scores = self._scores(normalized) if normalized else None
        if scores is None:
            return []
        phrase_scores, centroid, decision = scores
        w = self.weights
        nearest = np.maximum.reduceat(phrase_scores, self._starts)
        coarse = w.nearest * nearest + w.centroid * centroid
        # Re-rank: rapidfuzz on the best phrasings by cosine, not on every phrasing.
        shortlist = _top(phrase_scores, w.shortlist)
        query_sorted = _sort_tokens(normalized)
        fuzzy = np.zeros(len(self.entry_ids), dtype=np.float32)
        best_phrase: dict[int, int] = {}  # entry -> its shortlisted phrasing with the best cosine
        best_score: dict[int, float] = {}
        best_ratio: dict[int, float] = {}
        # Python lists: indexing numpy arrays element by element costs more than the work itself here.
        for index, score, entry_index in zip(
            shortlist.tolist(), phrase_scores[shortlist].tolist(), self.owner[shortlist].tolist(), strict=True
        ):
            if score <= 0:
                continue
            ratio = fuzz.ratio(query_sorted, self._sorted[index]) / 100.0
            if ratio > best_ratio.get(entry_index, 0.0):
                best_ratio[entry_index] = ratio
            if score > best_score.get(entry_index, 0.0):
                best_score[entry_index] = score
                best_phrase[entry_index] = index
        if best_ratio:
            fuzzy[list(best_ratio)] = list(best_ratio.values())
        fused = (coarse + w.fuzzy * fuzzy) / (w.nearest + w.centroid + w.fuzzy)
        top = _top(fused, RERANK if limit is None else max(limit, RERANK)).tolist()
        if decision is not None:
            # The entries the classifier prefers are candidates even when they share few n-grams.
            top.extend(i for i in _top(decision, CLASSIFIER_CANDIDATES).tolist() if i not in top)
        # The words of a period ("jan to sep", "前三季度") are matched as a period (``year_missing``), not as
        # words an entry must know: "Jan to Sep 2021" asked of the entry for "January-September 2021".
        found_periods = period_parts(cleaned)
        in_period = {token for _, span in found_periods for token in self.normalizer.tokens(span)}
        if in_period:
            words = [pair for pair in words if pair[0] not in in_period] or words
        token_weights = self.word_weights(words)
        total_weight = sum(token_weights.values())
        # A question of only common words ("no", "why", "1") says too little to be answered with confidence.
        information = min(1.0, total_weight / w.information) if w.information > 0 else 1.0
        query_words = _with_grams(token_weights)  # once per question, not once per candidate
        foreign = self._foreign_weight(query_words)
        names = [
            (token, _han_grams(token) if has_han(token) else None)
            for token in self.normalizer.names(question, cleaned)
            if token not in self._common_words and token not in in_period  # "Jan to Sep" names no place
        ]
        years = _YEAR_RE.findall(normalized)
        parts = frozenset(part for part, _ in found_periods)  # ``periods(cleaned)``, from the one search
        top = [i for i in top if coarse[i] > 0]
        if not top:
            return []
        coverage: dict[int, float] = {}
        missing: dict[int, float] = {}
        for entry_index in top:
            share, missing[entry_index] = self._coverage(query_words, total_weight, entry_index)
            covered = share**w.coverage_power
            coverage[entry_index] = covered
            fused[entry_index] *= (1.0 - w.coverage + w.coverage * covered) * information
        fused_best = _best_two([float(fused[i]) for i in top])
        decision_best = _best_two(np.partition(decision, -2)[-2:].tolist()) if decision is not None else (0.0, 0.0)
        calibration = calibration or self.settings.calibration
        results: list[Candidate] = []
        for entry_index in top:
            own = float(fused[entry_index])
            own_decision = float(decision[entry_index]) if decision is not None else 0.0
            signals = Signals(
                fused=own,
                fused_margin=_lead(own, fused_best),
                svm=own_decision,
                svm_margin=_lead(own_decision, decision_best) if decision is not None else 0.0,
                coverage=coverage[entry_index],
                missing=missing[entry_index],
                foreign=foreign,
                year_missing=float(
                    any(year not in self._vocab[entry_index] for year in years)
                    or not parts <= self._periods[entry_index]
                ),
                unknown_name=max((1.0 - self._known(t, g, entry_index) for t, g in names), default=0.0),
                information=information,
                nearest=float(nearest[entry_index]),
            )
            phrase = best_phrase.get(entry_index)
            if phrase is None:
                start = int(self._starts[entry_index])
                end = int(self._starts[entry_index + 1]) if entry_index + 1 < len(self._starts) else len(self.owner)
                phrase = start + int(np.argmax(phrase_scores[start:end]))
            gap = bool(self._gap_words[entry_index]) and any(
                _names_gap(token, grams, self._gap_words[entry_index]) for token, _, grams in query_words
            )
            results.append(Candidate(self.entry_ids[entry_index], 0.0, self.phrasings[phrase], signals, gap))
        return rescore(results, calibration)[:limit]

    def word_weights(self, words: Sequence[tuple[str, str]]) -> dict[str, float]:
        """How much each question word counts in coverage: its idf among the phrasings, capped by how rare the
        word is in general language (wordfreq), so filler the phrasings happen not to use ("considering",
        "真的") stops counting like a key word ("Suzhou", "rents")."""
        w = self.weights
        weights: dict[str, float] = {}
        for token, surface in words:
            share = (w.common_zipf - zipf(surface)) / (w.common_zipf - w.rare_zipf)
            general = self._unknown_idf * min(1.0, max(w.common_floor, share))
            weight = min(self._token_idf.get(token, self._unknown_idf), general)
            weights[token] = max(weights.get(token, 0.0), weight)
        return weights

    def _coverage(
        self, query_words: Sequence[tuple[str, float, list[str] | None]], total: float, entry_index: int
    ) -> tuple[float, float]:
        """Share of the question's idf weight found in the entry's vocabulary (typos count partly), and the
        weight of its most important unknown word as a share of the largest possible weight.

        ``query_words``: (token, weight, character bigrams if Chinese) per question word; ``total``: the weights' sum.
        """
        if total <= 0:
            return 0.0, 0.0
        # ``_known_in`` inlined: this loop runs for every word of every candidate, and the two calls per word
        # were a fifth of a question's time at 15,000 phrasings (cProfile). The same sums in the same order.
        vocab, han_grams, near = self._vocab[entry_index], self._han_grams[entry_index], self._near
        covered = 0.0
        missing = 0.0
        for token, weight, grams in query_words:
            if token in vocab:
                covered += weight
                continue
            if grams is not None:
                known = sum(g in han_grams for g in grams) / len(grams) if grams else 0.0
            elif len(token) >= 4:
                known = next((score for word, score in near(token) if word in vocab), 0.0)
            else:
                known = 0.0
            covered += weight * known
            unknown = weight * (1.0 - known)
            if unknown > missing:
                missing = unknown
        return covered / total, missing / self._unknown_idf

    def _known(self, token: str, grams: list[str] | None, entry_index: int) -> float:
        """How far the entry knows a question word: 1 if in its vocabulary, a share for Chinese bigrams or a typo."""
        return _known_in(token, grams, self._vocab[entry_index], self._han_grams[entry_index], self._near)

    def _all_spellings(self) -> dict[str, tuple[tuple[str, float], ...]]:
        """``_spellings`` of every Latin word of the knowledge base that a typo search can be asked for (4+
        letters), computed together: the same results (float64 scores, the same order)."""
        import numpy as np

        words, lengths = self._all_word_list, self._word_lengths
        found: dict[str, tuple[tuple[str, float], ...]] = {}
        for length in sorted(set(lengths)):
            if length < 4:
                continue
            lo, hi = bisect.bisect_left(lengths, length), bisect.bisect_right(lengths, length)
            queries = [word for word in words[lo:hi] if not has_han(word)]
            if not queries:
                continue
            start, end = _typo_range(lengths, length)
            choices = words[start:end]
            for block in range(0, len(queries), _SPELLING_BLOCK):  # a bounded score matrix at a time
                some = queries[block : block + _SPELLING_BLOCK]
                scores = process.cdist(
                    some, choices, scorer=fuzz.ratio, score_cutoff=TYPO_SIMILARITY, dtype=np.float64, workers=1
                )
                for query, row in zip(some, scores, strict=True):
                    hits = np.flatnonzero(row).tolist()
                    found[query] = tuple(
                        sorted(((choices[j], float(row[j]) / 100.0) for j in hits), key=lambda pair: -pair[1])
                    )
        return found

    def _spellings(self, token: str) -> tuple[tuple[str, float], ...]:
        """The knowledge base's words within ``TYPO_SIMILARITY`` of ``token``, with their similarity (0..1)."""
        known = self._known_near.get(token)
        return known if known is not None else self._search(token)

    def _search(self, token: str) -> tuple[tuple[str, float], ...]:
        """``_spellings`` by one rapidfuzz search over the words of the lengths that can reach it."""
        start, end = _typo_range(self._word_lengths, len(token))
        words = self._all_word_list[start:end]
        found = process.extract(token, words, scorer=fuzz.ratio, score_cutoff=TYPO_SIMILARITY, limit=None)
        # Best first, as extract sorts them: callers take the first word they know.
        return tuple((word, float(score) / 100.0) for word, score, _ in found)

    def unknown_to(self, question: str, entry_id: str) -> float:
        """How important the question's most important word that ``entry_id`` does not know is (0..1, the
        ``missing`` signal): a follow-up matched together with the last question ("what is its phone
        number?") must not be answered by an entry that knows nothing of its own key words."""
        found = self.unknown_word(question, entry_id)
        return found[1] if found is not None else 0.0

    def unknown_word(self, question: str, entry_id: str) -> tuple[str, float] | None:
        """The question's most important word ``entry_id`` does not know, with its weight as the ``missing``
        signal measures it (0..1, as ``_coverage`` does for ranking); None when the entry knows them all."""
        index = self._index_of.get(entry_id)
        words = self.normalizer.words(self.normalizer.normalize(self._chat.strip(question[:MAX_QUERY_CHARS])))
        if index is None or not words:
            return None
        surfaces = dict(words)
        worst: tuple[str, float] | None = None
        for token, weight, grams in _with_grams(self.word_weights(words)):
            unknown = weight * (1.0 - self._known(token, grams, index))
            if unknown > 0 and (worst is None or unknown > worst[1]):
                worst = (surfaces.get(token, token), unknown)
        return None if worst is None else (worst[0], worst[1] / self._unknown_idf)

    def foreign_share(self, token: str) -> float:
        """How far no entry knows ``token`` (1: not even as a typo or by its Chinese bigrams), 0..1."""
        return self._unknown_to_all(token, _han_grams(token) if has_han(token) else None)

    def _unknown_to_all(self, token: str, grams: list[str] | None) -> float:
        return 1.0 - _known_in(token, grams, self._all_words, self._all_han_grams, self._near)

    def _foreign_weight(self, query_words: Sequence[tuple[str, float, list[str] | None]]) -> float:
        """Weight of the question's most important word that no entry knows (not even as a typo), 0..1."""
        foreign = 0.0
        for token, weight, grams in query_words:
            if weight > foreign:  # a lighter word cannot raise the maximum: skip its typo search
                foreign = max(foreign, weight * self._unknown_to_all(token, grams))
        return foreign / self._unknown_idf

    def match(self, question: str, settings: MatchingConfig | None = None) -> Match:
        """Rank and decide; ``settings`` overrides the thresholds (used by ``eval --tune``)."""
        settings = settings or self.settings
        verdict = self.chat(question)
        if verdict is not None:
            return Match(question, detect_language(question), verdict.status, (), (), verdict.kind)
        candidates = tuple(self.rank(question, calibration=settings.calibration))
        status, suggestions = decide(candidates, settings)
        if status == "unanswered" and candidates:
            status, suggestions = decide(candidates, settings, self.topic_entries(question, candidates))
        return Match(question, detect_language(question), status, candidates, suggestions)

    def topic_entries(self, question: str, candidates: Sequence[Candidate]) -> frozenset[str]:
        """For a bare topic ("talent", "人才", "gdp 2024"): the candidates that know each of its key words;
        empty for any other question.

        Key words are the question's words that are not common language (wordfreq Zipf below
        ``COMMON_ZIPF``: "why" and "no" are never topics). A key word no entry knows ("Zhangjiang",
        "visa") makes it no topic of this knowledge base, so it still goes to staff.
        """
        words = self.normalizer.words(self.normalizer.normalize(self._chat.strip(question[:MAX_QUERY_CHARS])))
        if not words or len(words) > TOPIC_MAX_WORDS:
            return frozenset()
        keys = {token: _han_grams(token) if has_han(token) else None for token, s in words if zipf(s) < COMMON_ZIPF}
        if not 0 < len(keys) <= TOPIC_KEY_WORDS:
            return frozenset()
        return frozenset(
            candidate.entry_id
            for candidate in candidates
            if all(
                self._known(token, grams, self._index_of[candidate.entry_id]) >= TOPIC_KNOWN
                for token, grams in keys.items()
            )
        )


# Sentences of an answer that say what the sources do NOT give ("rents are not in our sources") must not
# teach the entry those words: a question about rents is for staff, not for the housing entry.
UNSOURCED_MARKERS = ("not in our sources", "not available", "do not give", "暂无")
_YEAR_RE = re.compile(r"(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])")
_SENTENCE_RE = re.compile(r"(?<=[.;!?])\s+|(?<=[。；！？])")


def split_gaps(text: str) -> tuple[str, str]:
    """``text`` as (its sentences that do not name a gap in the sources, those that do)."""
    known: list[str] = []
    gaps: list[str] = []
    for sentence in _SENTENCE_RE.split(text):
        (gaps if any(marker in sentence.casefold() for marker in UNSOURCED_MARKERS) else known).append(sentence)
    return " ".join(known).strip(), " ".join(gaps).strip()


def known_part(text: str) -> str:
    """``text`` without its sentences that name a gap in the sources."""
    return split_gaps(text)[0]


def gap_part(text: str) -> str:
    """The sentences of ``text`` that name a gap in the sources: what ``known_part`` leaves out."""
    return split_gaps(text)[1]


def _names_gap(token: str, grams: list[str] | None, gap_words: frozenset[str]) -> bool:
    """Whether a question word is one of an entry's gap words; a Chinese word also when one of its character
    bigrams is a two-character gap word ("月租金" holds "租金")."""
    if token in gap_words:
        return True
    return grams is not None and len(token) > 2 and any(gram in gap_words for gram in grams)


def rescore(candidates: Sequence[Candidate], calibration: Calibration) -> list[Candidate]:
    """Candidates scored by ``calibration`` from their signals, best first (ties: the better similarity)."""
    # The constructor, not dataclasses.replace (about 5 us a call, a tenth of re-scoring).
    scored = [
        Candidate(c.entry_id, probability(calibration, c.signals), c.phrasing, c.signals, c.gap)
        if c.signals is not None
        else c
        for c in candidates
    ]
    scored.sort(key=lambda c: (-c.score, -(c.signals.fused if c.signals is not None else 0.0)))
    return scored


def _known_in(
    token: str,
    grams: list[str] | None,
    vocab: frozenset[str],
    han_grams: frozenset[str],
    near: Callable[[str], tuple[tuple[str, float], ...]],
) -> float:
    """How far ``vocab`` knows a question word: 1 if it holds it; for Chinese, the share of its character
    bigrams in ``han_grams``; for a Latin word of 4+ letters, its similarity to the closest word of
    ``vocab`` among its near spellings (``near``: a typo) from ``TYPO_SIMILARITY`` on; else 0."""
    if token in vocab:
        return 1.0
    if grams is not None:
        return sum(g in han_grams for g in grams) / len(grams) if grams else 0.0
    if len(token) >= 4:
        return next((score for word, score in near(token) if word in vocab), 0.0)  # best first
    return 0.0


def _typo_range(lengths: Sequence[int], length: int) -> tuple[int, int]:
    """The slice of words (sorted by length) whose lengths can reach ``TYPO_SIMILARITY`` with ``length``."""
    # rapidfuzz's ratio is at most 200 * min(a, b) / (a + b) for lengths a and b, so a word reaches
    # TYPO_SIMILARITY only within this range of lengths; the rest need not be compared (same result).
    # In integers, so a length exactly at the bound is not lost to rounding.
    shortest = -(-length * TYPO_SIMILARITY // (200 - TYPO_SIMILARITY))
    longest = length * (200 - TYPO_SIMILARITY) // TYPO_SIMILARITY
    return bisect.bisect_left(lengths, shortest), bisect.bisect_right(lengths, longest)


def _lead(own: float, best_two: tuple[float, float]) -> float:
    """``own`` minus the best other value, given the best two of all (``own`` among them)."""
    return own - (best_two[1] if own >= best_two[0] else best_two[0])


def _best_two(values: Sequence[float]) -> tuple[float, float]:
    """The largest and second-largest of ``values`` (0.0 for a missing second)."""
    first = second = float("-inf")
    for value in values:
        if value > first:
            first, second = value, first
        elif value > second:
            second = value
    return first, (second if second != float("-inf") else 0.0)


def _with_grams(token_weights: dict[str, float]) -> list[tuple[str, float, list[str] | None]]:
    """(token, weight, its character bigrams if it is Chinese) for each question word."""
    return [(token, weight, _han_grams(token) if has_han(token) else None) for token, weight in token_weights.items()]


def _han_grams(word: str) -> list[str]:
    """Character bigrams of a Chinese word (the character itself for a one-character word)."""
    if len(word) == 1:
        return [word]
    return [word[i : i + 2] for i in range(len(word) - 1)]


def _sort_tokens(text: str) -> str:
    return " ".join(sorted(text.split()))


def _postings_product(inverted: sp.csr_matrix, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``inverted[columns].T @ values`` as a dense float32 vector.

    The same C++ kernels scipy runs for that expression (row gather, then a transposed product), called
    directly: scipy's Python layer around them (building and checking two sparse matrices) cost more than
    the kernels at the shipped size (59 vs 13 us a product; 1.5 vs 1.4 ms at 100,000 phrasings).
    ``tests/bot/matching/test_matcher.py`` checks the result against the scipy expression.
    """
    import numpy as np

    kernels = _kernels()
    if kernels is None:
        return np.asarray(inverted[columns].T @ values, dtype=np.float32)
    indptr = inverted.indptr
    rows = columns.astype(indptr.dtype, copy=False)
    starts = np.zeros(len(rows) + 1, dtype=indptr.dtype)
    np.cumsum(indptr[rows + 1] - indptr[rows], out=starts[1:])
    size = int(starts[-1])
    gathered_indices = np.empty(size, dtype=inverted.indices.dtype)
    gathered_data = np.empty(size, dtype=inverted.data.dtype)
    kernels.csr_row_index(len(rows), rows, indptr, inverted.indices, inverted.data, gathered_indices, gathered_data)
    out = np.zeros(inverted.shape[1], dtype=np.float32)
    # The gathered rows, read as columns of the transpose (CSC), times ``values``.
    kernels.csc_matvec(
        inverted.shape[1], len(rows), starts, gathered_indices, gathered_data, values.astype(np.float32), out
    )
    return out


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest values, largest first."""
    import numpy as np

    if k >= len(values):
        return np.argsort(-values, kind="stable")
    part = np.argpartition(-values, k - 1)[:k]
    return part[np.argsort(-values[part], kind="stable")]
