"""The framework's floor: a bare python-telegram-bot echo bot with the real bot's Application settings.

Same builder settings as ``handlers.app.build_application`` for polling: ``AIORateLimiter(max_retries=5)``,
``concurrent_updates(64)``, ``connection_pool_size(16)``, ``pool_timeout(10)``, the same ``base_url``
rewrite and ``allowed_updates``. Every text message is
answered with ``reply_text`` of the same text. ``--rate N`` sets AIORateLimiter's overall rate, as the
real bot's ``limits.outgoing_per_second`` does (default 30, Telegram's limit).

Usage: ``TELEGRAM_BOT_TOKEN=... TELEGRAM_API_BASE_URL=http://.../bot python -m benchmarks.echo_bot``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler, filters

from handlers.app import ALLOWED_UPDATES, CONCURRENT_UPDATES, CONNECTION_POOL_SIZE, POOL_TIMEOUT_S


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=30, help="AIORateLimiter overall_max_rate (messages/s)")
    args = parser.parse_args(argv)
    base = os.environ["TELEGRAM_API_BASE_URL"]
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .concurrent_updates(CONCURRENT_UPDATES)
        .connection_pool_size(CONNECTION_POOL_SIZE)
        .pool_timeout(POOL_TIMEOUT_S)
        .base_url(base)
        .base_file_url(re.sub(r"/bot$", "/file/bot", base))
        .rate_limiter(AIORateLimiter(overall_max_rate=args.rate, max_retries=5))
    )
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
