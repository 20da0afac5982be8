"""The bot's own words in both languages, keyboards, and sending long HTML safely."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest

from bot.kb import Entry, KnowledgeBase
from handlers import callbacks

MAX_MESSAGE = MessageLimit.MAX_TEXT_LENGTH  # 4096
BUTTON_CHARS = 60
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # source links would otherwise preview the first URL

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "start": (
            "Hello{name}! I answer investors' questions about <b>Beijing E-Town</b> (BDA, Yizhuang) and its "
            "biopharmaceutical industry: policies and incentives, funds, talent, parks, companies, clinical "
            "trials, events and statistics.\n\n"
            "Ask in English or Chinese, in your own words. Every figure comes with its source and date. "
            "When I don't have a sourced answer, I pass your question to our staff, who reply here.\n\n"
            "Browse by topic:"
        ),
        "help": (
            "<b>How to use this bot</b>\n"
            "• Type a question, e.g. <i>How many biotech companies are in BDA?</i> or <i>亦庄有哪些产业基金？</i>\n"
            '• If I\'m not sure, I offer a few "Did you mean" choices; "None of these" sends your '
            "question to staff.\n"
            "• /topics: browse questions by topic\n"
            "• /lang: switch between English and Chinese\n"
            "• /help: this message\n"
            "In a group, mention me or reply to my message."
        ),
        "topics": "Choose a topic:",
        "topic_questions": "<b>{title}</b>: choose a question:",
        "back": "« Topics",
        "lang_prompt": "Choose your language:",
        "lang_set": "I'll answer in English from now on.",
        "lang_set_unsaved": "I'll answer in English (I couldn't save this choice; it lasts until the bot restarts).",
        "did_you_mean": "I'm not sure I understood. Did you mean:",
        "none_of_these": "None of these",
        "handed_over": (
            "Thank you. I've passed your question to our staff; they will reply here.\n\n<i>{question}</i>"
        ),
        "already_handed_over": "Your question is already with our staff.",
        "unanswered": (
            "I don't have a sourced answer to that yet, so I won't guess. I've passed your question to our "
            "staff; they will reply here."
        ),
        "not_logged": (
            "I don't have a sourced answer to that yet, and I couldn't record your question just now. "
            "Please try again in a few minutes."
        ),
        "helpful": "👍 Helpful",
        "not_helpful": "👎 Not helpful",
        "thanks_feedback": "Thank you for the feedback!",
        "related": "Related: {title}",
        "expired": "This button has expired. Please ask again or use /topics.",
        "slow_down": "You're sending questions faster than I can take them. Please wait about {seconds} seconds.",
        "text_only": "I can only read text messages. Please type your question.",
        "empty": "Please type your question after mentioning me.",
        "unknown_command": "I don't know that command. Try /help.",
        "error": "Sorry, something went wrong on my side. Please try again in a moment.",
    },
    "zh": {
        "start": (
            "您好{name}！我解答投资者关于<b>北京经济技术开发区</b>（经开区、亦庄）及其生物医药产业的问题："
            "政策与奖励、基金、人才、园区、企业、临床试验、活动和统计数据。\n\n"
            "可以用中文或英文随意提问。每个数字都附有来源和日期。"
            "没有可靠来源的问题，我会转给工作人员，他们会在这里回复您。\n\n"
            "按主题浏览："
        ),
        "help": (
            "<b>使用说明</b>\n"
            "• 直接输入问题，例如<i>经开区有多少家生物医药企业？</i>或 <i>What funds are in BDA?</i>\n"
            "• 如果我不确定，会给出几个“您是不是想问”选项；选“都不是”会把问题转给工作人员。\n"
            "• /topics：按主题浏览问题\n"
            "• /lang：切换中文或英文\n"
            "• /help：本说明\n"
            "在群组中，请@我或回复我的消息。"
        ),
        "topics": "请选择主题：",
        "topic_questions": "<b>{title}</b>：请选择问题：",
        "back": "« 主题",
        "lang_prompt": "请选择语言：",
        "lang_set": "今后我将用中文回答。",
        "lang_set_unsaved": "我将用中文回答（未能保存此设置，重启后失效）。",
        "did_you_mean": "我不太确定您的意思。您是不是想问：",
        "none_of_these": "都不是",
        "handed_over": "谢谢！您的问题已转给工作人员，他们会在这里回复您。\n\n<i>{question}</i>",
        "already_handed_over": "您的问题已在工作人员处。",
        "unanswered": "这个问题我暂时没有可靠来源的答案，所以不做猜测。已转给工作人员，他们会在这里回复您。",
        "not_logged": "这个问题我暂时没有可靠来源的答案，而且暂时无法记录您的问题。请过几分钟再试。",
        "helpful": "👍 有帮助",
        "not_helpful": "👎 没帮助",
        "thanks_feedback": "感谢您的反馈！",
        "related": "相关：{title}",
        "expired": "此按钮已失效。请重新提问或使用 /topics。",
        "slow_down": "您的提问太快了，请约{seconds}秒后再试。",
        "text_only": "我只能阅读文字消息，请输入您的问题。",
        "empty": "请在@我之后输入您的问题。",
        "unknown_command": "没有这个命令。请试试 /help。",
        "error": "抱歉，我这边出了点问题，请稍后再试。",
    },
}


def say(lang: str, key: str, **values: object) -> str:
    """A message in ``lang``; every value is HTML-escaped, so user text can be passed safely."""
    template = TEXTS.get(lang, TEXTS["en"])[key]
    return template.format(**{k: html.escape(str(v)) for k, v in values.items()})


def label_text(lang: str, key: str, **values: object) -> str:
    """A button label in ``lang``: plain text, nothing escaped (Telegram shows labels verbatim)."""
    return TEXTS.get(lang, TEXTS["en"])[key].format(**values)


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
            title = topic.title.get(lang) or next(iter(topic.title.values()), topic.id)
            rows.append([InlineKeyboardButton(button_text(title), callback_data=callbacks.topic(lang, topic.id))])
    return InlineKeyboardMarkup(rows)


def entry_buttons(entries: Sequence[Entry], lang: str) -> list[list[InlineKeyboardButton]]:
    return [
        [InlineKeyboardButton(button_text(e.headline(lang)), callback_data=callbacks.answer(lang, e.id))]
        for e in entries
    ]


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("English", callback_data=callbacks.language("en")),
                InlineKeyboardButton("中文", callback_data=callbacks.language("zh")),
            ]
        ]
    )


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


_TAG = re.compile(r"<[^>]*>")
_ENTITY_TAIL = re.compile(r"&[#a-zA-Z0-9]{0,10}$")


def _split_plain(line: str, limit: int) -> list[str]:
    """Split one line of escaped text (no tags) at spaces, never inside an ``&...;`` reference."""
    pieces: list[str] = []
    while utf16_len(line) > limit:
        cut = limit
        while utf16_len(line[:cut]) > limit:
            cut -= 1
        space = line.rfind(" ", limit // 2, cut)
        if space > 0:
            cut = space
        elif (tail := _ENTITY_TAIL.search(line[:cut])) and tail.start() > 0:
            cut = tail.start()
        pieces.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
    pieces.append(line)
    return pieces


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split Telegram HTML into messages of at most ``limit`` UTF-16 units, on line boundaries.

    Lines are kept whole (tags never span lines in what the bot renders); a single line that is too
    long is split at spaces, dropping its formatting tags rather than cutting one in half.
    """
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        parts = [line]
        if utf16_len(line) > limit:
            parts = _split_plain(_TAG.sub("", line), limit)
        for part in parts:
            candidate = f"{current}\n{part}" if current else part
            if utf16_len(candidate) <= limit:
                current = candidate
                continue
            if current:
                chunks.append(current)
            current = part
    if current.strip() or not chunks:
        chunks.append(current)
    return chunks


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
            parse_mode=ParseMode.HTML,
            reply_markup=markup if last else None,
            do_quote=quote_message if index == 0 else False,
            link_preview_options=NO_PREVIEW,
        )
    return sent


async def show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the pressed message with ``text`` (menus navigate in place); send anew if it can't be edited."""
    message = query.message
    if message is None or not isinstance(message, Message):
        return  # an inline-mode message or one too old for Telegram to hand us: nothing to edit
    try:
        await query.edit_message_text(
            split_html(text)[0], parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=NO_PREVIEW
        )
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return  # the same button pressed twice
        await reply_html(message, text, markup, quote_message=False)
