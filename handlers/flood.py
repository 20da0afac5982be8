"""Per-user flood control for every kind of update, before any other handler sees it.

handlers/questions.py limits free-text questions (``limits.questions_per_minute``); this limits
everything a user sends (``limits.updates_per_minute``): commands, button presses and questions
share one budget, so 300 ``/start`` or 300 presses from a script cost a minute's budget and one
notice instead of 300 replies that delay every other investor. Inline queries arrive as the user
types, so they have a budget of their own and never use up the one for menus. Admins get
``ADMIN_FACTOR`` times the limit: staff click through ``/unanswered`` pages quickly, and a runaway
admin client is still bounded.

An update over the limit stops here (``ApplicationHandlerStop``). The first one of a burst gets a
"slow down" note: a button press as the answer to its query (so the client stops spinning), a
message as a reply. Later ones get nothing, so the notices cannot become a flood themselves.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import cast

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.ratelimit import FloodGuard, Verdict
from handlers.context import SERVICES_KEY, AnyApplication, Context, Services
from handlers.render import say
from handlers.ui import reply_html

log = logging.getLogger(__name__)

FLOOD_KEY = "etown.update_flood"
ADMIN_FACTOR = 10
GROUP = -1  # before every handler registered in the default group 0


@dataclass(frozen=True)
class UpdateFlood:
    """The budgets: ``updates`` for messages and button presses, ``inline`` for inline queries."""

    updates: FloodGuard
    inline: FloodGuard
    admins: frozenset[int]

    def check(self, update: Update, user_id: int) -> Verdict:
        guard = self.inline if update.inline_query is not None else self.updates
        return guard.check(user_id, guard.per_minute * ADMIN_FACTOR if user_id in self.admins else None)

    def forget(self, user_id: int) -> None:
        """Drop what is kept about ``user_id`` (the /forget command)."""
        self.updates.forget(user_id)
        self.inline.forget(user_id)


def update_flood(app: AnyApplication) -> UpdateFlood:
    return cast(UpdateFlood, app.bot_data[FLOOD_KEY])


async def guard(update: Update, context: Context) -> None:
    """Let the update through, or stop it here when its sender is over the limit."""
    user = update.effective_user
    if user is None:
        return
    verdict = update_flood(context.application).check(update, user.id)
    if verdict.allowed:
        return
    if verdict.notify:
        # One line per burst; the user's text is never logged.
        log.info("user %d is over the update limit: updates dropped for %.0f s", user.id, verdict.retry_after)
        try:
            await _slow_down(update, context.services, verdict)
        except TelegramError as exc:  # the note is a courtesy; the update is dropped either way
            log.info("could not send a slow-down note to user %d: %s", user.id, exc)
    raise ApplicationHandlerStop


async def _slow_down(update: Update, svc: Services, verdict: Verdict) -> None:
    seconds = max(1, math.ceil(verdict.retry_after))
    text = say(await svc.ui_lang(update.effective_user), "slow_down", seconds=seconds)
    if update.callback_query is not None:
        await update.callback_query.answer(text)
    elif update.message is not None:
        await reply_html(update.message, text)


def register(app: AnyApplication) -> None:
    """Registers the update-level guard (group -1, before every other handler)."""
    svc = cast(Services, app.bot_data[SERVICES_KEY])
    per_minute = svc.config.limits.updates_per_minute
    app.bot_data[FLOOD_KEY] = UpdateFlood(
        updates=FloodGuard(per_minute), inline=FloodGuard(per_minute), admins=frozenset(svc.config.staff.admins)
    )
    app.add_handler(TypeHandler(Update, guard), group=GROUP)
