"""/start and /help: what the bot is for, in the user's language, with the topic menu."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.words import words
from handlers.context import AnyApplication, Context
from handlers.render import say
from handlers.ui import reply_html, topic_keyboard


async def start(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    svc = context.services
    if update.effective_chat is not None:
        svc.conversations.forget(update.effective_chat.id)  # a fresh start: no follow-up of what came before
    lang = await svc.ui_lang(user)
    first_name = user.first_name if user is not None else ""
    name = words(lang).start_name.format(name=first_name) if first_name else ""
    await reply_html(message, say(lang, "start", name=name), topic_keyboard(svc.knowledge.kb, lang))


async def help_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    lang = await context.services.ui_lang(update.effective_user)
    await reply_html(message, say(lang, "help"))


def register(app: AnyApplication) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
