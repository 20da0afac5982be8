"""``python -m bot`` is ``etown-bot``."""

import sys

from bot.cli import main

sys.exit(main())
