"""Shared fixtures: the small knowledge base in tests/data/mini_kb and a fixed 'today'."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.knowledge.load import load_knowledge_base
from bot.knowledge.model import KnowledgeBase
from tests.bot_process import Bot
from tests.botapi_server import DEFAULT_TOKEN, FakeBotAPI

DATA = Path(__file__).parent / "data"
MINI_KB = DATA / "mini_kb"
TODAY = dt.date(2026, 12, 3)


@pytest.fixture
def mini_kb() -> KnowledgeBase:
    result = load_knowledge_base(MINI_KB, today=TODAY)
    assert result.kb is not None, [str(i) for i in result.issues]
    return result.kb


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the mini knowledge base."""
    target = tmp_path / "faq"
    shutil.copytree(MINI_KB, target)
    return target


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Bot]:
    """The real bot process (started with ``bot.start()``) against a fresh stand-in Bot API server."""
    with FakeBotAPI(expected_token=DEFAULT_TOKEN) as api:
        running = Bot(api, tmp_path)
        try:
            yield running
        finally:
            running.kill()
