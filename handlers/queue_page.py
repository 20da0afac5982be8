"""The /unanswered list: one page of open questions, grouped, with their buttons (used by the /unanswered
command and by the staff buttons that turn its pages; neither imports the other)."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.staff.queue import open_groups, paginate
from bot.words import STAFF
from handlers import callbacks
from handlers.context import Services
from handlers.render import fill_html
from handlers.ui import button_text


async def unanswered_page(svc: Services, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of open questions grouped by similarity, with open / dismiss buttons per group."""
    groups = await open_groups(svc.store, svc.knowledge.matcher.normalizer)
    shown = paginate(groups, page)
    if not shown.groups:
        return html.escape(STAFF.queue_empty), None
    lines = [
        fill_html(
            STAFF.queue_heading,
            items=shown.total_items,
            groups=shown.total_groups,
            page=shown.number,
            pages=shown.pages,
        )
    ]
    rows: list[list[InlineKeyboardButton]] = []
    for n, group in enumerate(shown.groups, 1 + (shown.number - 1) * 10):
        first = group.item_ids[0]
        question = button_text(group.representative, 120)
        lines.append(
            fill_html(STAFF.queue_line, n=n, question=question, count=group.count, newest=group.newest_day, first=first)
        )
        rows.append(
            [
                InlineKeyboardButton(
                    STAFF.button_open.format(n=n, first=first), callback_data=callbacks.staff("o", first)
                ),
                InlineKeyboardButton(
                    STAFF.button_dismiss_group.format(count=group.count), callback_data=callbacks.staff("g", first)
                ),
            ]
        )
    nav = []
    if shown.number > 1:
        nav.append(InlineKeyboardButton(STAFF.button_newer, callback_data=callbacks.staff("u", shown.number - 1)))
    if shown.number < shown.pages:
        nav.append(InlineKeyboardButton(STAFF.button_older, callback_data=callbacks.staff("u", shown.number + 1)))
    if nav:
        rows.append(nav)
    lines.append(html.escape(STAFF.queue_hint))
    return "\n".join(lines), InlineKeyboardMarkup(rows)
