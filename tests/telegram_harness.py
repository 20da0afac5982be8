"""Drive the real Application in process: Update JSON in, recorded Bot API calls out."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from telegram import Update

from bot.assistant import Knowledge
from bot.config import Config, LimitsConfig, MatchingConfig, TelegramConfig
from handlers import staff_outbox
from handlers.app import build_application
from handlers.context import SERVICES_KEY, AnyApplication, Services
from tests.botapi_server import DEFAULT_TOKEN, Call, FakeBotAPI, JSONDict
from tests.conftest import MINI_KB
from tests.recording_request import RecordingRequest


class Harness:
    """One bot, one recording request, helpers to send updates and read what the bot did."""

    def __init__(self, api: FakeBotAPI, app: AnyApplication) -> None:
        self.api = api
        self.app = app
        self._ids = itertools.count(1)

    @property
    def services(self) -> Services:
        svc: Services = self.app.bot_data[SERVICES_KEY]
        return svc

    async def process(self, update: JSONDict) -> list[Call]:
        """Feed one update through every handler; returns the Bot API calls it caused."""
        mark = self.api.mark()
        update = {"update_id": next(self._ids), **update}
        self.api._remember(update)  # as push_update does: replies to this message must find it
        await self.handle(Update.de_json(update, self.app.bot))
        await self.staff_posts_sent()
        return self.api.calls[mark:]

    async def handle(self, update: object) -> None:
        """Handle an update as the running bot does: through the update processor (which marks it done)."""
        await self.app.update_processor.process_update(update, self.app.process_update(update))

    async def staff_posts_sent(self) -> None:
        """Staff-chat posts go out in the background (handlers/staff_outbox.py): wait for them."""
        outbox = staff_outbox.outbox_of(self.app)
        if outbox is not None:
            outbox.retry_s = 0.0
            await outbox.settled()

    async def send(self, user_id: int, text: str, **kwargs: Any) -> list[Call]:
        return await self.process(self.api.message_update(user_id, text, **kwargs))

    async def click(self, user_id: int, data: str, **kwargs: Any) -> list[Call]:
        return await self.process(self.api.callback_update(user_id, data, **kwargs))

    async def inline(self, user_id: int, query: str, **kwargs: Any) -> list[Call]:
        return await self.process(self.api.inline_update(user_id, query, **kwargs))


def sent(calls: list[Call], method: str = "sendMessage") -> list[JSONDict]:
    """Parameters of the successful calls to ``method``."""
    return [c.params for c in calls if c.method == method and c.status == 200]


def buttons(params: JSONDict) -> list[tuple[str, str]]:
    """(label, callback_data) of every inline button in a sent message."""
    markup = params.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


def answered_queries(calls: list[Call]) -> list[JSONDict]:
    return sent(calls, "answerCallbackQuery")


def make_config(tmp_path: Path, faq: Path = MINI_KB, **overrides: Any) -> Config:
    config = Config(
        faq_dir=faq,
        database=tmp_path / "bot.sqlite3",
        telegram=TelegramConfig(token=DEFAULT_TOKEN),
        limits=LimitsConfig(questions_per_minute=20),
    )
    return replace(config, **overrides)


@asynccontextmanager
async def running_bot(
    config: Config, matching: MatchingConfig | None = None, api: FakeBotAPI | None = None
) -> AsyncIterator[Harness]:
    """An initialised Application (post_init done) against a recording FakeBotAPI (pass one to keep
    Telegram's state across a restart of the bot)."""
    if matching is not None:
        config = replace(config, matching=matching)
    api = api or FakeBotAPI(expected_token=config.telegram.token)
    knowledge = Knowledge(config.knowledge_dir, config.matching)
    knowledge.load()
    app = build_application(config, knowledge, request=RecordingRequest(api))
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    try:
        yield Harness(api, app)
    finally:
        assert app.post_shutdown is not None
        await app.post_shutdown(app)
        await app.shutdown()
