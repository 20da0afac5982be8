"""/forget: an investor deletes their questions, feedback and ids from the log."""

from __future__ import annotations

import html
import logging
import sqlite3

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler

from bot.staff.posts import staff_post_for_item
from bot.words import STAFF
from handlers.context import AnyApplication, Context
from handlers.flood import update_flood
from handlers.render import say
from handlers.staff_posts import post_html
from handlers.ui import reply_html

log = logging.getLogger(__name__)


async def forget(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    svc = context.services
    lang = await svc.ui_lang(user)
    try:
        posts = await svc.store.staff_messages_for_user(user.id)
        counts = await svc.store.forget_user(user.id)
    except sqlite3.Error:
        log.exception("could not forget a user")
        await reply_html(message, say(lang, "forget_failed"))
        return
    await _anonymise_staff_posts(context, posts)
    svc.langs.pop(user.id, None)
    svc.flood.forget(user.id)
    update_flood(context.application).forget(user.id)
    log.info("a user used /forget: %d row(s) removed or anonymised", counts.total)
    await reply_html(
        message,
        say(
            lang,
            "forget_done",
            questions=counts.questions,
            feedback=counts.feedback,
            anonymised=counts.items_anonymised,
        ),
    )


async def _anonymise_staff_posts(context: Context, posts: list[tuple[int, int, int]]) -> None:
    """Staff posts named the investor: rewrite them without the name (open items keep their text)."""
    svc = context.services
    snapshot = svc.knowledge.snapshot
    for chat_id, message_id, item_id in posts:
        try:
            post = await staff_post_for_item(svc.store, item_id, snapshot.kb, snapshot.matcher)
            if post is None:  # a closed item, deleted with the rest
                await context.bot.edit_message_text(
                    html.escape(STAFF.post_removed), chat_id=chat_id, message_id=message_id
                )
            else:
                await context.bot.edit_message_text(post_html(post), chat_id=chat_id, message_id=message_id)
        except TelegramError as exc:  # e.g. too old to edit: the database no longer links it to anyone
            log.info("could not anonymise staff post %s/%s: %s", chat_id, message_id, exc)


def register(app: AnyApplication) -> None:
    app.add_handler(CommandHandler("forget", forget))
