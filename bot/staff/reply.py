"""What an investor receives when staff answer: the team's header, their question quoted, the reply;
and the staff chat's note when the reply went out from the command line.

Plain data, checked here once for every front end; handlers/staff_posts.py renders it as Telegram HTML.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.staff.display import head_units, utf16_len
from bot.words import STAFF, words

MAX_QUOTE_UNITS = 500  # the investor's question quoted above a staff reply
MAX_REPLY_UNITS = 3500  # a staff reply; with its header and quote (under 600) it fits one Telegram message


@dataclass(frozen=True)
class ReplyHeader:
    """What precedes any staff answer: the team's title, "You asked:", and the question (shortened)."""

    title: str
    asked: str
    quote: str


@dataclass(frozen=True)
class InvestorReply:
    """A staff reply as the investor gets it: ``header``, then ``text`` (stripped, checked to fit)."""

    header: ReplyHeader
    text: str


@dataclass(frozen=True)
class CliAnswered:
    """The staff chat's note that ``etown-bot unanswered answer`` delivered ``reply`` to item ``item_id``
    (``by``: the staff member's Telegram id, when given)."""

    item_id: int
    reply: str
    by: int | None


def reply_header(question: str, lang: str) -> ReplyHeader:
    """The header in the investor's language, their question on one line and at most ``MAX_QUOTE_UNITS``."""
    said = words(lang)
    quote = " ".join(question.split())
    if utf16_len(quote) > MAX_QUOTE_UNITS:  # a plain ellipsis: the investor has their own words
        quote = head_units(quote, MAX_QUOTE_UNITS - 1) + "…"
    return ReplyHeader(said.reply_title, said.reply_asked, quote)


def investor_reply(question: str, reply: str, lang: str) -> InvestorReply:
    """The message for the investor who asked ``question``.

    Raises ValueError (with a message for staff) when the reply is empty or too long for one message.
    """
    reply = reply.strip()
    if not reply:
        raise ValueError(STAFF.reply_empty)
    if (units := utf16_len(reply)) > MAX_REPLY_UNITS:
        raise ValueError(STAFF.reply_too_long.format(units=units, limit=MAX_REPLY_UNITS))
    return InvestorReply(reply_header(question, lang), reply)
