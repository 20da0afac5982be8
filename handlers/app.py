"""Wiring: the Telegram Application around the core, and ``etown-bot run`` (polling or webhook).

Handler order matters: commands, then buttons by prefix, inline mode, free-text questions, media,
and last the fallbacks that catch unknown commands and unclaimed buttons.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
import threading
from types import ModuleType
from typing import Any, cast
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, ApplicationBuilder, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot.assistant import Assistant, Knowledge, KnowledgeBaseInvalid
from bot.config import Config
from bot.exitcodes import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from bot.ratelimit import FloodGuard
from bot.redact import RedactSecrets, protect_logs
from bot.storage import Store, StoreError
from bot.words import STAFF, words
from handlers import (
    admin,
    errors,
    fallback,
    flood,
    inline,
    language,
    media,
    privacy,
    questions,
    staff,
    staff_outbox,
    start,
    topics,
)
from handlers.context import CONTEXT_TYPES, SERVICES_KEY, AnyApplication, Context, Services
from handlers.inbox import (
    PURGE_INTERVAL_S,
    Inbox,
    JournalingRequest,
    JournalingUpdateProcessor,
    QuarantiningBot,
    purge_finished,
)
from handlers.request import BotAPIRequest
from handlers.webhook import serve as serve_webhook

log = logging.getLogger(__name__)

# Commands, then buttons, then staff replies (before questions: in the staff chat a reply to the bot
# answers an investor), free text, then the catch-alls. errors registers the error handler.
HANDLER_MODULES: tuple[ModuleType, ...] = (
    flood,
    start,
    language,
    topics,
    privacy,
    admin,
    staff,
    staff_outbox,
    questions,
    inline,
    media,
    fallback,
    errors,
)
WATCH_SECONDS = 5.0  # how often faq/ is checked for edits
DB_CHECK_S = 10.0  # how often the database file is checked (still there, still the same file)
# Shutdown: the updates in hand get this long to finish; then they are cancelled (replayed at the next
# start from the journal) and the store is flushed. HARD_S ends the process if even that hangs.
GRACE_S = 10.0
HARD_S = 30.0
LIFECYCLE_KEY = "etown.lifecycle"
PURGE_SECONDS = 24 * 3600  # retention runs daily
# Edited messages, channel posts and the rest are never fetched: the bot has nothing to say to them.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
# Updates handled at once. Matching is ~0.4 ms of CPU; the rest is waiting on Telegram and SQLite.
CONCURRENT_UPDATES = 64
# HTTP connections to the Bot API. httpcore checks every pooled connection (a select() call each) for
# every queued request, so a big pool costs CPU quadratically under load: measured at 500 concurrent
# investors, 64 connections had stalls at a third of the throughput that 16 never had. At Telegram's
# 30 messages/s and a 0.3 s round trip about 9 requests are in flight, so 16 leaves room; a request that
# finds them all busy waits its turn for up to POOL_TIMEOUT_S (python-telegram-bot's default is 1 s), in
# front of the pool (handlers/request.py), where waiting costs no scans.
CONNECTION_POOL_SIZE = 16
POOL_TIMEOUT_S = 10.0
TOKEN_RE = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{30,100}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class SetupError(Exception):
    """The bot cannot start; the message is one line for the operator, ``exit_code`` for the shell."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def check_telegram_config(config: Config) -> None:
    """Refuse to start on a missing or malformed token or an unsafe webhook; never echo the token."""
    telegram = config.telegram
    if not telegram.token:
        raise SetupError(STAFF.cli.bot_unset)
    if not TOKEN_RE.fullmatch(telegram.token):
        raise SetupError(STAFF.cli.malformed_credentials)
    webhook = telegram.webhook
    if webhook.url:
        if urlsplit(webhook.url).scheme != "https":
            raise SetupError(STAFF.cli.webhook_not_https)
        if not webhook.secret_token:
            raise SetupError(STAFF.cli.webhook_unprotected)
        if not SECRET_RE.fullmatch(webhook.secret_token):
            raise SetupError(STAFF.cli.webhook_check_chars)


def bot_commands(lang: str) -> list[BotCommand]:
    return [BotCommand(name, description) for name, description in words(lang).commands]


