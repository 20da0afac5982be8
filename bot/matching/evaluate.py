"""Measuring the matcher on labelled questions, and tuning its thresholds (``etown-bot eval``).

Cases are a YAML list of ``{q: question, expect: entry-id}``; ``expect: null`` marks a question the
bot must not answer, ``expect: smalltalk`` / ``expect: unclear`` a message that is no question (a greeting;
"?"), judged by the small-talk rules alone and never fitted on. Each case is ranked once; thresholds are
then applied to the stored rankings, so ``--tune`` can try thousands of settings in a second.

``--tune`` fits the calibration (``bot.matching.confidence``) and the thresholds; ``--folds K`` reports
k-fold cross-validation: each fold decided by a calibration and thresholds fitted on the other folds only.
That is the honest figure for a dev set this small.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.config import Calibration, MatchingConfig
from bot.knowledge.model import Issue
from bot.knowledge.reader import LineDict, read_yaml
from bot.matching import confidence
from bot.matching.matcher import Candidate, Matcher, decide, rescore
from bot.matching.text import COMMON_ZIPF, detect_language, has_han, is_traditional
from bot.words import STAFF

CHAT_EXPECT = ("smalltalk", "unclear")  # ``expect`` values that name a chat status, not an entry


class CasesError(Exception):
    """The cases file cannot be used; ``issues`` say where."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = list(issues)


@dataclass(frozen=True)
class Case:
    q: str
    expect: str | None
    line: int

    @property
    def language(self) -> str:
        """en, zh-Hans or zh-Hant: Traditional Chinese is reported on its own."""
        if detect_language(self.q) == "en":
            return "en"
        return "zh-Hant" if is_traditional(self.q) else "zh-Hans"


@dataclass(frozen=True)
class Ranked:
    case: Case
    candidates: tuple[Candidate, ...]
    topic: frozenset[str] = frozenset()  # ``Matcher.topic_entries``: offered when nothing else is
    chat: str | None = None  # ``Matcher.chat``: "smalltalk" or "unclear" when the message is no question

    def decided(self, settings: MatchingConfig) -> tuple[str, tuple[Candidate, ...]]:
        """Status and suggestions under ``settings``: a chat verdict first, as ``Matcher.match`` does."""
        if self.chat is not None:
            return self.chat, ()
        return decide(self.candidates, settings, self.topic)


def load_cases(path: Path, known_ids: set[str] | None = None) -> list[Case]:
    """Read and check a cases file; unknown entry ids are errors when ``known_ids`` is given."""
    data, issues = read_yaml(path, str(path))
    if issues:
        raise CasesError(issues)
    if not isinstance(data, list):
        raise CasesError([Issue(str(path), 1, None, "cases must be a list of {q: ..., expect: ...}")])
    cases: list[Case] = []
    problems: list[Issue] = []
    for item in data:
        line = getattr(item, "line", 0)
        if not isinstance(item, LineDict) or not isinstance(item.get("q"), str) or "expect" not in item:
            problems.append(Issue(str(path), line, None, "a case needs 'q' (text) and 'expect' (an id or null)"))
            continue
        expect = item["expect"]
        if expect is not None and not isinstance(expect, str):
            problems.append(Issue(str(path), line, None, "'expect' must be an entry id or null"))
            continue
        if expect is not None and known_ids is not None and expect not in known_ids and expect not in CHAT_EXPECT:
            problems.append(Issue(str(path), line, expect, "no entry with this id in the knowledge base"))
            continue
        cases.append(Case(item["q"], expect, line))
    if problems:
        raise CasesError(problems)
    return cases


