"""``bot.messenger.Messenger`` on python-telegram-bot: how the command line sends through the bot's token."""

from __future__ import annotations

from types import TracebackType

import telegram
from telegram.constants import ParseMode
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError

from bot.messenger import Blocked, CredentialsRefused, Outgoing, Refused, Unreachable
from handlers.staff_posts import outgoing_html


class TelegramMessenger:
    """Sends with a ``telegram.Bot``: the running bot's own (``TelegramMessenger(app.bot)``, already started),
    or a plain one for a token (``for_token``: the command line; nothing is received)."""

    def __init__(self, bot: telegram.Bot, *, owned: bool = False) -> None:
        self._bot = bot
        self._owned = owned  # started and stopped here (a bot of its own), or the application's

    @classmethod
    def for_token(cls, token: str, base_url: str = "") -> TelegramMessenger:
        bot = telegram.Bot(token, base_url=base_url.rstrip("/")) if base_url else telegram.Bot(token)
        return cls(bot, owned=True)

    async def __aenter__(self) -> TelegramMessenger:
        if not self._owned:
            return self
        try:
            await self._bot.initialize()  # getMe: the token is checked here
        except InvalidToken as exc:
            raise CredentialsRefused(str(exc)) from None
        except TelegramError as exc:
            raise Unreachable(str(exc)) from None
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._owned:
            await self._bot.shutdown()

    async def send(self, chat_id: int, message: Outgoing, *, reply_to: int | None = None) -> int:
        text = outgoing_html(message)
        reply = telegram.ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        try:
            sent = await self._bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_parameters=reply)
        except Forbidden as exc:
            raise Blocked(str(exc)) from None
        except InvalidToken as exc:
            raise CredentialsRefused(str(exc)) from None
        except NetworkError as exc:
            raise Unreachable(str(exc)) from None
        except TelegramError as exc:
            raise Refused(str(exc)) from None
        return sent.message_id
