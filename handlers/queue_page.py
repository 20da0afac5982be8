"""The /unanswered list: one page of open questions, grouped, with their buttons (used by the /unanswered
command and by the staff buttons that turn its pages; neither imports the other)."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.staff import open_groups, paginate
from handlers import callbacks
from handlers.context import Services
from handlers.ui import button_text


async def unanswered_page(svc: Services, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of open questions grouped by similarity, with open / dismiss buttons per group."""
    groups = await open_groups(svc.store, svc.knowledge.matcher.normalizer)
    shown = paginate(groups, page)
    if not shown.groups:
        return "No open questions. 🎉", None
    lines = [
        f"<b>Open questions</b>: {shown.total_items} in {shown.total_groups} group(s), "
        f"page {shown.number}/{shown.pages}"
    ]
    rows: list[list[InlineKeyboardButton]] = []
    for n, group in enumerate(shown.groups, 1 + (shown.number - 1) * 10):
        first = group.item_ids[0]
        lines.append(
            f"{n}. “{html.escape(button_text(group.representative, 120))}” · asked {group.count}× · "
            f"newest {group.newest_day} · #{first}"
        )
        rows.append(
            [
                InlineKeyboardButton(f"{n}. Open / answer #{first}", callback_data=callbacks.staff("o", first)),
                InlineKeyboardButton(f"Dismiss ({group.count})", callback_data=callbacks.staff("g", first)),
            ]
        )
    nav = []
    if shown.number > 1:
        nav.append(InlineKeyboardButton("« Newer", callback_data=callbacks.staff("u", shown.number - 1)))
    if shown.number < shown.pages:
        nav.append(InlineKeyboardButton("Older »", callback_data=callbacks.staff("u", shown.number + 1)))
    if nav:
        rows.append(nav)
    lines.append("Open a question to see its details; reply to it to answer the investor.")
    return "\n".join(lines), InlineKeyboardMarkup(rows)
