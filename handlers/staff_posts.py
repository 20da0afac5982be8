"""Telegram HTML of what the staff core hands over as plain data: staff posts, replies to investors,
and the command line's note in the staff chat (``outgoing_html``: whatever the core sends through the
messenger). Every text from outside is escaped here."""

from __future__ import annotations

import html

from bot.messenger import Outgoing
from bot.staff.display import format_utc, shorten, shorten_utf16
from bot.staff.posts import StaffPost
from bot.staff.reply import CliAnswered, InvestorReply, ReplyHeader
from bot.words import STAFF
from handlers.ui import MAX_MESSAGE, visible_len

MAX_POST_QUESTION_UNITS = 3000  # the question in a staff post; less when the post's other lines are long
# Kept free in every staff post for the note added when it is closed ("Answered with <entry> by <name>
# (@username) at <time>"): Telegram names are at most 64 + 64 characters and usernames 32, entry ids 64.
CLOSING_NOTE_UNITS = 400


def post_html(post: StaffPost) -> str:
    """The staff-chat message for a queue item, within Telegram's limit with room for the closing note."""
    heading = f"<b>{html.escape(STAFF.post_titles[post.reason])} #{post.item_id}</b>"
    lines = [
        STAFF.post_from.format(who=html.escape(post.who)),
        STAFF.post_language.format(lang=html.escape(post.lang), asked=html.escape(format_utc(post.asked_at))),
    ]
    if post.nearest:
        lines.append(STAFF.post_nearest)
        lines += [
            f"{n}. <code>{html.escape(c.entry_id)}</code> {c.score:.2f} · {html.escape(shorten(c.headline, 120))}"
            for n, c in enumerate(post.nearest, 1)
        ]
    else:
        lines.append(STAFF.post_nearest_none)
    lines.append(STAFF.post_how_to_answer)
    # The question gets what the other lines and the closing note leave of Telegram's limit (one unit
    # per line break); the full text stays in the database (etown-bot unanswered show).
    others = sum(visible_len(line) + 1 for line in [heading, *lines])
    room = min(MAX_POST_QUESTION_UNITS, MAX_MESSAGE - CLOSING_NOTE_UNITS - others)
    lines[:0] = [heading, f"<blockquote>{html.escape(shorten_utf16(post.question, room))}</blockquote>"]
    return "\n".join(lines)


def reply_header_html(header: ReplyHeader) -> str:
    """The team's header and the investor's question, quoted: what precedes any staff answer."""
    title, asked, quote = (html.escape(text) for text in (header.title, header.asked, header.quote))
    return f"<b>{title}</b>\n{asked}\n<blockquote>{quote}</blockquote>"


def investor_reply_html(reply: InvestorReply) -> str:
    """The message an investor receives when staff answer."""
    return f"{reply_header_html(reply.header)}\n{html.escape(reply.text)}"


def answered_from_cli_html(note: CliAnswered) -> str:
    """The staff chat's note that ``etown-bot unanswered answer`` delivered a reply."""
    who = STAFF.cli_answered_by.format(by=note.by) if note.by is not None else ""
    heading = html.escape(STAFF.cli_answered.format(item=note.item_id, who=who))
    return f"{heading}\n<blockquote>{html.escape(note.reply)}</blockquote>"


def outgoing_html(message: Outgoing) -> str:
    """What the core sends through the messenger, as Telegram HTML."""
    if isinstance(message, InvestorReply):
        return investor_reply_html(message)
    return answered_from_cli_html(message)
