"""The words of bot/words hold no front end's markup: emphasis is a styled span (issue 13)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping

from bot.words import STAFF, words
from bot.words.styled import Span

_MARKUP = re.compile(r"</?(?:b|i|u|s|code|pre|blockquote|a|tg-spoiler)\b[^>]*>|&(?:lt|gt|amp|quot|#\d+);")


def _texts(value: object, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Span):
        yield where, value.text
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _texts(getattr(value, field.name), f"{where}.{field.name}")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _texts(item, f"{where}[{key!r}]")
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from _texts(item, f"{where}[{index}]")


def test_no_word_holds_markup() -> None:
    found = [
        (where, text)
        for table, name in ((words("en"), "en"), (words("zh"), "zh"), (STAFF, "staff"))
        for where, text in _texts(table, name)
        if _MARKUP.search(text)
    ]
    assert found == []


def test_every_language_has_its_words() -> None:
    assert words("en").language == "English" and words("zh").language == "简体中文"
    assert words("fr") is words("en")  # a language the bot does not speak: English


def test_traditional_words_are_the_chinese_ones_converted() -> None:
    from bot.words.styled import Span

    zh, hant = words("zh"), words("zh-Hant")
    assert hant is words("zh-Hant")  # converted once
    assert hant.language == "繁體中文"
    assert (zh.did_you_mean, hant.did_you_mean) == (
        "我不太确定您的意思。您是不是想问：",
        "我不太確定您的意思。您是不是想問：",
    )
    assert hant.answer.source == "來源" and hant.answer.qualifiers["more_than"] == "超過{}"
    assert hant.commands[0][0] == "start"  # command names stay
    spans = [piece for piece in hant.help if isinstance(piece, Span)]
    assert spans and spans[0].text == "使用說明"
    assert hant.shell.lang != zh.shell.lang