def rank_all(matcher: Matcher, cases: Sequence[Case], chat: bool = True) -> list[Ranked]:
    """Every case with all its candidates (``Matcher.rank(limit=None)``), best first.

    All of them, not the best ``RERANK`` under the configured calibration: ``tune`` fits a calibration on
    these, and a list cut by the calibration in use made each fit depend on the one before (``--tune`` with
    its own output as the defaults fitted 0.66 / 0.36, not the 0.7 / 0.27 it had printed). Decisions and
    reports read only the first three, which the cut did not change.

    ``chat=False`` ranks every case, small talk too: the synthetic questions the calibration is fitted on
    (``synthetic_cases``) include fillers ("what" alone), which teach it what a question of few words costs.
    """
    ranked = []
    for case in cases:
        verdict = matcher.chat(case.q) if chat else None
        if verdict is not None:
            ranked.append(Ranked(case, (), chat=verdict.status))
            continue
        candidates = tuple(matcher.rank(case.q, limit=None))
        ranked.append(Ranked(case, candidates, matcher.topic_entries(case.q, candidates)))
    return ranked


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def report(
    ranked: Sequence[Ranked],
    settings: MatchingConfig,
    topics: Mapping[str, str | None] | None = None,
    each: Sequence[MatchingConfig] | None = None,
) -> dict[str, Any]:
    """The figures ``etown-bot eval`` prints, as one JSON-ready mapping.

    Candidates are decided as scored; ``each`` (aligned with ``ranked``) gives a case its own thresholds
    (cross-validation), ``settings`` is what the report says was used.
    """
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses: list[dict[str, Any]] = []

    def count(group: str, key: str) -> None:
        totals[group][key] += 1

    for position, item in enumerate(ranked):
        case = item.case
        status, _ = item.decided(each[position] if each is not None else settings)
        best = item.candidates[0] if item.candidates else None
        answered_id = best.entry_id if status == "answered" and best else None
        groups = ["all", f"lang:{case.language}"]
        if case.expect is not None and topics is not None:
            groups.append(f"topic:{topics.get(case.expect) or '-'}")
        ok: bool
        for group in groups:
            count(group, "cases")
            count(group, f"status:{status}")
        if case.expect in CHAT_EXPECT:
            ok = status == case.expect
            for group in groups:
                count(group, case.expect)
                count(group, f"{case.expect}_right" if ok else f"{case.expect}_missed")
        elif case.expect is None:
            ok = status != "answered"
            for group in groups:
                count(group, "oos")
                if status in CHAT_EXPECT:
                    count(group, "questions_as_chat")
                count(group, "oos_rejected" if ok else "oos_answered")
                if status == "unanswered":
                    count(group, "oos_unanswered")
        else:
            ok = answered_id == case.expect
            in_top3 = any(c.entry_id == case.expect for c in item.candidates[:3])
            for group in groups:
                count(group, "in_scope")
                count(group, "correct" if ok else ("wrong" if status == "answered" else "not_answered"))
                if status in CHAT_EXPECT:
                    count(group, "questions_as_chat")
                if in_top3:
                    count(group, "top3")
        if not ok:
            misses.append(
                {
                    "q": case.q,
                    "line": case.line,
                    "expect": case.expect,
                    "status": status,
                    "best": best.entry_id if best else None,
                    "score": round(best.score, 4) if best else 0.0,
                }
            )

    def figures(group: Mapping[str, int]) -> dict[str, Any]:
        return {
            "cases": group["cases"],
            "in_scope": group["in_scope"],
            "out_of_scope": group["oos"],
            "in_scope_accuracy": _ratio(group["correct"], group["in_scope"]),
            "in_scope_wrong": _ratio(group["wrong"], group["in_scope"]),
            "out_of_scope_recall": _ratio(group["oos_rejected"], group["oos"]),
            "out_of_scope_answered": _ratio(group["oos_answered"], group["oos"]),
            "out_of_scope_unanswered": _ratio(group["oos_unanswered"], group["oos"]),
            "suggest_rate": _ratio(group["status:suggested"], group["cases"]),
            "top3": _ratio(group["top3"], group["in_scope"]),
            # Messages that are no question, and questions taken for one (which then reach no answer).
            "smalltalk": group["smalltalk"],
            "smalltalk_right": _ratio(group["smalltalk_right"], group["smalltalk"]),
            "unclear": group["unclear"],
            "unclear_right": _ratio(group["unclear_right"], group["unclear"]),
            "questions_as_chat": _ratio(group["questions_as_chat"], group["in_scope"] + group["oos"]),
        }

    out = figures(totals["all"])
    out["by_language"] = {
        key.split(":", 1)[1]: figures(value) for key, value in sorted(totals.items()) if key.startswith("lang:")
    }
    if topics is not None:
        out["by_topic"] = {
            key.split(":", 1)[1]: figures(value) for key, value in sorted(totals.items()) if key.startswith("topic:")
        }
    out["settings"] = settings_mapping(settings)
    out["misses"] = misses
    return out


