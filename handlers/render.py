"""Telegram HTML of what the core hands over without markup: the bot's words (``bot.words``, templates
with styled spans) and answers (``bot.render.Answer``). Every text is escaped here; staff posts and
staff replies are laid out next door, in handlers/staff_posts.py."""

from __future__ import annotations

import html

from bot.render import Answer, source_text
from bot.words import words
from bot.words.styled import Style, Template, pieces

_TAGS: dict[Style, str] = {"bold": "b", "italic": "i", "code": "code", "pre": "pre"}


def fill_html(template: Template, **values: object) -> str:
    """A template of ``bot.words`` as Telegram HTML, filled with ``values``; its text and every value escaped."""
    escaped = {key: html.escape(str(value)) for key, value in values.items()}
    parts = []
    for piece in pieces(template):
        # The words' own text is escaped before it is filled, so no value is escaped twice.
        text = piece if isinstance(piece, str) else piece.text
        filled = html.escape(text, quote=False).format(**escaped)
        if isinstance(piece, str):
            parts.append(filled)
        else:
            tag = _TAGS[piece.style]
            parts.append(f"<{tag}>{filled}</{tag}>")
    return "".join(parts)


def say(lang: str, key: str, **values: object) -> str:
    """The message ``key`` of ``words(lang)`` as Telegram HTML; every value is escaped, so user text can be
    passed safely."""
    return fill_html(getattr(words(lang), key), **values)


def format_html(answer: Answer) -> str:
    """An answer in Telegram HTML: every text from the knowledge base escaped, sources as links."""
    labels = words(answer.requested_lang).answer
    lines = []
    if answer.fallback:
        lines.append(f"<i>{html.escape(labels.fallback)}</i>")
    lines.append(f"<b>{html.escape(answer.title)}</b>")
    lines.append(html.escape(answer.body))
    if answer.sources:
        label = labels.sources if len(answer.sources) > 1 else labels.source
        links = [
            f'<a href="{html.escape(s.url, quote=True)}">{html.escape(source_text(s, answer.requested_lang))}</a>'
            for s in answer.sources
        ]
        lines.append(f"\n<i>{html.escape(label)}:</i> " + "; ".join(links))
    return "\n".join(lines)
