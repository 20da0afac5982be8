"""The staff loop in Telegram: queued questions posted to the staff chat, staff replies delivered to
investors, and the staff buttons (dismiss, answer with an entry and get the phrasing to add).

The link between a staff-chat message and its queue item is kept in the database by numeric ids, so
a reply works after a restart. Only ``staff.admins`` act for staff: every reply and every staff button
re-checks that the sender is an admin (membership of the staff chat is not enough).
"""

from __future__ import annotations

import asyncio
import html
import json
import logging

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest, Forbidden
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.knowledge.learned import learn, unlearn
from bot.languages import REPLY_LANGS, content_lang
from bot.staff import desk
from bot.staff.desk import Outcome
from bot.staff.display import format_utc, shorten_utf16
from bot.staff.posts import PostReason, staff_post_for_item
from bot.staff.queue import open_groups
from bot.staff.reply import reply_header
from bot.storage import CONSOLE_CHAT_ID, utcnow
from bot.words import STAFF
from handlers import callbacks
from handlers.context import AnyApplication, Context, Services, services_of
from handlers.messenger import TelegramMessenger
from handlers.queue_page import unanswered_page
from handlers.render import fill_html, format_html
from handlers.staff_posts import post_html, reply_header_html
from handlers.ui import MAX_MESSAGE, button_text, split_html, truncate_html, visible_len

log = logging.getLogger(__name__)


def is_admin(svc: Services, user: User | None) -> bool:
    return user is not None and user.id in svc.config.staff.admins


def staff_name(user: User) -> str:
    return f"{user.full_name} (@{user.username})" if user.username else user.full_name


def post_markup(item_id: int, best_entry: str | None) -> InlineKeyboardMarkup:
    row = [InlineKeyboardButton(STAFF.button_dismiss, callback_data=callbacks.staff("d", item_id))]
    if best_entry:
        label = button_text(STAFF.button_answer_with.format(entry=best_entry), 60)
        row.append(InlineKeyboardButton(label, callback_data=callbacks.staff("p", item_id, best_entry)))
    return InlineKeyboardMarkup([row])


async def post_item(bot: Bot, svc: Services, chat_id: int, item_id: int, reason: PostReason = "unanswered") -> bool:
    """Post a queue item (question, asker, nearest entries, buttons) to ``chat_id`` and link the message."""
    snapshot = svc.knowledge.snapshot
    post = await staff_post_for_item(svc.store, item_id, snapshot.kb, snapshot.matcher, reason)
    if post is None:
        return False
    best = post.best.entry_id if post.best is not None else None
    message = await bot.send_message(chat_id, post_html(post), reply_markup=post_markup(item_id, best))
    await svc.store.link_staff_message(chat_id, message.message_id, item_id)
    if chat_id > 0:  # a private chat: an admin opened the item there
        svc.private_staff_posts.add((chat_id, message.message_id))
    return True


async def deliver_reply(bot: Bot, svc: Services, item_id: int, reply: str, by: User) -> str:
    """Send a staff reply to the investor and close the item; returns the line to show staff.

    The item is marked answered only once Telegram accepted the message; if the investor blocked the
    bot it stays open with the reason noted.
    """
    prepared = await desk.prepare_reply(svc.store, item_id, reply)
    item = prepared.item
    if prepared.outcome is Outcome.NOT_FOUND or item is None:
        return STAFF.no_item.format(item=item_id)
    if prepared.outcome is Outcome.ALREADY_CLOSED:
        when = format_utc(item.replied_at) if item.replied_at else STAFF.earlier
        return STAFF.already_closed.format(item=item_id, status=item.status, when=when)
    if prepared.outcome is Outcome.FORGOTTEN:
        return STAFF.forgotten.format(item=item_id)
    if prepared.outcome is Outcome.CONSOLE:
        return STAFF.console_item.format(item=item_id)
    if prepared.outcome is Outcome.INVALID:
        return STAFF.invalid.format(item=item_id, detail=prepared.detail)
    done = await desk.send_reply(svc.store, TelegramMessenger(bot), prepared, reply, by.id)
    if done.outcome is Outcome.BLOCKED:
        return STAFF.blocked.format(item=item_id)
    if done.outcome is Outcome.REFUSED:
        return STAFF.refused.format(item=item_id, detail=done.detail)
    if done.outcome is Outcome.CLOSED_MEANWHILE:
        return STAFF.closed_meanwhile.format(item=item_id)
    return STAFF.delivered.format(item=item_id, name=staff_name(by), time=format_utc(utcnow()))