def objective(figures: Mapping[str, Any]) -> float:
    """What ``--tune`` maximises: right answers and rejected out-of-scope questions, minus wrong answers.

    A wrong answer costs as much as a right one earns: an investor given a wrong figure is worse off than
    one offered "did you mean" or handed to staff.
    """
    return float(figures["in_scope_accuracy"] + figures["out_of_scope_recall"] - figures["in_scope_wrong"])


def _steps(lo: float, hi: float, step: float) -> list[float]:
    count = round((hi - lo) / step)
    return [round(lo + i * step, 4) for i in range(count + 1)]


def settings_mapping(settings: MatchingConfig) -> dict[str, Any]:
    """``settings`` as the mapping that goes under ``matching:`` in config.yaml."""
    return {
        "answer_threshold": settings.answer_threshold,
        "suggest_threshold": settings.suggest_threshold,
        "margin": settings.margin,
        "calibration": asdict(settings.calibration),
    }


# The inverse L2 penalty of the calibration fit: on the 633-case dev set, 100 reached 86.3% right in 5-fold
# cross-validation and 79.3% on the held-out set, 1 reached 76.0% and 76.1% (0 wrong, same operating point).
CALIBRATION_STRENGTH = 100.0
INNER_FOLDS = 5
BACKGROUND_WORDS = 200


def rescored(ranked: Sequence[Ranked], calibration: Calibration) -> list[Ranked]:
    """``ranked`` with every candidate scored (and re-ordered) by ``calibration`` (candidates without signals
    keep their score)."""
    return [Ranked(item.case, tuple(rescore(item.candidates, calibration)), item.topic, item.chat) for item in ranked]


def synthetic_cases(matcher: Matcher) -> list[Case]:
    """Every synthetic out-of-scope question the calibration is fitted on (``eval --tune``, ``--folds``)."""
    return [*background_cases(matcher), *near_miss_cases(matcher)]


def background_cases(matcher: Matcher, limit: int = BACKGROUND_WORDS) -> list[Case]:
    """Synthetic out-of-scope questions for the calibration fit: the phrasings' most used common words, alone.

    Labelled questions are rarely that short, so a calibration fitted on them alone learnt that a question
    whose every word an entry knows is safe to answer, and answered "no" and "why" (coverage 1.0). Each of
    these words alone says too little to be answered: with them in the fit it learns what little
    information costs. They are fitted on, never reported.
    """
    from bot.matching.text import zipf

    used: Counter[str] = Counter()
    for text in matcher.phrasings:
        for _, surface in matcher.normalizer.words(matcher.normalizer.normalize(text)):
            if zipf(surface) >= COMMON_ZIPF:
                used[surface] += 1
    return [Case(word, None, 0) for word, _ in used.most_common(limit)]


_SUBSTITUTE_ZIPF = (2.5, 4.5)  # real words, neither rare nor common: "umbrella", "Tianjin", "天津", "雨伞"


