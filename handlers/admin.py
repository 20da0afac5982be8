"""Admin commands: /unanswered, /answer, /dismiss, /stats, /export, /reload, and the faq/ watcher.

Only ``staff.admins``, and only in a private chat or the staff chat. Anyone else gets a neutral
"not available" (the attempt is logged); the commands never appear in the public menu.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import html
import logging
import re
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from telegram import InputFile, Update
from telegram.ext import CommandHandler

from bot.assistant import Knowledge
from bot.knowledge.diff import compare, describe, new_issues
from bot.knowledge.model import Issue, KnowledgeBase, LoadResult
from bot.staff.chart import render_chart
from bot.staff.export import export_csv_bytes, parse_day
from bot.staff.stats import collect_stats, format_stats
from bot.words import STAFF
from handlers.context import AnyApplication, Context, Services, is_private
from handlers.queue_page import unanswered_page
from handlers.staff import answer_with_entry, deliver_reply, is_admin, refuse, staff_name
from handlers.ui import button_text, split_html

log = logging.getLogger(__name__)

MAX_ERRORS_SHOWN = 20
FaqSignature = tuple[tuple[str, int, int], ...]  # (name, size, mtime in ns) of each faq/*.yaml
MAX_ID = 2**63 - 1  # SQLite's largest integer: a bigger one overflows in the driver
# ASCII digits only: str.isdigit() and int() also take "²" and full-width "１２".
_NUMBER = re.compile(r"#?([0-9]{1,19})")
USAGE = STAFF.usage


def parse_id(text: str) -> int | None:
    """A positive integer within SQLite's range, as typed after a command (``12`` or ``#12``); else None."""
    match = _NUMBER.fullmatch(text)
    value = int(match.group(1)) if match else 0
    return value if 1 <= value <= MAX_ID else None


def allowed(update: Update, svc: Services) -> bool:
    """An admin, in a private chat or the staff chat."""
    chat = update.effective_chat
    in_place = is_private(chat) or (chat is not None and chat.id == svc.config.staff.chat_id)
    return is_admin(svc, update.effective_user) and in_place


AdminHandler = Callable[[Update, Context, Services], Coroutine[Any, Any, None]]


def admin_only(handler: AdminHandler) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """Run ``handler`` for admins in an allowed chat; everyone else gets the neutral refusal (logged)."""

    @functools.wraps(handler)
    async def checked(update: Update, context: Context) -> None:
        svc = context.services
        if not allowed(update, svc):
            await refuse(update, "/" + handler.__name__.removesuffix("_command"))
            return
        await handler(update, context, svc)

    return checked


@admin_only
async def unanswered_command(update: Update, context: Context, svc: Services) -> None:
    message = update.effective_message
    assert message is not None
    args = context.args or []
    page = 1 if not args else parse_id(args[0]) if len(args) == 1 else None
    if page is None:
        await message.reply_text(html.escape(USAGE["unanswered"]))
        return
    text, markup = await unanswered_page(svc, page)
    await message.reply_text(split_html(text)[0], reply_markup=markup)


@admin_only
async def answer_command(update: Update, context: Context, svc: Services) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    parts = (message.text or "").split(maxsplit=2)
    item_id = parse_id(parts[1]) if len(parts) == 3 else None
    if item_id is None:
        await message.reply_text(html.escape(USAGE["answer"]))
        return
    # /answer ID --entry ENTRY [--learn]: the entry's answer (issue 17), the question learned if asked
    words = parts[2].split()
    if words[0] == "--entry":
        entry = words[1] if len(words) > 1 else ""
        learn_it = words[2:] == ["--learn"]
        if not entry or words[2:] not in ([], ["--learn"]):
            await message.reply_text(html.escape(USAGE["answer"]))
            return
        await answer_with_entry(
            None, svc, context.bot, item_id, entry, user, chat_id=message.chat.id, learn_it=learn_it
        )
        return
    await message.reply_text(html.escape(await deliver_reply(context.bot, svc, item_id, parts[2], user)))


@admin_only
async def dismiss_command(update: Update, context: Context, svc: Services) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and svc.store is not None
    args = context.args or []
    item_id = parse_id(args[0]) if len(args) == 1 else None
    if item_id is None:
        await message.reply_text(html.escape(USAGE["dismiss"]))
        return
    done = await svc.store.dismiss_unanswered(item_id, user.id, only_open=True)
    await message.reply_text(
        html.escape(
            STAFF.dismissed_by.format(item=item_id, name=staff_name(user))
            if done
            else STAFF.not_an_open_question.format(item=item_id)
        )
    )


@admin_only
async def stats_command(update: Update, context: Context, svc: Services) -> None:
    message = update.effective_message
    assert message is not None and svc.store is not None
    summary = await collect_stats(svc.store, normalizer=svc.knowledge.matcher.normalizer)
    await message.reply_text(f"<pre>{html.escape(format_stats(summary))}</pre>")
    chart = await asyncio.to_thread(render_chart, summary.daily)  # ~0.1 s of CPU: off the event loop
    await message.reply_photo(InputFile(chart, filename="questions-30-days.png"), caption=STAFF.chart_caption)


