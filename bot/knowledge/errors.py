"""``KnowledgeBaseInvalid``, in a module of its own so that catching it imports nothing else.

The command line names it in ``except`` clauses of every command; defined in ``bot.assistant`` (which
re-exports it) it put the renderer, the loader and the store on the start of ``etown-bot --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.knowledge.model import LoadResult


class KnowledgeBaseInvalid(Exception):
    """The knowledge base has errors; ``result.issues`` says where."""

    def __init__(self, result: LoadResult) -> None:
        super().__init__(f"{len(result.errors)} error(s) in the knowledge base")
        self.result = result
