"""``bot.messenger.Messenger`` on python-telegram-bot: how the command line sends through the bot's token."""

from __future__ import annotations

from types import TracebackType

import telegram
from telegram.constants import ParseMode
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError

from bot.messenger import Blocked, CredentialsRefused, Refused, Unreachable


class TelegramMessenger:
    """Sends with a plain ``telegram.Bot`` (no Application: nothing is received)."""

    def __init__(self, token: str, base_url: str = "") -> None:
        self._bot = telegram.Bot(token, base_url=base_url.rstrip("/")) if base_url else telegram.Bot(token)

    async def __aenter__(self) -> TelegramMessenger:
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
        await self._bot.shutdown()

    async def send(self, chat_id: int, html: str, *, reply_to: int | None = None) -> int:
        reply = telegram.ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        try:
            message = await self._bot.send_message(chat_id, html, parse_mode=ParseMode.HTML, reply_parameters=reply)
        except Forbidden as exc:
            raise Blocked(str(exc)) from None
        except InvalidToken as exc:
            raise CredentialsRefused(str(exc)) from None
        except NetworkError as exc:
            raise Unreachable(str(exc)) from None
        except TelegramError as exc:
            raise Refused(str(exc)) from None
        return message.message_id
