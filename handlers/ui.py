"""Keyboards and button labels, and sending long Telegram HTML safely (handlers/render.py builds the HTML)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import NamedTuple

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import MessageLimit
from telegram.error import BadRequest

from bot.knowledge.model import Entry, KnowledgeBase
from bot.staff.display import utf16_len
from bot.words import words
from handlers import callbacks

MAX_MESSAGE = MessageLimit.MAX_TEXT_LENGTH  # 4096
BUTTON_CHARS = 60


def label_text(lang: str, key: str, **values: object) -> str:
    """A button label in ``lang``: plain text, nothing escaped (Telegram shows labels verbatim)."""
    return str(getattr(words(lang), key)).format(**values)


def button_text(text: str, limit: int = BUTTON_CHARS) -> str:
    """Button labels are plain text; long ones are cut on a word where possible."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:，。") + "…"


def quote(text: str, limit: int = 300) -> str:
    """A user's text shortened for echoing back (the caller escapes it)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def topic_keyboard(kb: KnowledgeBase, lang: str) -> InlineKeyboardMarkup:
    rows = []
    for topic in kb.topics:
        if kb.topic_entries(topic.id):
            title = topic.label(lang)
            rows.append([InlineKeyboardButton(button_text(title), callback_data=callbacks.topic(lang, topic.id))])
    return InlineKeyboardMarkup(rows)


def entry_buttons(entries: Sequence[Entry], lang: str) -> list[list[InlineKeyboardButton]]:
    return [
        [InlineKeyboardButton(button_text(e.headline(lang)), callback_data=callbacks.answer(lang, e.id))]
        for e in entries
    ]


def language_keyboard(lang: str) -> InlineKeyboardMarkup:
    """/lang: the language of each question ("auto", labelled in ``lang``), or one of the three for good."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(words(lang).lang_auto, callback_data=callbacks.language(callbacks.AUTO))],
            [
                InlineKeyboardButton(words(choice).language, callback_data=callbacks.language(choice))
                for choice in callbacks.LANGS
            ],
        ]
    )


# One token of Telegram HTML: a tag, a character reference Telegram decodes (only these four names and
# numeric ones; any other ``&`` is shown literally, so it is counted as the characters it shows), or a
# single character of text.
_TOKEN = re.compile(r"<[^>]*>|&(?:lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});|.", re.DOTALL)
_TAG_NAME = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)")


_NAMED_REFS = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"'}


def _decode_ref(raw: str) -> str:
    """The character a reference shows. One that is no character (0, a surrogate, beyond U+10FFFF)
    is counted as its own text, the most Telegram could show for it; it is still never split."""
    if raw in _NAMED_REFS:
        return _NAMED_REFS[raw]
    code = int(raw[3:-1], 16) if raw[2] in "xX" else int(raw[2:-1])
    return chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else raw


class _Token(NamedTuple):
    raw: str
    visible: str  # what Telegram shows for it: "" for a tag
    tag: str | None  # the tag's name, for tags
    closing: bool


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        raw = match.group()
        if len(raw) == 1:
            tokens.append(_Token(raw, raw, None, False))
        elif raw.startswith("&"):
            tokens.append(_Token(raw, _decode_ref(raw), None, False))
        elif name := _TAG_NAME.match(raw):
            tokens.append(_Token(raw, "", name.group(2).lower(), bool(name.group(1))))
        else:  # "<>" or "< b>": not a tag Telegram knows; it refuses the message either way
            tokens.append(_Token(raw, raw, None, False))
    return tokens


def visible_len(text: str) -> int:
    """The length Telegram checks against its limit: UTF-16 units of the text once the HTML is parsed."""
    return sum(utf16_len(token.visible) for token in _tokens(text))


def _advance(stack: list[_Token], token: _Token) -> None:
    """Keep ``stack`` (the tags open so far) up to date past ``token``."""
    if token.tag is None:
        return
    if not token.closing:
        stack.append(token)
        return
    for index in range(len(stack) - 1, -1, -1):
        if stack[index].tag == token.tag:
            del stack[index:]
            return


