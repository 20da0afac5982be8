"""The command line (``etown-bot``): the composition root, the one place where the core and the Telegram
handlers meet (imported lazily, only by the commands that talk to Telegram)."""

from bot.cli.main import main

__all__ = ["main"]
