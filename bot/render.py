"""Turning an entry into an answer in one language, with the period and source of every figure.

``render_answer`` produces a plain-text ``Answer``; ``format_text`` lays it out for the console and
the command line, ``handlers.render.format_html`` for Telegram. Figures are rendered from the one value
in the fact, so both languages always agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from bot.knowledge.model import LANGS, PLACEHOLDER_RE, Entry, Figure, KnowledgeBase, Source
from bot.languages import TRADITIONAL, to_traditional
from bot.periods import PeriodReply
from bot.words import words


@dataclass(frozen=True)
class SourceLine:
    title: str
    url: str
    published: str
    verified: bool


@dataclass(frozen=True)
class Answer:
    """An entry rendered for one language; ``fallback`` when it had to use the other language."""

    entry_id: str
    lang: str
    requested_lang: str
    title: str
    body: str
    sources: tuple[SourceLine, ...]

    @property
    def fallback(self) -> bool:
        return self.lang != self.requested_lang


def format_number(value: Decimal, lang: str) -> str:
    """The number exactly as given: English with thousands separators, Chinese without."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    whole, _, fraction = text.partition(".")
    negative = whole.startswith("-")
    whole = whole.lstrip("-")
    if lang == "en":
        whole = f"{int(whole):,}"
    return ("-" if negative else "") + whole + (f".{fraction}" if fraction else "")


# Chinese writes large amounts in 万 (10^4) and 亿 (10^8): 50万元, 300万平方米, 34.92万名人才. Only where the
# figure stays exact and short: at most this many decimals after scaling (10795.06 stays as it is).
_ZH_MAX_DECIMALS = 4
_ZH_SCALES = ((Decimal(10) ** 8, "亿"), (Decimal(10) ** 4, "万"))
# English names large yuan amounts as the sources do: "20 million yuan", "2.001 billion yuan".
_EN_SCALES = ((Decimal(10) ** 9, "billion"), (Decimal(10) ** 6, "million"))
_EN_SCALED_UNITS = ("yuan",)


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def zh_amount(value: Decimal, unit: str) -> tuple[Decimal, str]:
    """``value`` ``unit`` in Chinese with 万 / 亿 where exact: (5000000, 元) -> (500, 万元); 10000万元 -> 1亿元."""
    if unit.startswith("万亿") or unit.startswith("亿") or unit == "%":
        return value, unit
    if unit.startswith("万"):  # already in 万: 亿 from 10000万 on
        scaled = value / 10000
        return (scaled, "亿" + unit[1:]) if value >= 10000 and _decimals(scaled) <= _ZH_MAX_DECIMALS else (value, unit)
    for size, prefix in _ZH_SCALES:
        scaled = value / size
        if value >= size and _decimals(scaled) <= _ZH_MAX_DECIMALS:
            return scaled, prefix + unit
    return value, unit


def _en_amount(value: Decimal, unit: str) -> tuple[Decimal, str]:
    if unit in _EN_SCALED_UNITS:
        for size, name in _EN_SCALES:
            scaled = value / size
            if value >= size and _decimals(scaled) <= 3:
                return scaled, f"{name} {unit}"
    return value, unit


def _amount(figure: Figure, lang: str) -> tuple[str, str, str]:
    """(number, scale-and-unit, joiner) of a figure: ``("1000", "万元", "")``, ``("10", "million yuan", " ")``."""
    unit = figure.unit
    if lang == "zh":
        value, zh_unit = zh_amount(figure.value * unit.zh_scale, unit.zh)
        return format_number(value, "zh"), zh_unit, ""
    value, en_unit = _en_amount(figure.value, unit.en)
    return format_number(value, "en"), en_unit, "" if unit.attached or not en_unit else " "


def figure_text(figure: Figure, lang: str) -> str:
    """e.g. ``more than 5,000 companies`` / ``超过5000家企业``; amounts scaled exactly (50万元, 20 million yuan)."""
    number, unit, joiner = _amount(figure, lang)
    return words(lang).answer.qualifiers[figure.qualifier].format(f"{number}{joiner}{unit}")