def near_miss_cases(matcher: Matcher, limit: int | None = None, seed: int = 0) -> list[Case]:
    """Synthetic near misses for the calibration fit: a phrasing with its key word swapped for one no entry
    knows ("How many CGT companies are in <Tianjin>?").

    Labelled out-of-scope questions are scarce, and few are near misses, so a fit on them alone learnt to
    answer a question whose every word but one matched an entry perfectly, whatever that one word was
    ("How much is Sanofi investing in a Beijing vaccine plant?" answered with the insulin base). The key
    word is the phrasing's heaviest word by the matcher's own weights (``Matcher.word_weights``); its substitute
    is a real word of the same language (wordfreq, Zipf 2.5 to 4.5) that no entry knows, even as a typo:
    half of them names (a capitalised English word, a place jieba tags ``ns``), as another city or company
    would be. Entries take turns; ``limit`` (default: one per entry) stays small because the fit weighs
    every synthetic case like a labelled one: on the 633-case dev set (5-fold CV) and on one half of a blind
    near-miss set, one per entry (48) answered 86.5% right with 5.4% of out-of-scope answered and 13.6% of
    the near misses, 200 answered 84.3% right, none 86.5% with 6.2% and 20.4%. Fitted on, never reported.
    """
    import random

    import wordfreq

    from bot.matching.text import zipf

    limit = len(matcher.entry_ids) if limit is None else limit
    rng = random.Random(seed)
    low, high = _SUBSTITUTE_ZIPF
    normalizer = matcher.normalizer

    def unknown(word: str) -> bool:
        tokens = normalizer.tokens(normalizer.normalize(word))
        return len(tokens) == 1 and matcher.foreign_share(tokens[0]) == 1.0

    substitutes: dict[str, tuple[list[str], list[str]]] = {}  # language -> (plain words, names)
    for lang in ("en", "zh"):
        plain: list[str] = []
        names: list[str] = []
        for word in wordfreq.top_n_list(lang, 30_000):
            if not low <= zipf(word) <= high:
                continue
            if lang == "en" and not (word.isascii() and word.isalpha() and len(word) >= 4):
                continue
            if lang == "zh" and not (has_han(word) and 2 <= len(word) <= 3):
                continue
            (names if lang == "zh" and normalizer.is_place(word) else plain).append(word)
        if lang == "en":
            names = [word.capitalize() for word in plain[1::2]]
            plain = plain[::2]
        substitutes[lang] = ([w for w in plain if unknown(w)], [w for w in names if unknown(w)])

    by_entry: dict[int, list[str]] = {}
    for text, owner in zip(matcher.phrasings, matcher.owner.tolist(), strict=True):
        by_entry.setdefault(owner, []).append(text)
    cases: list[Case] = []
    entries = sorted(by_entry)
    attempts = 0
    while len(cases) < limit and attempts < limit * 5 and entries:
        entry = entries[attempts % len(entries)]
        attempts += 1
        text = rng.choice(by_entry[entry])
        cleaned = normalizer.normalize(text)
        words = [(token, surface) for token, surface in normalizer.words(cleaned) if zipf(surface) < COMMON_ZIPF]
        if len(words) < 2:
            continue  # a single key word swapped is a different question, not a near miss
        weights = matcher.word_weights(words)
        _, surface = max(words, key=lambda pair: weights.get(pair[0], 0.0))
        lang = "zh" if has_han(surface) else "en"
        plain, names = substitutes[lang]
        pool = names if names and rng.random() < 0.5 else plain
        if not pool or surface not in cleaned:
            continue
        cases.append(Case(cleaned.replace(surface, rng.choice(pool), 1), None, 0))
    return cases


def fit_calibration(ranked: Sequence[Ranked], background: Sequence[Ranked] = ()) -> Calibration:
    """The logistic calibration fitted on every candidate of every case (right entry or not), and of every
    ``background`` case (synthetic out-of-scope questions, see ``background_cases``).

    Cases that cannot teach one (no signals, or no right or no wrong candidate among them) keep the default.
    """
    rows: list[confidence.Signals] = []
    labels: list[bool] = []
    for item in (*ranked, *background):
        for candidate in item.candidates:
            if candidate.signals is not None:
                rows.append(candidate.signals)
                labels.append(candidate.entry_id == item.case.expect)
    if len(set(labels)) < 2:
        return Calibration()
    return confidence.fit(rows, labels, CALIBRATION_STRENGTH)


def _folds(count: int, k: int) -> list[list[int]]:
    """Case indices split into ``k`` interleaved folds (deterministic: cases are grouped by entry in files,
    so interleaving spreads each entry's cases over the folds)."""
    return [list(range(start, count, k)) for start in range(k)]


def cross_fitted(ranked: Sequence[Ranked], background: Sequence[Ranked] = (), k: int = INNER_FOLDS) -> list[Ranked]:
    """Each case scored by a calibration fitted on the other folds: probabilities as unseen questions get them."""
    if len(ranked) < 2 * k:
        return rescored(ranked, fit_calibration(ranked, background))
    out: list[Ranked | None] = [None] * len(ranked)
    for fold in _folds(len(ranked), k):
        held = set(fold)
        calibration = fit_calibration([item for i, item in enumerate(ranked) if i not in held], background)
        for i, item in zip(fold, rescored([ranked[i] for i in fold], calibration), strict=True):
            out[i] = item
    return [item for item in out if item is not None]


