"""Registered last: unknown commands and buttons nobody else claimed (forged or from an old version)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from handlers.context import AnyApplication, Context, is_private
from handlers.render import say
from handlers.ui import reply_html


async def unknown_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    # In a group, a command for another bot is none of our business; only answer our own.
    username = (context.bot.username or "").casefold()
    command = (message.text or "").split(maxsplit=1)[0].casefold() if message.text else ""
    if not is_private(update.effective_chat) and not command.endswith(f"@{username}"):
        return
    await reply_html(message, say(await context.services.ui_lang(update.effective_user), "unknown_command"))


async def unknown_button(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    # Every callback query is answered, or the user's client shows a spinner for a while.
    await query.answer(say(await context.services.ui_lang(query.from_user), "expired"))


def register(app: AnyApplication) -> None:
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, unknown_command))
    app.add_handler(CallbackQueryHandler(unknown_button))