class Lifecycle:
    """Stopping within a bounded time, whatever signals arrive, and stopping when the database goes.

    python-telegram-bot's own stop signals raise SystemExit inside the loop; a second SIGTERM or Ctrl-C
    raised it again in the middle of the shutdown, so ``post_shutdown`` never closed the store and
    aiosqlite's thread kept the process alive forever, its queued writes unwritten. Here a signal asks
    for the normal shutdown once (later ones are logged); after ``GRACE_S`` the handlers still running
    are cancelled and updates not yet started are left to the journal (replayed at the next start), so
    the store is flushed and closed; a watchdog ends the process after ``HARD_S`` if even that hangs.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGABRT)

    def __init__(self, app: AnyApplication) -> None:
        self.app = app
        self.handle_signals = False  # set by ``run`` (tests drive the Application without signals)
        self.stopping = False
        self.fatal: str | None = None  # why the bot stopped on its own (exit code 1)
        # Set to stop the webhook server (handlers/webhook.py); polling stops through ``stop_running``.
        self.stopped: asyncio.Event | None = None

    def install(self) -> None:
        if not self.handle_signals:
            return
        loop = asyncio.get_running_loop()
        for sig in self.SIGNALS:
            loop.add_signal_handler(sig, self.on_signal, sig)

    def on_signal(self, sig: int) -> None:
        if self.stopping:
            log.warning("%s: already stopping (finishing the updates in hand, at most %.0f s)", _name(sig), GRACE_S)
            return
        log.info("%s: stopping", _name(sig))
        self.stop()

    def stop(self, fatal: str | None = None) -> None:
        """Begin the shutdown (once)."""
        if fatal is not None and self.fatal is None:
            self.fatal = fatal
        if self.stopping:
            return
        self.stopping = True
        loop = asyncio.get_running_loop()
        loop.call_later(GRACE_S, self._give_up_waiting)
        watchdog = threading.Timer(HARD_S, _hard_exit)
        watchdog.daemon = True
        watchdog.start()
        if self.stopped is not None:
            self.stopped.set()
        else:
            self.app.stop_running()

    def _give_up_waiting(self) -> None:
        if isinstance(self.app.update_queue, Inbox):
            left = self.app.update_queue.abandon_queued()
            if left:
                log.warning("stopping: %d queued update(s) left for the next start (they are journaled)", left)
        handling = [
            task
            for task in asyncio.all_tasks()
            if task.get_name().endswith(":process_concurrent_update") and not task.done()
        ]
        if handling:
            log.warning("stopping: %d update(s) still being handled after %.0f s, cancelled", len(handling), GRACE_S)
        for task in handling:
            task.cancel()


def _name(sig: int) -> str:
    return signal.Signals(sig).name


def _hard_exit() -> None:
    # Only if the orderly shutdown itself hung: writes already committed are safe in the WAL file.
    log.critical("shutdown did not finish within %.0f s: exiting", HARD_S)
    logging.shutdown()
    os._exit(EXIT_PROBLEMS)


async def check_database(context: Context) -> None:
    """JobQueue callback: stop with a clear error if the database file was deleted or replaced."""
    svc = context.services
    problem = svc.store.check_file() if svc.has_store else None
    if problem is not None:
        log.critical("%s: stopping, so nothing more is written to a file that is gone", problem)
        lifecycle = context.application.bot_data.get(LIFECYCLE_KEY)
        if isinstance(lifecycle, Lifecycle):
            lifecycle.stop(fatal=problem)


async def _post_init(app: AnyApplication) -> None:
    """Open what lives as long as the bot: the question log; publish the command menus."""
    svc = cast(Services, app.bot_data[SERVICES_KEY])
    lifecycle = app.bot_data.get(LIFECYCLE_KEY)
    if isinstance(lifecycle, Lifecycle):
        lifecycle.install()
    svc.open_store(await Store.open(svc.config.database))
    interrupted = await svc.store.recover_outbox()
    if interrupted:
        log.warning(
            "%d staff post(s) were being sent when the bot stopped; not repeated (see /unanswered)", interrupted
        )
    # The /lang choices, once: a question from someone who never chose costs no read.
    svc.langs.update(await svc.store.user_langs())
    svc.private_staff_posts.update(await svc.store.private_staff_messages())
    svc.langs_complete = True
    outbox = staff_outbox.outbox_of(app)
    if isinstance(app.update_queue, Inbox):
        if outbox is not None:
            app.update_queue.on_quarantine = outbox.wake
        # Before polling or the webhook starts: replayed updates are handled first, then new ones.
        await app.update_queue.open(svc.store)
        await app.update_queue.replay(app)
    if outbox is not None:
        outbox.start()  # posts left pending by the last run go out first
    try:
        await app.bot.set_my_commands(bot_commands("en"))
        await app.bot.set_my_commands(bot_commands("zh"), language_code="zh")
        # Admins see their commands only in their own chats and the staff chat, never in the public menu.
        admin_menu = bot_commands("en") + [BotCommand(name, text) for name, text in STAFF.admin_commands]
        staff = svc.config.staff
        for chat_id in (*staff.admins, *((staff.chat_id,) if staff.chat_id is not None else ())):
            await app.bot.set_my_commands(admin_menu, scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:  # a menu is a convenience; the bot works without it
        log.warning("could not set the command menus: %s", exc)
    if app.job_queue is not None:
        app.job_queue.run_repeating(admin.watch_faq, interval=WATCH_SECONDS, first=WATCH_SECONDS, name="watch-faq")
        app.job_queue.run_repeating(admin.purge_old_rows, interval=PURGE_SECONDS, first=60, name="retention")
        app.job_queue.run_repeating(
            purge_finished, interval=PURGE_INTERVAL_S, first=PURGE_INTERVAL_S, name="inbox-retention"
        )
        app.job_queue.run_repeating(check_database, interval=DB_CHECK_S, first=DB_CHECK_S, name="database-file")
    me = app.bot.username
    log.info("bot @%s ready: %d knowledge-base entries", me, len(svc.knowledge.kb.entries))


async def _post_shutdown(app: AnyApplication) -> None:
    svc = cast(Services, app.bot_data[SERVICES_KEY])
    outbox = staff_outbox.outbox_of(app)
    if outbox is not None:
        await outbox.stop()
    if isinstance(app.update_queue, Inbox):
        await app.update_queue.close()
    store = svc.close_store()
    if store is not None:
        await store.close()


def build_application(
    config: Config,
    knowledge: Knowledge,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> AnyApplication:
    """The Application with every handler registered; the store opens in ``post_init``.

    ``request`` replaces the HTTP layer (tests use a recording one); ``get_updates_request`` the one used
    for ``getUpdates`` (default: ``request``). Either way ``getUpdates`` goes through the inbox's journal.
    """
    services = Services(
        config=config,
        knowledge=knowledge,
        assistant=Assistant(
            knowledge,
            None,
            max_logged_chars=config.limits.max_logged_chars,
            max_question_chars=config.limits.max_question_chars,
        ),
        flood=FloodGuard(config.limits.questions_per_minute),
    )
    inbox = Inbox()
    base = config.telegram.api_base_url
    urls = {"base_url": base, "base_file_url": re.sub(r"/bot$", "/file/bot", base)} if base else {}
    bot = QuarantiningBot(
        config.telegram.token,
        # python-telegram-bot's default for getUpdates: one connection. Updates are journaled before
        # Telegram is told they arrived, and an unreadable one is set aside (handlers/inbox.py).
        journal=JournalingRequest(get_updates_request or request or HTTPXRequest(connection_pool_size=1), inbox),
        # A given request (tests) replaces python-telegram-bot's HTTP layer, pool included.
        request=request if request is not None else BotAPIRequest(CONNECTION_POOL_SIZE, POOL_TIMEOUT_S),
        # Outgoing traffic stays within Telegram's flood limits; a 429 RetryAfter is waited out and retried.
        rate_limiter=AIORateLimiter(overall_max_rate=config.limits.outgoing_per_second, max_retries=5),
        # Every message is HTML (escaped where it is plain text), and source links never preview.
        defaults=Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)),
        **urls,
    )
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .bot(bot)
        .update_queue(inbox)
        .concurrent_updates(JournalingUpdateProcessor(CONCURRENT_UPDATES, inbox))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    app: AnyApplication = builder.build()
    services.faq_signature = admin.faq_signature(knowledge.directory)
    app.bot_data[SERVICES_KEY] = services
    app.bot_data[LIFECYCLE_KEY] = Lifecycle(app)
    for module in HANDLER_MODULES:
        module.register(app)
    return app


async def _serve_webhook(app: AnyApplication, config: Config, lifecycle: Lifecycle) -> None:
    lifecycle.stopped = asyncio.Event()
    webhook = config.telegram.webhook
    await serve_webhook(
        app,
        listen=webhook.listen,
        port=webhook.port,
        url=webhook.url,
        url_path=urlsplit(webhook.url).path,
        secret_token=webhook.secret_token,
        allowed_updates=ALLOWED_UPDATES,
        stopped=lifecycle.stopped,
    )


def run(config: Config) -> int:
    """``etown-bot run``: long polling, or a webhook when ``telegram.webhook.url`` is set."""
    try:
        check_telegram_config(config)
        protect_logs(config)
        knowledge = Knowledge(config.knowledge_dir, config.matching, config.cache_dir)
        knowledge.load()
        app = build_application(config, knowledge)
        lifecycle = cast(Lifecycle, app.bot_data[LIFECYCLE_KEY])
        lifecycle.handle_signals = True
        webhook = config.telegram.webhook
        if webhook.url:
            log.info("starting the webhook on %s:%d", webhook.listen, webhook.port)
            asyncio.run(_serve_webhook(app, config, lifecycle))
        else:
            log.info("starting long polling")
            app.run_polling(allowed_updates=ALLOWED_UPDATES, stop_signals=None)  # Lifecycle handles signals
    except SetupError as exc:
        _err(str(exc))
        return exc.exit_code
    except InvalidToken:
        _err(STAFF.cli.run_refused)
        return EXIT_USAGE
    except NetworkError as exc:
        _err(RedactSecrets([config.telegram.token]).clean(STAFF.cli.api_unreachable.format(detail=exc)))
        return EXIT_PROBLEMS
    except KnowledgeBaseInvalid:
        raise  # the CLI prints the file:line errors
    except StoreError as exc:
        _err(str(exc))
        return EXIT_PROBLEMS
    lifecycle = app.bot_data.get(LIFECYCLE_KEY)
    if isinstance(lifecycle, Lifecycle) and lifecycle.fatal is not None:
        _err(lifecycle.fatal)
        return EXIT_PROBLEMS
    log.info("stopped")
    return EXIT_OK


def _err(message: str) -> None:
    print(f"etown-bot: {message}", file=sys.stderr, flush=True)