async def refuse(update: Update, what: str) -> None:
    """A neutral answer for non-admins (no hint that the command exists), and a log line."""
    user, chat = update.effective_user, update.effective_chat
    log.warning("refused %s for user %s in chat %s", what, user.id if user else None, chat.id if chat else None)
    if update.callback_query is not None:
        await update.callback_query.answer(STAFF.not_available)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(html.escape(STAFF.not_available))


async def on_staff_reply(update: Update, context: Context) -> None:
    """A reply in the staff chat to one of the bot's posts: deliver it to the investor."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.reply_to_message is None:
        return
    svc = context.services
    replied = message.reply_to_message
    if replied.from_user is None or replied.from_user.id != context.bot.id:
        return
    item_id = await svc.store.item_for_staff_message(message.chat.id, replied.message_id)
    if item_id is None:
        return  # a reply to some other bot message (e.g. a stats table): staff chatting, not answering
    if not is_admin(svc, user):
        if message.chat.id == svc.config.staff.chat_id:
            # Members of the staff chat reply to posts to discuss them among themselves: that is chatter,
            # not an answer, so it is neither delivered nor answered (a note on every such reply would
            # drown the discussion). The post says only admins answer, and an admin's answer is always
            # confirmed with "✓ #N answered", so silence here misleads no one. The text is not logged.
            log.warning("refused staff reply from user %s in the staff chat (not an admin)", user.id)
        else:
            await refuse(update, "staff reply")
        return
    result = await deliver_reply(context.bot, svc, item_id, message.text or "", user)
    await message.reply_text(html.escape(result))


MAX_NOTE_UNITS = 1000  # "Dismissed by <name> at <time>": far more than any Telegram name needs


async def _close_post(query: CallbackQuery, note: str) -> None:
    """Append what happened to a staff post and remove its buttons.

    The note always survives: when post and note exceed Telegram's limit, the post is shortened
    (never inside a tag or a reference, every tag closed), not the note.
    """
    message = query.message
    if not isinstance(message, Message) or message.text is None:
        return
    note_html = f"<i>{html.escape(shorten_utf16(note, MAX_NOTE_UNITS))}</i>"
    body = truncate_html(message.text_html, MAX_MESSAGE - visible_len(note_html) - 2)  # 2: the blank line
    text = f"{body}\n\n{note_html}"
    try:
        await query.edit_message_text(text, reply_markup=None)
    except BadRequest as exc:
        log.info("could not update a staff post: %s", exc)


async def on_staff_button(update: Update, context: Context) -> None:
    """``s:<verb>:<item>[:<entry>]``: d dismiss, g dismiss group, p answer with entry, o open, u page."""
    query = update.callback_query
    if query is None:
        return
    svc = context.services
    if not is_admin(svc, query.from_user):
        await refuse(update, f"staff button {query.data!r}")
        return
    action = callbacks.parse(query.data)
    if action is None or action.kind != "s":
        await query.answer(STAFF.button_expired)
        return
    by = query.from_user
    if action.verb == "d":
        done = await svc.store.dismiss_unanswered(action.item, by.id, only_open=True)
        await query.answer((STAFF.dismissed if done else STAFF.not_open).format(item=action.item))
        if done:
            await _close_post(query, STAFF.dismissed_note.format(name=staff_name(by), time=format_utc(utcnow())))
    elif action.verb == "g":
        groups = await open_groups(svc.store, svc.knowledge.matcher.normalizer)
        group = next((g for g in groups if action.item in g.item_ids), None)
        count = 0
        for item_id in group.item_ids if group is not None else ():
            count += await svc.store.dismiss_unanswered(item_id, by.id, only_open=True)
        await query.answer(STAFF.group_dismissed.format(count=count))
    elif action.verb == "p":
        await query.answer()
        await answer_with_entry(query, svc, context.bot, action.item, action.entry, by)
    elif action.verb == "x":  # undo what "Answer with ... + add phrasing" taught
        outcome = await asyncio.to_thread(unlearn, svc.knowledge.directory, action.item)
        await query.answer()
        chat_id = query.message.chat.id if query.message is not None else by.id
        text = STAFF.unlearned.format(item=action.item) if outcome.ok else f"#{action.item}: {outcome.message}"
        await context.bot.send_message(chat_id, html.escape(text))
    elif action.verb == "o":
        await query.answer()
        chat_id = query.message.chat.id if query.message is not None else by.id
        if not await post_item(context.bot, svc, chat_id, action.item):
            await context.bot.send_message(chat_id, html.escape(STAFF.no_item.format(item=action.item)))
    elif action.verb == "u":
        await query.answer()
        text, markup = await unanswered_page(svc, action.item)
        if isinstance(query.message, Message):
            try:
                await query.edit_message_text(text, reply_markup=markup)
            except BadRequest as exc:
                log.info("could not turn the page: %s", exc)
    else:
        await query.answer(STAFF.button_expired)


async def answer_with_entry(
    query: CallbackQuery | None,
    svc: Services,
    bot: Bot,
    item_id: int,
    entry_id: str,
    by: User,
    *,
    chat_id: int | None = None,
    learn_it: bool = True,
) -> None:
    """Send the investor an existing entry's answer and close the item; ``learn_it``: the question becomes a
    phrasing of the entry (faq/learned.yaml). ``query``: the staff post's button (its post is closed);
    else ``chat_id`` is where staff are told (``/answer ID --entry ENTRY``)."""
    assert svc.store is not None
    if query is not None:
        chat_id = query.message.chat.id if query.message is not None else by.id
    chat_id = chat_id if chat_id is not None else by.id
    item = await svc.store.get_unanswered(item_id)
    entry = svc.knowledge.kb.entries.get(entry_id)
    if item is None or item.status != "new" or entry is None:
        await bot.send_message(chat_id, html.escape(STAFF.entry_gone.format(item=item_id, entry=entry_id)))
        return
    answer = svc.assistant.answer(entry_id, item.lang)
    if item.chat_id is None or answer is None:
        await bot.send_message(chat_id, html.escape(STAFF.entry_forgotten.format(item=item_id)))
        return
    if item.chat_id == CONSOLE_CHAT_ID:
        await bot.send_message(chat_id, html.escape(STAFF.console_item.format(item=item_id)))
        return
    try:
        for chunk in split_html(f"{reply_header_html(reply_header(item.text, item.lang))}\n{format_html(answer)}"):
            await bot.send_message(item.chat_id, chunk)
    except Forbidden:
        await svc.store.note_delivery_failed(item_id, STAFF.blocked_note)
        await bot.send_message(chat_id, html.escape(STAFF.entry_blocked.format(item=item_id)))
        return
    await svc.store.answer_unanswered(
        item_id, STAFF.answered_with_entry_reply.format(entry=entry_id), by.id, only_open=True
    )
    lang = content_lang(item.lang) if item.lang in REPLY_LANGS else "en"  # a faq/ language key: en or zh
    note = STAFF.answered_with_note.format(entry=entry_id, name=staff_name(by), time=format_utc(utcnow()))
    if query is not None:
        await _close_post(query, note)
    if not learn_it:
        await bot.send_message(
            chat_id, html.escape(STAFF.answered_with_entry_only.format(item=item_id, entry=entry_id))
        )
        return
    # The question becomes a phrasing of the entry (faq/learned.yaml), checked with the whole knowledge base
    # and live at the watcher's next reload; the button under the confirmation undoes it.
    learned = await asyncio.to_thread(learn, svc.knowledge.directory, entry_id, item.text, lang, item.id, by.id)
    if learned.ok:
        undo = InlineKeyboardMarkup(
            [[InlineKeyboardButton(STAFF.button_unlearn, callback_data=callbacks.staff("x", item_id))]]
        )
        text = fill_html(STAFF.answered_and_learned, item=item_id, entry=entry_id, question=item.text)
        await bot.send_message(chat_id, text, reply_markup=undo)
        return
    snippet = STAFF.phrasing_snippet.format(
        file=entry.file, entry=entry_id, line=entry.line, lang=lang, question=_yaml_scalar(" ".join(item.text.split()))
    )
    await bot.send_message(
        chat_id,
        fill_html(STAFF.answered_not_learned, item=item_id, entry=entry_id, reason=learned.message, snippet=snippet),
    )


def _yaml_scalar(text: str) -> str:
    """A one-line YAML string that pastes safely (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def register(app: AnyApplication) -> None:
    staff_chat_id = services_of(app).config.staff.chat_id
    # Before the question handlers: in the staff chat, a reply to the bot is an answer, not a question.
    reply_filter = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & filters.REPLY
    if staff_chat_id is not None:
        app.add_handler(MessageHandler(reply_filter & filters.Chat(staff_chat_id), on_staff_reply))
    private_post = _ReplyToStaffPost(services_of(app))
    app.add_handler(MessageHandler(reply_filter & filters.ChatType.PRIVATE & private_post, on_staff_reply))
    app.add_handler(CallbackQueryHandler(on_staff_button, pattern=callbacks.ROUTES["s"]))


class _ReplyToStaffPost(filters.MessageFilter):
    """In a private chat, a reply to a staff post the bot sent there (an admin opened it from /unanswered).

    Recognised by the stored link between posts and queue items (``Services.private_staff_posts``, loaded
    at start and kept by ``post_item``), never by what the post says.
    """

    def __init__(self, svc: Services) -> None:
        super().__init__()
        self.svc = svc

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return replied is not None and (message.chat.id, replied.message_id) in self.svc.private_staff_posts
