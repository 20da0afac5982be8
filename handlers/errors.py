"""The one error handler: log the traceback, apologise to the user, never let an update stop the bot."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from handlers.context import AnyApplication, Context
from handlers.render import say

log = logging.getLogger(__name__)


def is_not_modified(error: object) -> bool:
    """Telegram refusing an edit that changes nothing: the same button pressed twice before the
    first edit arrived. The message already shows what was asked for."""
    return isinstance(error, BadRequest) and "message is not modified" in str(error).lower()


async def on_error(update: object, context: Context) -> None:
    error = context.error
    if is_not_modified(error):
        log.debug("update %s: %s", getattr(update, "update_id", "-"), error)
        return
    if isinstance(update, Update):
        log.error("update %s failed", update.update_id, exc_info=error)
    else:
        # Errors outside an update (e.g. polling while Telegram is unreachable); PTB retries those.
        log.error("error outside an update: %r", error, exc_info=not isinstance(error, NetworkError))
        return
    if isinstance(error, Forbidden):
        return  # the user blocked the bot: an apology would be refused too
    try:
        lang = await context.services.ui_lang(update.effective_user)
        if update.callback_query is not None:
            await update.callback_query.answer(say(lang, "error"))
        elif update.effective_chat is not None and update.inline_query is None:
            await context.bot.send_message(update.effective_chat.id, say(lang, "error"))
    except TelegramError as exc:  # the apology failed as well (e.g. query already answered); logged, not raised
        log.warning("could not apologise for update %s: %s", update.update_id, exc)
    except Exception:
        log.exception("error handler failed for update %s", update.update_id)


def register(app: AnyApplication) -> None:
    app.add_error_handler(on_error)
