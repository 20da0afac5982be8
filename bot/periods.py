"""A question that names a year: the figures the sources give for it, or, when they give none, the nearest.

Facts keep their history (``Figure`` per period). When a question asks for a year, the entry it is about is
answered with that year's figures first; when no figure of the entry is for that year, the reply says so
plainly, gives the nearest figures with their periods, and the question goes to staff (``bot.assistant``).
Years only: a part of a year ("H1 2024") is matched by the matcher's ``year_missing`` signal already.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge.model import PLACEHOLDER_RE, Entry, Figure, KnowledgeBase
from bot.matching.text import clean

_YEAR = r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])"
YEAR_RE = re.compile(_YEAR)
# The year and the words that tie it to the question: "in 2023", "for 2021", "2023年的", "2025年呢".
_ASKED_RE = re.compile(rf"(?:\b(?:in|for|during|of|as of|by)\s+)?{_YEAR}\s*(?:年(?:的|度)?)?", re.IGNORECASE)


@dataclass(frozen=True)
class Dated:
    """One figure of a fact, with whether it is the fact's newest."""

    fact_id: str
    figure: Figure
    newest: bool


@dataclass(frozen=True)
class PeriodReply:
    """What an entry's figures say for the years a question asks: ``found`` (the figures for them) or, when
    none is, ``nearest`` (each fact's figure closest in time)."""

    entry_id: str
    years: tuple[str, ...]
    found: tuple[Dated, ...] = ()
    nearest: tuple[Dated, ...] = ()


def asked_years(question: str) -> tuple[str, ...]:
    """The years a question names, in order, once each ("biotech output in 2023" -> ("2023",))."""
    return tuple(dict.fromkeys(YEAR_RE.findall(clean(question))))


def without_years(question: str) -> str:
    """The question without its years and the words that tie them in ("2023年经开区GDP" -> "经开区GDP")."""
    return " ".join(_ASKED_RE.sub(" ", clean(question)).split())


def figure_years(figure: Figure) -> frozenset[str]:
    """The years a figure's period names ("January–September 2021" -> {"2021"})."""
    return frozenset(year for text in figure.period.values() for year in YEAR_RE.findall(text))


def named_by(entry: Entry) -> frozenset[str]:
    """The years an entry's own words name, not its figures' periods: "the action plan of February 2023" is
    about 2023 even though its figures are 2025 targets."""
    # Not the phrasings ("biotech companies 2023" asks for a figure's period) nor the metric.
    texts = [*entry.answer.values(), *entry.note.values()]
    return frozenset(year for text in texts for year in YEAR_RE.findall(PLACEHOLDER_RE.sub(" ", text)))


def dated_figures(kb: KnowledgeBase, entry: Entry) -> list[Dated]:
    """Every figure an entry shows: a fact's own and its history; an FAQ entry's facts' (``{{fact-id}}``)."""
    if entry.kind == "fact":
        facts = [entry]
    else:
        ids = dict.fromkeys(m.group(1) for text in entry.answer.values() for m in PLACEHOLDER_RE.finditer(text))
        facts = [kb.entries[i] for i in ids if i in kb.entries]
    out: list[Dated] = []
    for fact in facts:
        if fact.figure is not None:
            out.append(Dated(fact.id, fact.figure, True))
            out.extend(Dated(fact.id, item, False) for item in fact.history)
    return out


def period_reply(kb: KnowledgeBase, entry: Entry, years: tuple[str, ...]) -> PeriodReply | None:
    """What to say about ``years`` for ``entry``; None when there is nothing to add to its answer (it shows
    no dated figure, or its newest figures are the ones asked for)."""
    figures = dated_figures(kb, entry)
    dated = [d for d in figures if figure_years(d.figure)]
    if not dated or not years or named_by(entry) >= frozenset(years):
        return None
    asked = frozenset(years)
    found = tuple(d for d in dated if figure_years(d.figure) & asked)
    if found:
        if all(d.newest for d in found):
            return None  # the answer leads with them already
        return PeriodReply(entry.id, years, found=found)

    # Each fact's figures closest in time, both sides of a gap when they are as close: 2023 and 2021 for 2022.
    def distance(item: Dated) -> int:
        return min(abs(int(y) - int(a)) for y in figure_years(item.figure) for a in years)

    closest = {item.fact_id: distance(item) for item in dated}
    for item in dated:
        closest[item.fact_id] = min(closest[item.fact_id], distance(item))
    return PeriodReply(entry.id, years, nearest=tuple(d for d in dated if distance(d) == closest[d.fact_id]))
