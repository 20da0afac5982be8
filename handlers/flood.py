"""Per-user flood control for every kind of update (filled in by the flood-control change)."""

from __future__ import annotations

from handlers.context import AnyApplication


def register(app: AnyApplication) -> None:
    """Registers the update-level guard (group -1, before every other handler)."""
