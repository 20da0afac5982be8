"""The bot's words, one module per language (``en``, ``zh``) and one for staff (``staff``), without markup
(emphasis is a styled span, bot/words/styled.py; handlers/render.py makes Telegram HTML of them).

``words(lang)`` gives a language's ``Words`` (English for any other code); ``STAFF`` is what staff read.
"""

from __future__ import annotations

from bot.words.en import EN
from bot.words.staff import STAFF
from bot.words.types import StaffWords, Words
from bot.words.zh import ZH

__all__ = ["STAFF", "StaffWords", "Words", "words"]

_BY_LANG = {"en": EN, "zh": ZH}


def words(lang: str) -> Words:
    """The words of ``lang``; English for a language the bot does not speak."""
    return _BY_LANG.get(lang, EN)
