"""The webhook: Telegram POSTs each update here (``etown-bot run`` with ``telegram.webhook.url`` set).

python-telegram-bot's own webhook server answers an update it cannot parse with 400, so Telegram sends
it again and again (and its log line carries the whole update). This one, on the same tornado server
python-telegram-bot's webhooks use, sets such an update aside in quarantine (``Inbox.quarantine``) and
answers 200, so it is never retried. Everything else is as before: the secret header is required
(403 without it), the update is journaled before the 200 (``Inbox.put``), re-deliveries are dropped.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from http import HTTPStatus
from typing import Any

import tornado.httpserver
import tornado.web
from telegram.ext import Application

from handlers.inbox import Inbox, empty_update, parse_updates_json

log = logging.getLogger(__name__)
AnyApplication = Application[Any, Any, Any, Any, Any, Any]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name, not a secret)
MAX_BODY_BYTES = 4 * 1024 * 1024  # an update is a few KB; Telegram's own limit for a message is 4096 chars


class UpdateHandler(tornado.web.RequestHandler):
    """POST /<path>: one update from Telegram."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, app: AnyApplication, secret_token: str) -> None:
        self.app = app
        self.secret_token = secret_token

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", 'application/json; charset="utf-8"')

    async def post(self) -> None:
        sent = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(sent.encode(), self.secret_token.encode()):
            log.info("webhook request without the right secret token refused")
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        if self.request.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        inbox = self.app.update_queue
        assert isinstance(inbox, Inbox)
        raw, oversized = parse_updates_json(self.request.body)
        update = await inbox.read(raw, self.app.bot, oversized=oversized) or empty_update(raw, self.app.bot)
        if update is None:
            return  # 200: nothing to handle, and nothing Telegram should send again
        await inbox.put(update)  # journaled before the 200

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # Refusals (403) are logged above; anything else once, without the request body.
        if not isinstance(value, tornado.web.HTTPError):
            log.error("webhook request failed: %r", value)


async def serve(
    app: AnyApplication,
    *,
    listen: str,
    port: int,
    url: str,
    url_path: str,
    secret_token: str,
    allowed_updates: list[str],
    stopped: asyncio.Event,
) -> None:
    """Run the bot on a webhook until ``stopped`` is set, with python-telegram-bot's lifecycle hooks."""
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        routes = [(rf"/{url_path.strip('/')}/?", UpdateHandler, {"app": app, "secret_token": secret_token})]
        server = tornado.httpserver.HTTPServer(tornado.web.Application(routes), max_body_size=MAX_BODY_BYTES)
        server.listen(port, listen)
        try:
            await app.bot.set_webhook(url, secret_token=secret_token, allowed_updates=allowed_updates)
            await app.start()
            await stopped.wait()
        finally:
            server.stop()
            if app.running:
                await app.stop()
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