def range_text(low: Figure, high: Figure, lang: str) -> str | None:
    """Two exact figures of one unit as a range: ``10-40 million yuan`` / ``1000万至4000万元``; None otherwise."""
    if low.unit != high.unit or low.qualifier != "exact" or high.qualifier != "exact" or low.value >= high.value:
        return None
    (a, a_unit, _), (b, b_unit, joiner) = _amount(low, lang), _amount(high, lang)
    if lang == "zh":
        if low.unit.attached:  # 10%至20%
            return f"{a}{a_unit}至{b}{b_unit}"
        # The scale stays with each number and the unit is said once: 1000万至4000万元, 5000万至1.2亿元.
        base = a_unit.lstrip("万亿")
        if not b_unit.endswith(base):
            return f"{a}{a_unit}至{b}{b_unit}"
        return f"{a}{a_unit[: len(a_unit) - len(base)]}至{b}{b_unit}"
    if a_unit != b_unit:
        return f"{a}{joiner}{a_unit} to {b}{joiner}{b_unit}"
    return f"{a}-{b}{joiner}{b_unit}"


def _period(figure: Figure, lang: str) -> str:
    return figure.period.get(lang) or next(iter(figure.period.values()))


def _with_period(text: str, period: str, lang: str) -> str:
    return f"{text}（{period}）" if lang == "zh" else f"{text} ({period})"


def _source_line(source: Source, verified: bool) -> SourceLine:
    return SourceLine(source.title, source.url, source.published, verified and not source.reprint)


def _figure_sources(figure: Figure) -> tuple[SourceLine, ...]:
    """A figure's source lines: verified unless the figure is marked otherwise or the page is a reprint."""
    return tuple(_source_line(source, figure.verified) for source in figure.sources)


def _pick(texts: Mapping[str, str], lang: str) -> tuple[str, str]:
    if texts.get(lang):
        return lang, texts[lang]
    other = next(lg for lg in LANGS if texts.get(lg))
    return other, texts[other]


def _dedupe(lines: Iterable[SourceLine]) -> tuple[SourceLine, ...]:
    seen: dict[str, SourceLine] = {}
    for line in lines:
        seen.setdefault(line.url, line)
    return tuple(seen.values())


def render_answer(kb: KnowledgeBase, entry: Entry, lang: str) -> Answer:
    """Render ``entry`` in ``lang`` (or the other language when it has none); ``zh-Hant``: the Chinese
    answer in Traditional characters (``bot.languages``), its source titles as published."""
    if lang == TRADITIONAL:
        return _in_traditional(render_answer(kb, entry, "zh"))
    if entry.kind == "fact":
        return _render_fact(kb, entry, lang)
    text_lang, body = _pick(entry.answer, lang)
    sources = [_source_line(source, True) for source in entry.sources]

    def figure_of(fact_id: str) -> Figure:
        fact = kb.entries[fact_id]
        assert fact.figure is not None
        return fact.figure

    body = " ".join(_fill(body, figure_of, text_lang, sources).split())
    return Answer(entry.id, text_lang, lang, entry.headline(text_lang), body, _dedupe(sources))


