"""Turning an entry into an answer in one language, with the period and source of every figure.

``render_answer`` produces a plain-text ``Answer``; ``format_text`` lays it out for the console and
the command line, ``handlers.render.format_html`` for Telegram. Figures are rendered from the one value
in the fact, so both languages always agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from bot.knowledge.model import LANGS, PLACEHOLDER_RE, Entry, Figure, KnowledgeBase, Source
from bot.languages import TRADITIONAL, to_traditional
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


def figure_text(figure: Figure, lang: str) -> str:
    """e.g. ``more than 5,000 companies`` / ``超过5000家企业``; Chinese units are scaled exactly."""
    unit = figure.unit
    if lang == "zh":
        value = figure.value * unit.zh_scale
        zh_unit = unit.zh
        if zh_unit == "万元" and value >= 10000:
            value, zh_unit = value / 10000, "亿元"  # 10000万元 reads as 1亿元; exact decimal division
        text = f"{format_number(value, 'zh')}{zh_unit}"
    else:
        number = format_number(figure.value, "en")
        text = number if not unit.en else f"{number}{'' if unit.attached else ' '}{unit.en}"
    return words(lang).answer.qualifiers[figure.qualifier].format(text)


def _period(figure: Figure, lang: str) -> str:
    return figure.period.get(lang) or next(iter(figure.period.values()))


def _with_period(text: str, period: str, lang: str) -> str:
    return f"{text}（{period}）" if lang == "zh" else f"{text} ({period})"


def _source_line(source: Source, verified: bool) -> SourceLine:
    return SourceLine(source.title, source.url, source.published, verified and not source.reprint)


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
        chinese = render_answer(kb, entry, "zh")
        if chinese.lang != "zh":  # no Chinese answer: the English one, said to be a fallback
            return replace(chinese, requested_lang=TRADITIONAL)
        return replace(
            chinese,
            lang=TRADITIONAL,
            requested_lang=TRADITIONAL,
            title=to_traditional(chinese.title),
            body=to_traditional(chinese.body),
        )
    if entry.kind == "fact":
        return _render_fact(entry, lang)
    text_lang, body = _pick(entry.answer, lang)
    sources: list[SourceLine] = []
    if entry.source is not None:
        sources.append(_source_line(entry.source, True))

    def substitute(match: re.Match[str]) -> str:
        fact = kb.entries[match.group(1)]
        assert fact.figure is not None
        sources.append(_source_line(fact.figure.source, fact.figure.verified))
        return _with_period(figure_text(fact.figure, text_lang), _period(fact.figure, text_lang), text_lang)

    body = " ".join(PLACEHOLDER_RE.sub(substitute, body).split())
    return Answer(entry.id, text_lang, lang, entry.headline(text_lang), body, _dedupe(sources))


def _render_fact(entry: Entry, lang: str) -> Answer:
    figure = entry.figure
    assert figure is not None
    text_lang, metric = _pick(entry.metric, lang)
    labels = words(text_lang).answer
    colon = "：" if text_lang == "zh" else ": "
    parts = [
        f"{metric}（{_period(figure, text_lang)}）" if text_lang == "zh" else f"{metric} ({_period(figure, text_lang)})"
    ]
    parts[0] += f"{colon}{figure_text(figure, text_lang)}{'。' if text_lang == 'zh' else '.'}"
    if entry.note:
        note = entry.note.get(text_lang) or next(iter(entry.note.values()))
        parts.append(note)
    sources = [_source_line(figure.source, figure.verified)]
    if entry.history:
        older = []
        for item in entry.history:
            older.append(_with_period(figure_text(item, text_lang), _period(item, text_lang), text_lang))
            sources.append(_source_line(item.source, item.verified))
        separator = "；" if text_lang == "zh" else "; "
        parts.append(f"{labels.earlier}{colon}{separator.join(older)}{'。' if text_lang == 'zh' else '.'}")
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
