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
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.assistant import Assistant, Knowledge
from bot.config import Config
from bot.conversation import Conversations
from bot.languages import AUTO, telegram_lang
from bot.ratelimit import FloodGuard
from bot.storage import Store
from handlers import callbacks
from handlers.render import say

log = logging.getLogger(__name__)

SERVICES_KEY = "etown.services"
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class Services:
    """The core objects behind the bot.

    The question log is opened in ``post_init`` (``open_store``), before any update is handled, and closed
    in ``post_shutdown``: handlers use ``store`` without checking, as it is always there while they run.
    """

    config: Config
    knowledge: Knowledge
    assistant: Assistant
    flood: FloodGuard
    _store: Store | None = None
    # Explicit /lang choices, cached so a question costs no extra read; the database is the truth.
    langs: dict[int, str | None] = field(default_factory=dict)
    # True once every stored choice is in ``langs`` (loaded at start, kept by set_lang): a user missing
    # from it has made no choice, and no read is needed.
    langs_complete: bool = False
    # Each chat's last answer, for follow-ups ("and in 2021?"): in memory, expires, forgotten on /start.
    conversations: Conversations = field(default_factory=Conversations)
    # Questions already handed to staff through "None of these": a second press does not queue twice.
    handed_over: set[int] = field(default_factory=set)
    # Staff posts sent to admins' private chats, (chat id, message id): a reply to one answers the investor.
    private_staff_posts: set[tuple[int, int]] = field(default_factory=set)
    # faq/ as last loaded (names, sizes, mtimes), for the watcher; reloads take turns.
    faq_signature: tuple[tuple[str, int, int], ...] = ()
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def store(self) -> Store:
        """The open question log (``RuntimeError`` outside the bot's run: a bug, not a condition to handle)."""
        if self._store is None:
            raise RuntimeError("the question log is not open (handlers run between post_init and post_shutdown)")
        return self._store

    @property
    def has_store(self) -> bool:
        return self._store is not None

    def open_store(self, store: Store) -> None:
        self._store = store
        self.assistant.store = store

    def close_store(self) -> Store | None:
        store, self._store = self._store, None
        self.assistant.store = None
        return store

    async def chosen_lang(self, user_id: int) -> str | None:
        """The language the user picked with /lang, if any (None for "auto": each question's language)."""
        lang = await self._stored_lang(user_id)
        return None if lang == AUTO else lang

    async def _stored_lang(self, user_id: int) -> str | None:
        if user_id in self.langs:
            return self.langs[user_id]
        if self.langs_complete:
            return None
        lang = None
        if self._store is not None:
            try:
                lang = await self._store.get_user_lang(user_id)
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
        if self._store is None:
            return False
        try:
            await self._store.set_user_lang(user_id, lang)
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
        return telegram_lang(user.language_code)


def services_of(app: AnyApplication) -> Services:
    """The bot's services, from the application (registration time; handlers use ``context.services``)."""
    return cast(Services, app.bot_data[SERVICES_KEY])


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Every handler's context (python-telegram-bot's ``ContextTypes(context=...)``): ``context.services``
    is typed and always there, set before the application starts (``build_application``)."""

    @property
    def services(self) -> Services:
        return services_of(self.application)


CONTEXT_TYPES = ContextTypes(context=Context)


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


def button_refusal(query: CallbackQuery, svc: Services) -> str | None:
    """Why a public button press must not act, or None when it belongs to the message it came from.

    Telegram passes on whatever callback data a client sends, for any message id in a chat the
    presser can see, so a modified client can press ``l:zh`` "on" a staff post or on another member's
    answer. A press acts only when: its data is one of the buttons of ``query.message`` (the message
    as Telegram reports it); the message is not in the staff chat and carries no staff button; and
    the presser is the person the message is for: in a private chat the chat's user, in a group the
    author of the message the bot's reply quotes (every menu and answer the bot sends in a group
    replies to the asker's message). Inline-mode messages (``inline_message_id``, no ``message``)
    carry no buttons from this bot (handlers/inline.py sends plain articles), so a press "on" one is
    forged. A message too old for Telegram to show (``InaccessibleMessage``: chat and id only) cannot
    have its keyboard checked: it is accepted only in the presser's own private chat, where nobody
    else can be affected (and the handlers re-check what the data refers to), and refused in groups.
    """
    message = query.message
    if message is None:
        return "inline-mode message (the bot puts no buttons on those)"
    staff_chat = svc.config.staff.chat_id
    if staff_chat is not None and message.chat.id == staff_chat:
        return "in the staff chat"
    private = message.chat.type == Chat.PRIVATE
    if private and message.chat.id != query.from_user.id:
        return "not the chat's user"
    # python-telegram-bot decodes an inaccessible message as a Message with date 0.
    if not message.is_accessible or not isinstance(message, Message):
        return None if private else "message too old to check, in a group"
    data = [
        b.callback_data for row in (message.reply_markup.inline_keyboard if message.reply_markup else ()) for b in row
    ]
    if any(isinstance(d, str) and d.startswith("s:") for d in data):
        return "on a staff post"
    if query.data not in data:
        return "not a button of this message"
    if not private:
        asker = message.reply_to_message.from_user if message.reply_to_message is not None else None
        if asker is None or asker.is_bot or asker.id != query.from_user.id:
            return "not the asker's message"
    return None


def button(handler: ButtonHandler) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """A callback-query handler that receives the parsed button; forged, malformed or misplaced
    presses (see ``button_refusal``) are answered here with the polite "expired" note and change
    nothing, so no handler sees them."""

    @functools.wraps(handler)
    async def parsed(update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        svc = context.services
        action = callbacks.parse(query.data)
        reason = "malformed data" if action is None else button_refusal(query, svc)
        if action is None or reason is not None:
            # Logged without the data itself: it is whatever the client sent.
            kind = action.kind if action is not None else "?"
            log.info("refused a %s button from user %d: %s", kind, query.from_user.id, reason)
            await query.answer(say(await svc.ui_lang(query.from_user), "expired"))
            return
        await handler(query, action, svc, context)

    return parsed
