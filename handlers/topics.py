"""/topics: browse the knowledge base, topic -> its questions -> the answer (menus edit in place)."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from handlers import callbacks
from handlers.context import AnyApplication, Context, Services, button
from handlers.render import say
from handlers.ui import entry_buttons, label_text, reply_html, show, topic_keyboard


async def topics_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    svc = context.services
    lang = await svc.ui_lang(update.effective_user)
    await reply_html(message, say(lang, "topics"), topic_keyboard(svc.knowledge.kb, lang))


@button
async def topics_menu(query: CallbackQuery, action: callbacks.Action, svc: Services, context: Context) -> None:
    """``T:<lang>``: back to the topic list."""
    await query.answer()
    await show(query, say(action.lang, "topics"), topic_keyboard(svc.knowledge.kb, action.lang))


@button
async def topic_questions(query: CallbackQuery, action: callbacks.Action, svc: Services, context: Context) -> None:
    """``t:<lang>:<topic>``: the questions of one topic."""
    kb = svc.knowledge.kb
    topic = kb.topic(action.topic)
    entries = kb.topic_entries(topic.id) if topic is not None else []
    if topic is None or not entries:
        # Forged, or the topic was removed by a knowledge-base edit since the menu was sent.
        await query.answer(say(await svc.ui_lang(query.from_user), "expired"))
        return
    await query.answer()
    lang = action.lang
    title = topic.label(lang)
    rows = entry_buttons(entries, lang)
    rows.append([InlineKeyboardButton(label_text(lang, "back"), callback_data=callbacks.topics(lang))])
    await show(query, say(lang, "topic_questions", title=title), InlineKeyboardMarkup(rows))


def register(app: AnyApplication) -> None:
    app.add_handler(CommandHandler("topics", topics_command))
    app.add_handler(CallbackQueryHandler(topics_menu, pattern=callbacks.ROUTES["T"]))
    app.add_handler(CallbackQueryHandler(topic_questions, pattern=callbacks.ROUTES["t"]))
