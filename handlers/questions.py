"""Free-text questions and the buttons under answers: did-you-mean, None of these, related, feedback.

In private chats every text message is a question. In groups the bot answers only when it is
mentioned or replied to, so it never joins other people's conversations.
"""

from __future__ import annotations

import functools
import html
import logging
import math
import sqlite3
import time

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import MessageEntityType
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.assistant import Reply
from bot.conversation import Turn
from bot.languages import content_lang
from bot.matching.smalltalk import has_words
from bot.render import Answer
from handlers import callbacks, staff_outbox
from handlers.context import AnyApplication, Context, Services, addressed_text, button, is_private
from handlers.render import format_html, say
from handlers.ui import button_text, label_text, quote, reply_html, show, topic_keyboard

log = logging.getLogger(__name__)

MAX_RELATED = 3


class _AddressedToBot(filters.MessageFilter):
    """A group message that mentions the bot or replies to one of its messages."""

    def filter(self, message: Message) -> bool:
        bot = message.get_bot()
        reply = message.reply_to_message
        if reply is not None and reply.from_user is not None and reply.from_user.id == bot.id:
            return True
        username = (bot.username or "").casefold()
        if not username or not message.text:
            return False
        mentions = message.parse_entities([MessageEntityType.MENTION]).values()
        return any(m.casefold() == f"@{username}" for m in mentions)


QUESTION_FILTER = (
    filters.UpdateType.MESSAGE  # edited messages and channel posts are not questions
    & filters.TEXT
    & ~filters.COMMAND
    & (filters.ChatType.PRIVATE | _AddressedToBot())
)


def answer_markup(svc: Services, answer: Answer, question_id: int | None) -> InlineKeyboardMarkup:
    """Related entries, then helpful / not helpful."""
    lang = answer.requested_lang
    kb = svc.knowledge.kb
    entry = kb.entries.get(answer.entry_id)
    rows: list[list[InlineKeyboardButton]] = []
    for related_id in (entry.related if entry is not None else ())[:MAX_RELATED]:
        related = kb.entries.get(related_id)
        if related is not None:
            label = label_text(lang, "related", title=button_text(related.headline(lang), 48))
            rows.append([InlineKeyboardButton(label, callback_data=callbacks.answer(lang, related_id))])
    rows.append(
        [
            InlineKeyboardButton(
                label_text(lang, "helpful"), callback_data=callbacks.feedback(True, question_id, answer.entry_id)
            ),
            InlineKeyboardButton(
                label_text(lang, "not_helpful"), callback_data=callbacks.feedback(False, question_id, answer.entry_id)
            ),
        ]
    )
    return InlineKeyboardMarkup(rows)


async def send_reply(message: Message, svc: Services, reply: Reply) -> None:
    """Lay out a Reply: the answer, the did-you-mean choices, or the honest hand-off."""
    lang = reply.lang
    if reply.answer is not None and reply.period_gap:  # no figure for the year asked: nearest ones, and staff
        handed = say(lang, "period_handed" if reply.unanswered_id is not None else "not_logged")
        await reply_html(message, f"{format_html(reply.answer)}\n\n{handed}")
        return
    if reply.answer is not None:
        await reply_html(message, format_html(reply.answer), answer_markup(svc, reply.answer, reply.question_id))
        return
    if reply.text is not None:  # small talk or a message with nothing to answer: staff's text, plain
        markup = topic_keyboard(svc.knowledge.kb, lang) if reply.topics else None
        await reply_html(message, html.escape(reply.text, quote=False), markup)
        return
    if reply.suggestions:
        rows = [
            [
                InlineKeyboardButton(
                    button_text(s.question), callback_data=callbacks.pick(lang, reply.question_id, s.entry_id)
                )
            ]
            for s in reply.suggestions
        ]
        none = callbacks.none_of_these(reply.question_id)
        rows.append([InlineKeyboardButton(label_text(lang, "none_of_these"), callback_data=none)])
        await reply_html(message, say(lang, "did_you_mean"), InlineKeyboardMarkup(rows))
        return
    await reply_html(message, say(lang, "unanswered" if reply.unanswered_id is not None else "not_logged"))


async def on_question(update: Update, context: Context) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    svc = context.services
    text = message.text or ""
    if not is_private(chat):
        text = addressed_text(message, context.bot.username)
    if not text.strip():
        await reply_html(message, say(await svc.ui_lang(user), "empty"))
        return
    verdict = svc.flood.check(user.id)
    if not verdict.allowed:
        if verdict.notify:
            seconds = max(1, math.ceil(verdict.retry_after))
            await reply_html(message, say(await svc.ui_lang(user), "slow_down", seconds=seconds))
        return
    # A hand-off, or a reply that could not be delivered, is in the staff outbox: it is posted soon, in the
    # background (the investor's reply never waits for the staff chat). Answers wake nothing: an idle
    # outbox costs no read per question.
    # In a group the answer follows the message, not the asker's /lang: others read it too. A message with no
    # letters ("?", "7") says no language: the user's menu language, not English for everybody.
    lang = await svc.chosen_lang(user.id) if is_private(chat) else None
    if lang is None and not has_words(text):
        lang = await svc.ui_lang(user)
    try:
        reply = await svc.assistant.ask(
            text,
            user_id=user.id,
            chat_id=chat.id,
            lang=lang,
            context=svc.conversations.get(chat.id),
            deliver=functools.partial(send_reply, message, svc),
            first_name=user.first_name,
            username=user.username,
        )
    except BaseException:
        staff_outbox.wake(context.application)
        raise
    if reply.turn is not None:
        svc.conversations.remember(chat.id, reply.turn)
    if reply.unanswered_id is not None:
        staff_outbox.wake(context.application)


