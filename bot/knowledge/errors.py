"""``KnowledgeBaseInvalid``, in a module of its own so that catching it imports nothing else.

The command line names it in ``except`` clauses of every command; defined in ``bot.assistant`` (which
re-exports it) it put the renderer, the loader and the store on the start of ``etown-bot --help``.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from bot.knowledge.model import LoadResult


class KnowledgeBaseInvalid(Exception):
    """The knowledge base has errors; ``result.issues`` says where."""

    def __init__(self, result: LoadResult, directory: Path | None = None) -> None:
        super().__init__(f"{len(result.errors)} error(s) in the knowledge base")
        self.result = result
        self.directory = directory

    @property
    def check_command(self) -> str:
        """The command that checks the folder that failed: the shipped one needs no ``--faq``."""
        from bot.config import PACKAGED_FAQ_DIR

        if self.directory is None or self.directory.resolve() == PACKAGED_FAQ_DIR:
            return "etown-bot check"
        return f"etown-bot check --faq {shlex.quote(str(self.directory))}"
