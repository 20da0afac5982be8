"""Fixtures of the staff core's tests: the mini knowledge base's matcher and an empty store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.knowledge.model import KnowledgeBase
from bot.matching.matcher import Matcher
from bot.storage import Store


@pytest.fixture
def matcher(mini_kb: KnowledgeBase) -> Matcher:
    return Matcher.from_knowledge_base(mini_kb)


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    opened = await Store.open(tmp_path / "log.sqlite3")
    yield opened
    await opened.close()
