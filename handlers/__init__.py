"""Telegram handlers: each module turns Updates into calls on the core and exposes ``register(app)``."""
