"""The console chat (``etown-bot shell``): small talk and unclear messages get their reply, never a hand-off."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.assistant import Assistant, Knowledge
from bot.config import PACKAGED_FAQ_DIR, MatchingConfig
from bot.shell import Shell
from bot.storage import Store


@pytest.fixture
async def shell(tmp_path: Path) -> AsyncIterator[tuple[Shell, io.StringIO, Store]]:
    store = await Store.open(tmp_path / "log.sqlite3")
    knowledge = Knowledge(PACKAGED_FAQ_DIR, MatchingConfig())
    knowledge.load()
    out = io.StringIO()
    try:
        yield Shell(Assistant(knowledge, store), out), out, store
    finally:
        await store.close()


async def test_a_greeting_shows_the_topics_and_a_number_picks_one(shell: tuple[Shell, io.StringIO, Store]) -> None:
    console, out, store = shell
    await console.handle("你好")
    said = out.getvalue()
    assert said.startswith("您好！") and "主题：" in said and "1. 概况与规模" in said
    await console.handle("1")  # the topic list is the current choice: its questions, in the greeting's language
    listed = out.getvalue().split("请输入编号选择。", 1)[1]
    assert listed.startswith("\n1. ") and "What is" not in listed and "请输入编号选择。" in listed
    assert await store.list_unanswered() == []


async def test_unclear_input_asks_to_rephrase_and_is_not_queued(shell: tuple[Shell, io.StringIO, Store]) -> None:
    console, out, store = shell
    for line in ("7", "???", "asdkjh qwe"):
        await console.handle(line)
    assert out.getvalue().count("Sorry, I couldn't find a question in that.") == 3
    assert await store.list_unanswered() == []


async def test_lang_cycles_through_auto_and_the_three_languages(shell: tuple[Shell, io.StringIO, Store]) -> None:
    console, out, _ = shell
    said = []
    for _ in range(4):
        await console.handle("/lang")
        said.append(out.getvalue().splitlines()[-1])
    # back to auto: said in the language it leaves
    assert said == ["Language set to English.", "语言已切换为简体中文。", "語言已切換為繁體中文。", said[3]]
    assert console.lang is None and said[3].startswith("今後我將按每個問題的語言回答")
    await console.handle("/lang zh-Hant")  # pinned: a Simplified question gets the Traditional answer
    await console.handle("亦庄有多少家生物医药企业？")
    answer = out.getvalue().split("語言已切換為繁體中文。")[-1]
    assert "超過5000家企業" in answer and "超过" not in answer