def _grid(
    ranked: Sequence[Ranked], answers: Sequence[float], margins: Sequence[float], max_oos_answered: float
) -> dict[tuple[int, int], tuple[bool, float]]:
    """(feasible, ``objective``) of every (answer threshold, margin) pair: ``report``'s figures, vectorised
    (the loop over ``report`` took about 10 s for 600 cases; this takes milliseconds)."""
    import numpy as np

    top = np.array([item.candidates[0].score if item.candidates else 0.0 for item in ranked])
    second = np.array([item.candidates[1].score if len(item.candidates) > 1 else 0.0 for item in ranked])
    present = np.array([bool(item.candidates) and item.chat is None for item in ranked])
    oos = np.array([item.case.expect is None for item in ranked])
    right = np.array([bool(item.candidates) and item.candidates[0].entry_id == item.case.expect for item in ranked])
    in_scope, out_of_scope = int((~oos).sum()), int(oos.sum())
    grid: dict[tuple[int, int], tuple[bool, float]] = {}
    for i, answer in enumerate(answers):
        # ``decide``: below the suggest threshold (= answer here) nothing is answered.
        clears = present & (top >= answer)
        for j, margin in enumerate(margins):
            answered = clears & (top - second >= margin)
            correct = int((answered & right & ~oos).sum())
            wrong = int((answered & ~right & ~oos).sum())
            oos_answered = int((answered & oos).sum())
            figures = {
                "in_scope_accuracy": _ratio(correct, in_scope),
                "in_scope_wrong": _ratio(wrong, in_scope),
                "out_of_scope_recall": _ratio(out_of_scope - oos_answered, out_of_scope),
            }
            feasible = _ratio(oos_answered, out_of_scope) <= max_oos_answered
            grid[i, j] = (feasible, objective(figures))
    return grid


def tune(ranked: Sequence[Ranked], max_oos_answered: float = 0.05, background: Sequence[Ranked] = ()) -> MatchingConfig:
    """Fit the calibration, then grid-search the thresholds and margin on the calibrated scores.

    The thresholds are searched on cross-fitted scores (``cross_fitted``): scores of the very cases a
    calibration was fitted on are over-confident, and thresholds chosen on them answer too much.
    First the answer threshold and margin: the best ``objective``, averaged over the setting and its
    neighbours (+-0.02 on both), among settings that answer at most ``max_oos_answered`` of the
    out-of-scope questions (if none does, the best overall). Then the
    suggest threshold, which only splits the rest between "did you mean" and a hand-off to staff:
    the one maximising in-scope questions whose suggestions hold the right entry plus half the
    out-of-scope questions handed straight to staff (half: an out-of-scope question shown suggestions
    still reaches staff through "None of these", one tap later).
    """
    ranked = [item for item in ranked if item.case.expect not in CHAT_EXPECT]  # no entry to learn from
    calibration = fit_calibration(ranked, background)
    scored = cross_fitted(ranked, background)
    answers, margins = _steps(0.05, 0.95, 0.01), _steps(0.0, 0.2, 0.01)
    grid = _grid(scored, answers, margins, max_oos_answered)

    def smoothed(i: int, j: int) -> float:
        # A setting whose neighbours (+-0.02) also do well: the dev set is small, so a lone peak is luck.
        around = [grid[a, b][1] for a in range(i - 2, i + 3) for b in range(j - 2, j + 3) if (a, b) in grid]
        return sum(around) / len(around)

    best: tuple[tuple[bool, float, float, float], MatchingConfig] | None = None
    for (i, j), (feasible, value) in grid.items():
        # Ties go to the higher threshold: the dev set cannot tell them apart, and a higher one is safer
        # for unseen short questions ("hi") whose one word happens to match a single entry.
        key = (feasible, round(smoothed(i, j), 4), round(value, 4), answers[i])
        if best is None or key > best[0]:
            best = (key, MatchingConfig(answers[i], answers[i], margins[j]))
    assert best is not None
    chosen = best[1]

    def split_quality(suggest: float) -> tuple[float, float]:
        settings = MatchingConfig(chosen.answer_threshold, suggest, chosen.margin)
        helped = staff = in_scope = oos = 0
        for item in scored:
            status, suggestions = item.decided(settings)
            if item.case.expect is None:
                oos += 1
                staff += status == "unanswered"
            else:
                in_scope += 1
                helped += status == "suggested" and any(c.entry_id == item.case.expect for c in suggestions)
        return _ratio(helped, in_scope) + 0.5 * _ratio(staff, oos), -suggest

    suggest = max(_steps(0.01, chosen.answer_threshold, 0.01), key=split_quality)
    return MatchingConfig(chosen.answer_threshold, suggest, chosen.margin, calibration)