def _render(tokens: Sequence[_Token], stack: list[_Token], tail: str = "") -> str:
    """``tokens`` as HTML that stands alone: the tags open before them (``stack``, updated in place)
    reopened first, ``tail`` appended, and every tag still open closed at the end."""
    parts = [token.raw for token in stack]
    for token in tokens:
        parts.append(token.raw)
        _advance(stack, token)
    parts.append(tail)
    parts += [f"</{token.tag}>" for token in reversed(stack)]
    return "".join(parts)


def _cut(tokens: Sequence[_Token], start: int, limit: int, *, lines: bool) -> tuple[int, int]:
    """Where the piece beginning at ``start`` ends (``end``) and the next begins (``resume``; the
    blank in between is dropped) so that the piece shows at most ``limit`` units.

    Preferred, in this order: the last line break in the piece's second half (when ``lines``), the
    last blank in its second half, the last line break anywhere (when ``lines``), else as many tokens
    as fit. Each tag and each reference is one token, so none is ever cut.
    """
    units, index, line_break, late_break, blank = 0, start, -1, -1, -1
    while index < len(tokens):
        token = tokens[index]
        size = utf16_len(token.visible)
        if units + size > limit:
            break
        if token.visible in (" ", "\n"):
            late = units >= limit // 2
            if token.visible == "\n":
                line_break = index
                late_break = index if late else late_break
            blank = index if late else blank
        units += size
        index += 1
    if index == len(tokens):
        return index, index
    for candidate in (late_break if lines else -1, blank, line_break if lines else -1):
        if candidate >= start:
            return candidate, candidate + 1
    while index > start + 1 and tokens[index - 1].tag is not None and not tokens[index - 1].closing:
        index -= 1  # an opening tag goes with the text it opens
    index = max(index, start + 1)  # one token wider than the limit (only for a limit of a few units)
    return index, index


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split Telegram HTML into messages that each show at most ``limit`` UTF-16 units.

    Cuts at line breaks where possible, else at spaces, else between characters; never inside a tag
    or a character reference. Tags open at a cut are closed at the end of one message and reopened at
    the start of the next, so every message is valid HTML with the formatting it had.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2 (one astral character)")
    if utf16_len(text) <= limit:
        # The source is never shorter than what it shows: it fits as it is. Nearly every reply takes
        # this path; tokenising a 1.4 KB answer costs ~0.96 ms, this ~2 us (measured).
        return [text]
    tokens = _tokens(text)
    chunks: list[str] = []
    stack: list[_Token] = []
    start = 0
    while start < len(tokens):
        end, resume = _cut(tokens, start, limit, lines=True)
        piece = tokens[start:end]
        chunk = _render(piece, stack)
        if "".join(token.visible for token in piece).strip():  # Telegram refuses a message of blanks
            chunks.append(chunk)
        for token in tokens[end:resume]:
            _advance(stack, token)
        start = resume
    return chunks or [text]


def truncate_html(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` if it shows at most ``limit`` UTF-16 units; else its beginning, cut at a space where
    possible (never inside a tag or a reference), ending in ``ellipsis``, with every open tag closed."""
    if utf16_len(text) <= limit:  # the source is never shorter than what it shows
        return text
    tokens = _tokens(text)
    if sum(utf16_len(token.visible) for token in tokens) <= limit:
        return text
    end, _ = _cut(tokens, 0, max(limit - utf16_len(ellipsis), 1), lines=False)
    return _render(tokens[:end], [], html.escape(ellipsis, quote=False))


async def reply_html(
    message: Message, text: str, markup: InlineKeyboardMarkup | None = None, *, quote_message: bool | None = None
) -> Message:
    """Send ``text`` in as many messages as it takes; the keyboard goes on the last one."""
    chunks = split_html(text)
    sent = message
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        sent = await message.reply_text(
            chunk,
            reply_markup=markup if last else None,
            do_quote=quote_message if index == 0 else False,
        )
    return sent


async def show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the pressed message with ``text`` (menus navigate in place); send anew if it can't be edited."""
    message = query.message
    if message is None or not isinstance(message, Message):
        return  # an inline-mode message or one too old for Telegram to hand us: nothing to edit
    try:
        await query.edit_message_text(split_html(text)[0], reply_markup=markup)
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return  # the same button pressed twice
        await reply_html(message, text, markup, quote_message=False)