@admin_only
async def export_command(update: Update, context: Context, svc: Services) -> None:
    message = update.effective_message
    assert message is not None and svc.store is not None
    args = context.args or []
    if len(args) > 2:
        await message.reply_text(html.escape(USAGE["export"]))
        return
    try:
        first = parse_day(args[0]) if len(args) > 0 else None
        last = parse_day(args[1]) if len(args) > 1 else None
        data = await export_csv_bytes(svc.store, first, last)
    except ValueError as exc:
        await message.reply_text(html.escape(f"{exc}. {USAGE['export']}"))
        return
    name = f"etown-questions-{first or 'start'}-to-{last or dt.date.today()}.csv"
    await message.reply_document(InputFile(data, filename=name), caption=STAFF.export_caption)


# --- reloading the knowledge base


def describe_reload(old: KnowledgeBase | None, result: LoadResult, standing: Sequence[Issue] = ()) -> str:
    """What a reload did, for admins: the changes and the warnings that are new (``standing``: those of the
    version it replaces, not repeated), or the file:line errors that kept the old version."""
    if result.kb is None:
        lines = [STAFF.reload_refused.format(count=len(result.errors))]
        lines += [str(issue) for issue in result.errors[:MAX_ERRORS_SHOWN]]
        if len(result.errors) > MAX_ERRORS_SHOWN:
            lines.append(STAFF.reload_more_errors.format(count=len(result.errors) - MAX_ERRORS_SHOWN))
        return "\n".join(lines)
    fresh = new_issues(standing, result.warnings)
    lines = [STAFF.reloaded.format(entries=len(result.kb.entries), warnings=len(fresh))]
    changes = describe(compare(old, result.kb))
    lines += changes or [STAFF.reload_unchanged]
    lines += [str(issue) for issue in fresh[:5]]
    if len(result.warnings) > len(fresh):
        lines.append(STAFF.reload_standing.format(count=len(result.warnings) - len(fresh)))
    return "\n".join(lines)


def _reload(knowledge: Knowledge) -> tuple[FaqSignature, str]:
    """Load, validate and build the matcher, then describe the change: all in a worker thread, since
    with a big knowledge base each step takes long enough to stall every investor (the comparison
    alone took 61 ms for 5,000 entries). ``Knowledge.load`` swaps the new snapshot in with a single
    assignment, so handlers see the old version or the new one, never a mix.

    Returns the signature of faq/ as read and the report for admins. An unexpected failure (a
    bug, not a file:line error) is logged and reported; the last good version stays live."""
    # Taken before reading: an edit made while the load runs changes it again, so the watcher sees it.
    signature = faq_signature(knowledge.directory)
    old, standing = knowledge.kb, knowledge.warnings
    try:
        result = knowledge.load()
        return signature, describe_reload(old, result, standing)
    except Exception as exc:  # whatever broke, investors keep the last good version
        log.exception("faq/ reload failed; still answering from the last good version")
        reason = button_text(f"{type(exc).__name__}: {exc}", 300)
        return signature, STAFF.reload_failed.format(reason=reason)


async def reload_knowledge(svc: Services) -> str:
    """Reload faq/ off the event loop (loads take turns); an invalid version never replaces the live one.

    The signature is recorded even when the load fails, so the watcher reports a failure once per
    version of faq/, not every few seconds."""
    async with svc.reload_lock:
        signature, report = await asyncio.to_thread(_reload, svc.knowledge)
        svc.faq_signature = signature
        return report


@admin_only
async def reload_command(update: Update, context: Context, svc: Services) -> None:
    message = update.effective_message
    assert message is not None
    for chunk in split_html(html.escape(await reload_knowledge(svc))):
        await message.reply_text(chunk)


def faq_signature(directory: Path) -> FaqSignature:
    """Names, sizes and modification times of the knowledge-base files: cheap to compare every few seconds."""
    found = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            stat = path.stat()
        except OSError:
            continue
        found.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(found)


async def watch_faq(context: Context) -> None:
    """JobQueue callback: reload when faq/ changed and tell the admins what happened."""
    svc = context.services
    signature = await asyncio.to_thread(faq_signature, svc.knowledge.directory)
    if signature == svc.faq_signature:
        return
    report = await reload_knowledge(svc)
    log.info("faq/ changed: %s", report.splitlines()[0])
    targets = [svc.config.staff.chat_id] if svc.config.staff.chat_id is not None else list(svc.config.staff.admins)
    for chat_id in targets:
        try:
            for chunk in split_html(html.escape(STAFF.faq_changed + report)):
                await context.bot.send_message(chat_id, chunk)
        except Exception:  # one unreachable admin must not stop the others hearing about it
            log.exception("could not tell chat %s about a reload", chat_id)


async def purge_old_rows(context: Context) -> None:
    """JobQueue callback, daily: delete log rows older than ``retention_days``."""
    svc = context.services
    if not svc.has_store:  # a run after the log closed (shutdown)
        return
    counts = await svc.store.purge_older_than(svc.config.retention_days)
    log.info("retention: purged %d row(s) older than %d days", counts.total, svc.config.retention_days)


def register(app: AnyApplication) -> None:
    app.add_handler(CommandHandler("unanswered", unanswered_command))
    app.add_handler(CommandHandler("answer", answer_command))
    app.add_handler(CommandHandler("dismiss", dismiss_command))
    app.add_handler(CommandHandler("stats", stats_command))
    app.add_handler(CommandHandler("export", export_command))
    app.add_handler(CommandHandler("reload", reload_command))
