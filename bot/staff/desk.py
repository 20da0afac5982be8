"""The staff desk: a staff reply reaches the investor, whoever sends it (a reply in the staff chat,
``/answer``, or ``etown-bot unanswered answer``), through any ``Messenger``.

Each front end words the outcome for its own audience; what happens is decided here, once: the item must
exist, be open and still know its investor, the reply must fit in one message, and the item is closed
only after the messenger delivered it (a blocked or refused reply is noted on the item, which stays open).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from bot.messenger import Blocked, Messenger, Refused, Unreachable
from bot.staff.reply import InvestorReply, investor_reply
from bot.storage import CONSOLE_CHAT_ID, Store, UnansweredItem
from bot.words import STAFF


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    CLOSED_MEANWHILE = "closed meanwhile"  # delivered, but someone else closed the item during the send
    NOT_FOUND = "not found"
    ALREADY_CLOSED = "already closed"
    FORGOTTEN = "forgotten"  # the investor used /forget: no chat to reply to
    CONSOLE = "console"  # asked in the console chat (etown-bot shell): nobody to reply to
    INVALID = "invalid"  # empty or too long; ``detail`` says which
    BLOCKED = "blocked"
    REFUSED = "refused"  # the messenger refused or could not send; ``detail`` has its words


@dataclass(frozen=True)
class Delivery:
    """What became of one staff reply."""

    outcome: Outcome
    item: UnansweredItem | None = None
    detail: str = ""
    message: InvestorReply | None = None  # for the investor (set once the reply passed the checks)

    @property
    def ready(self) -> bool:
        """Passed every check and not sent yet (``prepare_reply``'s success)."""
        return self.outcome is Outcome.DELIVERED and self.message is not None and self.item is not None


async def prepare_reply(store: Store, item_id: int, reply: str) -> Delivery:
    """Check that ``reply`` can go to the investor of item ``item_id``; ``ready`` when it can."""
    item = await store.get_unanswered(item_id)
    if item is None:
        return Delivery(Outcome.NOT_FOUND)
    if item.status != "new":
        return Delivery(Outcome.ALREADY_CLOSED, item)
    if item.chat_id is None:
        return Delivery(Outcome.FORGOTTEN, item)
    if item.chat_id == CONSOLE_CHAT_ID:
        return Delivery(Outcome.CONSOLE, item)
    try:
        message = investor_reply(item.text, reply, item.lang)
    except ValueError as exc:
        return Delivery(Outcome.INVALID, item, str(exc))
    return Delivery(Outcome.DELIVERED, item, message=message)


async def send_reply(
    store: Store,
    messenger: Messenger,
    prepared: Delivery,
    reply: str,
    by: int | None,
    *,
    clean: Callable[[str], str] = str,
) -> Delivery:
    """Send a prepared reply and close its item; ``clean`` scrubs the messenger's words (secrets) before they
    are stored or shown."""
    item = prepared.item
    message = prepared.message
    assert prepared.ready and item is not None and item.chat_id is not None and message is not None
    try:
        await messenger.send(item.chat_id, message)
    except Blocked:
        await store.note_delivery_failed(item.id, STAFF.blocked_note)
        return Delivery(Outcome.BLOCKED, item)
    except (Refused, Unreachable) as exc:
        detail = clean(str(exc))
        await store.note_delivery_failed(item.id, detail)
        return Delivery(Outcome.REFUSED, item, detail)
    if not await store.answer_unanswered(item.id, reply.strip(), by, only_open=True):
        return Delivery(Outcome.CLOSED_MEANWHILE, item)
    return Delivery(Outcome.DELIVERED, item)