@button
async def on_answer_button(query: CallbackQuery, action: callbacks.Action, svc: Services, context: Context) -> None:
    """``a:<lang>:<entry>``: a related or topic button; ``p:<lang>:<question>:<entry>``: a did-you-mean choice,
    noted on the question (what investors pick teaches staff and the suggestions: issue 17)."""
    answer = svc.assistant.answer(action.entry, action.lang)
    if answer is None or query.message is None or not isinstance(query.message, Message):
        # Forged, or the entry was removed by a knowledge-base edit since the button was sent.
        await query.answer(say(await svc.ui_lang(query.from_user), "expired"))
        return
    await query.answer()
    entry = svc.knowledge.kb.entries.get(action.entry)
    if entry is not None:  # a follow-up may ask about what the button showed
        turn = Turn(entry.id, entry.topic, entry.headline(content_lang(action.lang)), time.time(), action.lang)
        svc.conversations.remember(query.message.chat.id, turn)
    # In a group the answer replies to the asker's message, as the menu it came from does: that reply is
    # what makes its own buttons theirs (handlers/context.py, button_refusal).
    message = query.message
    asked = message.reply_to_message if not is_private(message.chat) else None
    target = asked if asked is not None else message
    question = action.question if action.kind == "p" else None
    markup = answer_markup(svc, answer, question)
    await reply_html(target, format_html(answer), markup, quote_message=asked is not None)
    if question and svc.has_store:
        try:
            await svc.store.record_pick(question, action.entry)
        except Exception:  # the investor has the answer; a lost signal is only logged
            log.exception("could not note the pick of %s for question %s", action.entry, question)


@button
async def on_none_of_these(query: CallbackQuery, action: callbacks.Action, svc: Services, context: Context) -> None:
    """``n:<question>``: none of the suggestions fit, so the logged question goes to staff."""
    lang = await svc.ui_lang(query.from_user)
    record = None
    if action.question:
        try:
            record = await svc.store.get_question(action.question)
        except sqlite3.Error:
            log.exception("could not read a logged question")
    # Only the person who asked may hand their question over (the data could be forged).
    if record is None or record.user_id != query.from_user.id:
        await query.answer(say(lang, "expired"))
        return
    chat_id = query.message.chat.id if query.message is not None else record.chat_id
    handoff = await svc.assistant.none_of_these(
        record.id,
        user_id=query.from_user.id,
        chat_id=chat_id,
        lang=record.lang,
        text=record.text,
        first_name=query.from_user.first_name,
        username=query.from_user.username,
    )
    if handoff is None:
        await query.answer(say(record.lang, "not_logged"), show_alert=True)
        return
    if not handoff.created:  # pressed again, after a restart too: the database knows it is with staff
        await query.answer(say(record.lang, "already_handed_over"))
        return
    staff_outbox.wake(context.application)
    await query.answer()
    await show(query, say(record.lang, "handed_over", question=quote(record.text)))


@button
async def on_feedback(query: CallbackQuery, action: callbacks.Action, svc: Services, context: Context) -> None:
    """``f:<1|0>:<question>:<entry>``: helpful / not helpful, stored once per message."""
    lang = await svc.ui_lang(query.from_user)
    if action.entry not in svc.knowledge.kb.entries:
        await query.answer(say(lang, "expired"))
        return
    question_id: int | None = action.question or None
    try:
        if question_id is not None:
            record = await svc.store.get_question(question_id)
            if record is None or record.user_id != query.from_user.id:
                question_id = None  # not theirs: keep the vote for the entry, not the link
        # One vote per user and answer: pressing again (or both buttons) changes the vote, adds none.
        await svc.store.record_feedback(
            user_id=query.from_user.id, question_id=question_id, entry_id=action.entry, helpful=action.helpful
        )
    except sqlite3.Error:
        log.exception("could not store feedback")
    await query.answer(say(lang, "thanks_feedback"))
    # Drop the feedback row so the same message cannot be voted on twice; keep the related buttons.
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        rows = [
            list(row)
            for row in message.reply_markup.inline_keyboard
            if not any(str(b.callback_data or "").startswith("f:") for b in row)
        ]
        if rows != [list(row) for row in message.reply_markup.inline_keyboard]:
            try:
                await query.edit_message_reply_markup(InlineKeyboardMarkup(rows) if rows else None)
            except BadRequest as exc:  # pressed twice at once: the first press already removed the row
                log.debug("feedback buttons already gone: %s", exc)


def register(app: AnyApplication) -> None:
    app.add_handler(CallbackQueryHandler(on_answer_button, pattern=callbacks.ROUTES["a"]))
    app.add_handler(CallbackQueryHandler(on_answer_button, pattern=callbacks.ROUTES["p"]))
    app.add_handler(CallbackQueryHandler(on_none_of_these, pattern=callbacks.ROUTES["n"]))
    app.add_handler(CallbackQueryHandler(on_feedback, pattern=callbacks.ROUTES["f"]))
    app.add_handler(MessageHandler(QUESTION_FILTER, on_question))
