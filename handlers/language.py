"""/lang: answer in the language of each question (auto, the default), or in English, Simplified or
Traditional Chinese for good; remembered per user in the database. In groups answers follow each message."""

from __future__ import annotations

from telegram import CallbackQuery, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from handlers import callbacks
from handlers.context import AnyApplication, Context, Services, button
from handlers.render import say
from handlers.ui import language_keyboard, reply_html


async def choose(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    lang = await context.services.ui_lang(update.effective_user)
    await reply_html(message, say(lang, "lang_prompt"), language_keyboard(lang))


@button
async def chosen(query: CallbackQuery, action: callbacks.Action, svc: Services, context: Context) -> None:
    saved = await svc.set_lang(query.from_user.id, action.lang)
    if action.lang == callbacks.AUTO:  # said in the language the user reads the menus in
        lang = await svc.ui_lang(query.from_user)
        text = say(lang, "lang_auto_set" if saved else "lang_auto_set_unsaved")
    else:
        text = say(action.lang, "lang_set" if saved else "lang_set_unsaved")
    await query.answer(text)
    if query.message is not None:
        await query.edit_message_text(text)


def register(app: AnyApplication) -> None:
    app.add_handler(CommandHandler("lang", choose))
    app.add_handler(CallbackQueryHandler(chosen, pattern=callbacks.ROUTES["l"]))
