"""What every handler needs: the running bot's services, the user's language, safe sending."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import sqlite3
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, cast

from telegram import CallbackQuery, Chat, Message, Update, User
from telegram.ext import Application, ContextTypes

from bot.assistant import Assistant, Knowledge
from bot.config import Config
from bot.ratelimit import FloodGuard
from bot.store import Store
from handlers import callbacks
from handlers.ui import say

log = logging.getLogger(__name__)

SERVICES_KEY = "etown.services"
Context = ContextTypes.DEFAULT_TYPE
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class Services:
    """The core objects behind the bot. ``store`` is opened in ``post_init`` and closed in ``post_shutdown``."""

    config: Config
    knowledge: Knowledge
    assistant: Assistant
    flood: FloodGuard
    store: Store | None = None
    # Explicit /lang choices, cached so a question costs no extra read; the database is the truth.
    langs: dict[int, str | None] = field(default_factory=dict)
    # True once every stored choice is in ``langs`` (loaded at start, kept by set_lang): a user missing
    # from it has made no choice, and no read is needed.
    langs_complete: bool = False
    # Questions already handed to staff through "None of these": a second press does not queue twice.
    handed_over: set[int] = field(default_factory=set)
    # faq/ as last loaded (names, sizes, mtimes), for the watcher; reloads take turns.
    faq_signature: tuple[tuple[str, int, int], ...] = ()
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def chosen_lang(self, user_id: int) -> str | None:
        """The language the user picked with /lang, if any."""
        if user_id in self.langs:
            return self.langs[user_id]
        if self.langs_complete:
            return None
        lang = None
        if self.store is not None:
            try:
                lang = await self.store.get_user_lang(user_id)
            except sqlite3.Error:
                log.exception("could not read a language preference")
                return None
        if len(self.langs) > 100_000:  # bound memory on a busy bot; preferences reload from the database
            self.langs.clear()
        self.langs[user_id] = lang
        return lang

    async def set_lang(self, user_id: int, lang: str) -> bool:
        """Remember a /lang choice; False when it could not be saved (it still applies until restart)."""
        self.langs[user_id] = lang
        if self.store is None:
            return False
        try:
            await self.store.set_user_lang(user_id, lang)
        except sqlite3.Error:
            log.exception("could not save a language preference")
            return False
        return True

    async def ui_lang(self, user: User | None) -> str:
        """The language for menus and notices: the /lang choice, else Telegram's language_code."""
        if user is None:
            return "en"
        chosen = await self.chosen_lang(user.id)
        if chosen:
            return chosen
        return "zh" if (user.language_code or "").lower().startswith("zh") else "en"


def services(context: Context) -> Services:
    return cast(Services, context.application.bot_data[SERVICES_KEY])


def is_private(chat: Chat | None) -> bool:
    return chat is not None and chat.type == Chat.PRIVATE


def addressed_text(message: Message, bot_username: str | None) -> str:
    """The message text without the bot's @mention (how a question is asked in a group)."""
    text = message.text or ""
    if bot_username:
        # Telegram usernames are ASCII and case-insensitive.
        text = re.sub(rf"@{re.escape(bot_username)}(?![A-Za-z0-9_])", " ", text, flags=re.IGNORECASE | re.ASCII)
    return " ".join(text.split())


ButtonHandler = Callable[[CallbackQuery, callbacks.Action, Services, Context], Coroutine[Any, Any, None]]


def button(handler: ButtonHandler) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """A callback-query handler that receives the parsed button; forged or malformed data is
    answered here with the polite "expired" note, so no handler sees it."""

    @functools.wraps(handler)
    async def parsed(update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        svc = services(context)
        action = callbacks.parse(query.data)
        if action is None:
            await query.answer(say(await svc.ui_lang(query.from_user), "expired"))
            return
        await handler(query, action, svc, context)

    return parsed
