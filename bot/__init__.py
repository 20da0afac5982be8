"""etown-bot: answers investors' questions about Beijing E-Town (BDA) and its biopharmaceutical industry."""

__version__ = "0.1.0"