def cross_validate(
    ranked: Sequence[Ranked],
    k: int,
    max_oos_answered: float = 0.05,
    topics: Mapping[str, str | None] | None = None,
    background: Sequence[Ranked] = (),
) -> dict[str, Any]:
    """k-fold cross-validation: each fold scored and decided with what ``tune`` fits on the other folds.

    The figures are ``report``'s over all cases; ``settings`` is what ``tune`` fits on all of them.
    """
    if k < 2 or k > len(ranked):
        raise ValueError(f"--folds must be between 2 and the number of cases ({len(ranked)})")
    held_out: list[Ranked | None] = [None] * len(ranked)
    each: list[MatchingConfig | None] = [None] * len(ranked)
    for fold in _folds(len(ranked), k):
        held = set(fold)
        settings = tune([item for i, item in enumerate(ranked) if i not in held], max_oos_answered, background)
        for i, item in zip(fold, rescored([ranked[i] for i in fold], settings.calibration), strict=True):
            held_out[i], each[i] = item, settings
    cases = [item for item in held_out if item is not None]
    per_case = [settings for settings in each if settings is not None]
    figures = report(cases, tune(ranked, max_oos_answered, background), topics, each=per_case)
    figures["folds"] = k
    return figures


def format_report(figures: Mapping[str, Any], max_misses: int = 40) -> str:
    """The human-readable report."""
    said = STAFF.eval
    lines = [
        said.cases.format(cases=figures["cases"], in_scope=figures["in_scope"], out_of_scope=figures["out_of_scope"]),
        said.accuracy.format(value=figures["in_scope_accuracy"]),
        said.wrong.format(value=figures["in_scope_wrong"]),
        said.rejection.format(value=figures["out_of_scope_recall"], unanswered=figures["out_of_scope_unanswered"]),
        said.suggest_rate.format(value=figures["suggest_rate"]),
        said.top3.format(value=figures["top3"]),
    ]
    if figures["smalltalk"] or figures["unclear"]:
        lines.append(
            said.chat.format(
                smalltalk=figures["smalltalk"],
                smalltalk_right=figures["smalltalk_right"],
                unclear=figures["unclear"],
                unclear_right=figures["unclear_right"],
            )
        )
    lines.append(said.questions_as_chat.format(value=figures["questions_as_chat"]))
    for title, key in ((said.by_language, "by_language"), (said.by_topic, "by_topic")):
        if key not in figures:
            continue
        lines.append(f"\n{title}:")
        for name, group in figures[key].items():
            # Topics hold only in-scope questions: their out-of-scope rate would be a meaningless 0%.
            rejected = f"{group['out_of_scope_recall']:.1%}" if group["out_of_scope"] else "-"
            line = said.group.format(
                name=name,
                cases=group["cases"],
                accuracy=group["in_scope_accuracy"],
                wrong=group["in_scope_wrong"],
                rejected=rejected,
                top3=group["top3"],
            )
            lines.append(f"  {line}")
    misses = figures["misses"]
    if misses:
        lines.append("\n" + said.misses.format(count=len(misses)))
        for miss in misses[:max_misses]:
            lines.append("  " + said.miss.format(**miss))
        if len(misses) > max_misses:
            lines.append("  " + said.more_misses.format(count=len(misses) - max_misses))
    return "\n".join(lines)
