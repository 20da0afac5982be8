"""The real bot (``python -m bot ... run``) with ``AIORateLimiter``'s flood limits turned off.

``bot.app.build_application`` builds ``AIORateLimiter(max_retries=5)``, whose default overall limit is
Telegram's 30 messages per second per bot. This entry point only swaps that constructor for one with
``overall_max_rate=0, group_max_rate=0`` (PTB: 0 disables a limit; 429 retries are kept), then runs the
unchanged CLI, so the end-to-end benchmark can show what the code costs apart from the limit.
Nothing in ``bot/`` or ``handlers/`` is edited.
"""

from __future__ import annotations

import functools
import sys

from telegram.ext import AIORateLimiter

import bot.app
from bot.cli import main

if __name__ == "__main__":
    bot.app.__dict__["AIORateLimiter"] = functools.partial(AIORateLimiter, overall_max_rate=0, group_max_rate=0)
    sys.exit(main())
