"""The languages the bot replies in: English, Simplified Chinese and Traditional Chinese.

The knowledge base is written in two (``en``, ``zh``); a reply to a question written in Traditional
characters is the Chinese one converted (``zh-Hant``). OpenCC's ``s2tw`` converts characters only, with
Taiwan's standard forms: "发布了三年行动计划" becomes "發佈了三年行動計劃", where ``s2twp`` also swaps
words ("釋出", "軟體資訊" for 软件信息) and could change the name of a policy; ``s2t`` and ``s2hk`` keep
forms (裏, 着) that most Traditional readers, in Taiwan the most numerous, write 裡 and 著, and that
Hong Kong readers read either way. Figures are digits and are not touched; Latin names neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.matching.text import has_han, is_traditional

if TYPE_CHECKING:
    import opencc

TRADITIONAL = "zh-Hant"
REPLY_LANGS = ("en", "zh", TRADITIONAL)
AUTO = "auto"  # a /lang choice: reply in the language of each question


def content_lang(lang: str) -> str:
    """The knowledge base's language for a reply language: ``zh`` for Traditional, else itself."""
    return "zh" if lang == TRADITIONAL else lang


def reply_lang(text: str) -> str:
    """The language to answer ``text`` in: ``zh-Hant`` when it is written in Traditional characters."""
    if not has_han(text):
        return "en"
    return TRADITIONAL if is_traditional(text) else "zh"


def telegram_lang(code: str | None) -> str:
    """A reply language for a Telegram client's ``language_code`` (zh-hant, zh-tw, zh-hk: Traditional)."""
    code = (code or "").lower().replace("_", "-")
    if not code.startswith("zh"):
        return "en"
    return TRADITIONAL if any(part in code for part in ("hant", "-tw", "-hk", "-mo")) else "zh"


@lru_cache(maxsize=1)
def _s2tw() -> opencc.OpenCC:
    import opencc

    return opencc.OpenCC("s2tw")


@lru_cache(maxsize=4096)
def to_traditional(text: str) -> str:
    """``text`` in Traditional characters (Simplified Chinese converted; anything else unchanged)."""
    return _s2tw().convert(text) if has_han(text) else text


def localized(texts: Mapping[str, str], lang: str) -> str | None:
    """The text of a reply language from ``{en: ..., zh: ...}`` (Traditional converted from ``zh``), else
    the other language's; None when there is none."""
    own = texts.get(content_lang(lang))
    text = own if own else next((t for t in texts.values() if t), None)
    if text is None:
        return None
    return to_traditional(text) if lang == TRADITIONAL else text
