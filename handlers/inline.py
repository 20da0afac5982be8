"""Inline mode: ``@bot query`` in any chat offers up to 10 matching entries as articles."""

from __future__ import annotations

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import InlineQueryLimit
from telegram.ext import InlineQueryHandler

from bot.languages import reply_lang
from handlers.context import AnyApplication, Context
from handlers.render import format_html
from handlers.ui import quote, split_html

MAX_RESULTS = 10  # what the issue asks; Telegram allows 50
CACHE_SECONDS = 60  # short, so a knowledge-base reload shows up quickly


async def on_inline_query(update: Update, context: Context) -> None:
    query = update.inline_query
    if query is None:
        return
    svc = context.services
    text = query.query.strip()[: InlineQueryLimit.MAX_QUERY_LENGTH]
    chosen = await svc.chosen_lang(query.from_user.id)
    ui_lang = await svc.ui_lang(query.from_user)
    snapshot = svc.knowledge.snapshot
    if text:
        lang = chosen or reply_lang(text)
        settings = svc.knowledge.settings
        ranked = snapshot.matcher.rank(text, limit=MAX_RESULTS)
        # Offer what the bot would at least suggest: weaker candidates are noise in an inline list.
        entry_ids = [c.entry_id for c in ranked if c.score >= settings.suggest_threshold]
    else:
        lang = ui_lang
        entry_ids = [e.id for t in snapshot.kb.topics for e in snapshot.kb.topic_entries(t.id)][:MAX_RESULTS]
    results = []
    for entry_id in entry_ids[:MAX_RESULTS]:
        answer = svc.assistant.answer(entry_id, lang)
        if answer is None:
            continue
        # No reply_markup: a message sent through inline mode has no buttons of ours, so a press "on"
        # one is forged and handlers/context.py refuses it (add buttons here and that rule must change).
        results.append(
            InlineQueryResultArticle(
                id=entry_id,  # ids are [a-z0-9-], at most 48 bytes (Telegram allows 64)
                title=answer.title,
                description=quote(answer.body, 120),
                input_message_content=InputTextMessageContent(split_html(format_html(answer))[0]),
            )
        )
    await query.answer(results, cache_time=CACHE_SECONDS, is_personal=chosen is not None)


def register(app: AnyApplication) -> None:
    app.add_handler(InlineQueryHandler(on_inline_query))
