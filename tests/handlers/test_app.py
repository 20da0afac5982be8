"""Startup checks and log hygiene of ``etown-bot run``."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from telegram.ext import AIORateLimiter

from bot.config import Config, TelegramConfig, WebhookConfig
from bot.redact import RedactSecrets
from handlers.app import HANDLER_MODULES, SetupError, check_telegram_config
from tests.botapi_server import DEFAULT_TOKEN


def config(token: str = DEFAULT_TOKEN, url: str = "", secret_token: str = "") -> Config:
    return Config(telegram=TelegramConfig(token=token, webhook=WebhookConfig(url=url, secret_token=secret_token)))


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (config(""), "no Telegram token"),
        (config("12345"), "telegram.token: not a bot token"),
        (config("abc:" + "x" * 35), "telegram.token: not a bot token"),
        (config(url="http://bot.example.com/hook", secret_token="s"), "telegram.webhook.url: Telegram only"),
        (config(url="https://bot.example.com/hook"), "telegram.webhook.secret_token: required"),
        (config(url="https://bot.example.com/hook", secret_token="has space"), "telegram.webhook.secret_token: 1-256"),
    ],
)
def test_bad_telegram_settings_are_refused_with_the_key(cfg: Config, message: str) -> None:
    with pytest.raises(SetupError) as caught:
        check_telegram_config(cfg)
    assert str(caught.value).startswith(message)
    assert caught.value.exit_code == 2
    if cfg.telegram.token:
        assert cfg.telegram.token not in str(caught.value)


def test_good_settings_pass() -> None:
    check_telegram_config(config())
    check_telegram_config(config(url="https://bot.example.com/hook", secret_token="A-b_9"))


def test_secrets_are_redacted_from_messages_and_tracebacks() -> None:
    redact = RedactSecrets([DEFAULT_TOKEN, "hook-secret"])
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{DEFAULT_TOKEN}/getMe failed")
    except RuntimeError as exc:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "url %s and %s", (exc, "hook-secret"), None)
        record.exc_info = (type(exc), exc, exc.__traceback__)
    assert redact.filter(record)
    text = logging.Formatter().format(record)
    assert DEFAULT_TOKEN not in text and "hook-secret" not in text
    assert "<redacted>" in text


def test_every_handler_module_registers() -> None:
    assert all(callable(getattr(module, "register", None)) for module in HANDLER_MODULES)
    assert HANDLER_MODULES[-1].__name__ == "handlers.errors"


def test_outgoing_rate_comes_from_the_config() -> None:
    from bot.assistant import Knowledge
    from bot.config import LimitsConfig
    from handlers.app import build_application
    from tests.conftest import MINI_KB

    cfg = replace(config(), faq_dir=MINI_KB, limits=LimitsConfig(outgoing_per_second=500))
    knowledge = Knowledge(cfg.knowledge_dir, cfg.matching)
    knowledge.load()
    app = build_application(cfg, knowledge)
    limiter = app.bot.rate_limiter
    assert isinstance(limiter, AIORateLimiter)
    assert limiter._base_limiter is not None and limiter._base_limiter.max_rate == 500
