"""What the core needs to send a message, without knowing it is Telegram (handlers/messenger.py is the
Telegram implementation; the command line gets one from the composition root).

``send`` takes Telegram-style HTML (``<b>``, ``<i>``, ``<blockquote>``, escaped text), built by the
front end that sends; ``send_reply`` takes a staff reply as the core's plain data and lays it out itself.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from bot.staff.reply import InvestorReply


class DeliveryError(Exception):
    """A message was not delivered; the text is for people (never holds a secret)."""


class Blocked(DeliveryError):
    """The recipient has blocked the bot."""


class Refused(DeliveryError):
    """The messaging service refused this message (a bad chat id, a text it will not take, ...)."""


class Unreachable(DeliveryError):
    """The messaging service could not be reached; nothing was sent."""


class CredentialsRefused(DeliveryError):
    """The service refused the bot's credentials (the Telegram token); nothing was sent."""


class Messenger(Protocol):
    """Sends messages; used as ``async with messenger: await messenger.send(...)``."""

    async def send(self, chat_id: int, html: str, *, reply_to: int | None = None) -> int:
        """Send ``html`` to ``chat_id`` (as a reply to message ``reply_to`` if given, when it still exists);
        returns the new message's id. Raises a ``DeliveryError``."""
        ...

    async def send_reply(self, chat_id: int, reply: InvestorReply) -> int:
        """Send a staff reply to the investor's chat, in the messenger's own markup; returns the message id.
        Raises a ``DeliveryError``."""
        ...

    async def __aenter__(self) -> Messenger: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...