# A range written between two facts: "between {{a}} and {{b}}", "{{a}} to {{b}}", "{{a}}至{{b}}" ("{{a}} and
# {{b}}" alone is a list, not a range).
_ID = r"\{\{\s*([^{}\s]+)\s*\}\}"
_RANGE_RE = re.compile(rf"between\s+{_ID}\s+and\s+{_ID}|{_ID}\s*(?:to|-|–|至|到)\s*{_ID}", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+|(?<=[。；！？])")


def _fill(template: str, figure_of: Callable[[str], Figure], lang: str, sources: list[SourceLine]) -> str:
    """The answer text with its facts' figures, each period said once per sentence: after the last of a run
    of figures of the same period ("up to 100 million yuan a year, and 10-40 million yuan (2023)"), not
    after each; two exact figures of one unit and period written as a range are a range."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(template):
        items: list[tuple[int, int, str, str, tuple[Figure, ...]]] = []  # start, end, text, period, figures
        for match in _RANGE_RE.finditer(sentence):
            low = figure_of(match.group(1) or match.group(3))
            high = figure_of(match.group(2) or match.group(4))
            if _period(low, lang) == _period(high, lang) and (text := range_text(low, high, lang)) is not None:
                items.append((match.start(), match.end(), text, _period(low, lang), (low, high)))
        for match in PLACEHOLDER_RE.finditer(sentence):
            if any(start <= match.start() < end for start, end, *_ in items):
                continue  # part of a range
            figure = figure_of(match.group(1))
            items.append((match.start(), match.end(), figure_text(figure, lang), _period(figure, lang), (figure,)))
        items.sort(key=lambda item: item[0])
        pieces, last = [], 0
        for index, (start, end, text, period, figures) in enumerate(items):
            sources.extend(line for f in figures for line in _figure_sources(f))
            following = items[index + 1][3] if index + 1 < len(items) else None
            pieces.append(sentence[last:start])
            pieces.append(text if following == period else _with_period(text, period, lang))
            last = end
        pieces.append(sentence[last:])
        out.append("".join(pieces))
    return ("" if lang == "zh" else " ").join(out)


def period_answer(kb: KnowledgeBase, reply: PeriodReply, lang: str) -> Answer:
    """The answer to a question about years (``bot.periods``): the figures for them, then the entry's
    answer; or, when the sources have none for them, that said plainly with the nearest figures."""
    if lang == TRADITIONAL:
        return _in_traditional(period_answer(kb, reply, "zh"))
    entry = kb.entries[reply.entry_id]
    base = render_answer(kb, entry, lang)
    text_lang = base.lang
    labels = words(text_lang).answer
    listed = reply.found or reply.nearest
    colon, separator = ("：", "；") if text_lang == "zh" else (": ", "; ")
    figures = separator.join(
        f"{_pick(kb.entries[d.fact_id].metric, text_lang)[1]}{colon}"
        + _with_period(figure_text(d.figure, text_lang), _period(d.figure, text_lang), text_lang)
        for d in listed
    )
    years = labels.years_and.join(labels.year.format(year=year) for year in reply.years)
    sources = [line for d in listed for line in _figure_sources(d.figure)]
    if reply.found:
        lead = labels.period_found.format(years=years, figures=figures)
        body = f"{lead}{'' if text_lang == 'zh' else ' '}{base.body}"
        sources += base.sources
    else:
        body = labels.period_missing.format(years=years, figures=figures)
    return Answer(entry.id, text_lang, lang, base.title, body, _dedupe(sources))


def _in_traditional(chinese: Answer) -> Answer:
    """A Chinese answer for a reply in Traditional characters (an English fallback stays as it is)."""
    if chinese.lang != "zh":  # no Chinese answer: the English one, said to be a fallback
        return replace(chinese, requested_lang=TRADITIONAL)
    return replace(
        chinese,
        lang=TRADITIONAL,
        requested_lang=TRADITIONAL,
        title=to_traditional(chinese.title),
        body=to_traditional(chinese.body),
    )


def _render_fact(kb: KnowledgeBase, entry: Entry, lang: str) -> Answer:
    figure = entry.figure
    assert figure is not None
    text_lang, metric = _pick(entry.metric, lang)
    labels = words(text_lang).answer
    colon, stop = ("：", "。") if text_lang == "zh" else (": ", ".")
    parts = [
        f"{metric}（{_period(figure, text_lang)}）" if text_lang == "zh" else f"{metric} ({_period(figure, text_lang)})"
    ]
    parts[0] += f"{colon}{figure_text(figure, text_lang)}{stop}"
    if entry.note:
        note = entry.note.get(text_lang) or next(iter(entry.note.values()))
        parts.append(note)
    sources = list(_figure_sources(figure))
    if entry.history:
        older = []
        for item in entry.history:
            older.append(_with_period(figure_text(item, text_lang), _period(item, text_lang), text_lang))
            sources.extend(_figure_sources(item))
        separator = "；" if text_lang == "zh" else "; "
        parts.append(f"{labels.earlier}{colon}{separator.join(older)}{stop}")
    newer = kb.entries.get(entry.superseded_by or "")
    if newer is not None and newer.figure is not None:
        # An older figure kept on purpose (a 2021 count) is never given as if it were the current one.
        latest = _with_period(figure_text(newer.figure, text_lang), _period(newer.figure, text_lang), text_lang)
        dash = "——" if text_lang == "zh" else " — "
        parts.append(f"{labels.newest}{dash}{_pick(newer.metric, text_lang)[1]}{colon}{latest}{stop}")
        sources.extend(_figure_sources(newer.figure))
    joiner = "" if text_lang == "zh" else " "
    return Answer(entry.id, text_lang, lang, entry.headline(text_lang), joiner.join(parts), _dedupe(sources))


def source_text(line: SourceLine, lang: str) -> str:
    """A source as one line of plain text: its title, date and, unless verified, a warning."""
    labels = words(lang).answer
    flag = f" ({labels.unverified})" if not line.verified else ""
    return f"{line.title}, {labels.published} {line.published}{flag}"


def format_text(answer: Answer) -> str:
    """Plain text for the console: body, then one line per source with its date and URL."""
    labels = words(answer.requested_lang).answer
    lines = []
    if answer.fallback:
        lines.append(labels.fallback)
    lines.append(answer.body)
    for source in answer.sources:
        lines.append(f"{labels.source}: {source_text(source, answer.requested_lang)} <{source.url}>")
    return "\n".join(lines)
