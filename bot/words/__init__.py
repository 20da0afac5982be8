"""The bot's words, one module per language (``en``, ``zh``) and one for staff (``staff``), without markup
(emphasis is a styled span, bot/words/styled.py; handlers/render.py makes Telegram HTML of them).

``words(lang)`` gives a reply language's ``Words`` (English for any other code; ``zh-Hant`` is the Chinese
converted to Traditional characters, ``bot.languages``); ``STAFF`` is what staff read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from bot.words.en import EN
from bot.words.staff import STAFF
from bot.words.types import StaffWords, Words
from bot.words.zh import ZH

__all__ = ["STAFF", "StaffWords", "Words", "words"]

_BY_LANG = {"en": EN, "zh": ZH}


def words(lang: str) -> Words:
    """The words of ``lang``; English for a language the bot does not speak."""
    if lang == "zh-Hant":
        return _traditional()
    return _BY_LANG.get(lang, EN)


@lru_cache(maxsize=1)
def _traditional() -> Words:
    """The Chinese words in Traditional characters, converted once (the /lang label is its own)."""
    converted = _converted(ZH)
    assert isinstance(converted, Words)
    # What names the script itself is its own, not the Simplified text converted ("簡體中文").
    return dataclasses.replace(
        converted,
        language="繁體中文",
        lang_set="今後我將用繁體中文回答。",
        lang_set_unsaved="我將用繁體中文回答（未能保存此設定，重新啟動後失效）。",
        shell=dataclasses.replace(converted.shell, lang="語言已切換為繁體中文。"),
    )


def _converted(value: Any) -> Any:
    from bot.languages import to_traditional

    if isinstance(value, str):
        return to_traditional(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(
            value, **{f.name: _converted(getattr(value, f.name)) for f in dataclasses.fields(value)}
        )
    if isinstance(value, tuple):
        return tuple(_converted(item) for item in value)
    if isinstance(value, Mapping):
        return MappingProxyType({key: _converted(item) for key, item in value.items()})
    return value
