"""What the core needs to send a message, without knowing it is Telegram (handlers/messenger.py is the
Telegram implementation; the command line gets one from the composition root).

The core hands over plain data (an ``Outgoing``), never markup: the messenger lays it out in its own
(Telegram HTML, escaped, in handlers/staff_posts.py), so no caller builds or escapes HTML.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from bot.staff.reply import CliAnswered, InvestorReply

# What the core sends: a staff reply to an investor, or the staff chat's note that one went out.
Outgoing = InvestorReply | CliAnswered


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

    async def send(self, chat_id: int, message: Outgoing, *, reply_to: int | None = None) -> int:
        """Send ``message`` to ``chat_id`` in the messenger's own markup (as a reply to message ``reply_to``
        if given, when it still exists); returns the new message's id. Raises a ``DeliveryError``."""
        ...

    async def __aenter__(self) -> Messenger: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...
