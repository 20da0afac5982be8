"""The console chat (``etown-bot shell``): small talk and unclear messages get their reply, never a hand-off."""

from __future__ import annotations

import io
import sys
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


async def test_out_of_range_numbers_are_answered(shell: tuple[Shell, io.StringIO, Store]) -> None:
    # issue 17: a number outside the list was silently ignored
    console, out, _store = shell
    await console.handle("hello")
    await console.handle("42")
    assert "There is no choice 42: type a number from the list (1-" in out.getvalue()


async def test_why_shows_the_entry_the_confidence_and_the_runners_up(shell: tuple[Shell, io.StringIO, Store]) -> None:
    console, out, _store = shell
    await console.handle("/why")
    assert "Ask a question first" in out.getvalue()
    await console.handle("how many biotech companies are in e-town?")
    await console.handle("/why")
    said = out.getvalue().split("Last question:", 1)[1]
    assert "Status: answered; best entry: biotech-companies (confidence " in said
    ranked = [line for line in said.splitlines() if line.startswith("  ")]
    assert ranked[0].startswith("  1. biotech-companies  ") and len(ranked) >= 2


async def test_questions_from_the_console_are_marked_and_the_reply_is_honest(
    shell: tuple[Shell, io.StringIO, Store],
) -> None:
    # issue 17: they looked like a deleted investor's, and the chat promised a follow-up nobody could send
    from bot.storage import CONSOLE_CHAT_ID

    console, out, store = shell
    await console.handle("what are office rents in zhangjiang?")
    assert "nobody can reply in the console" in out.getvalue()
    (item,) = await store.list_unanswered()
    assert (item.user_id, item.chat_id) == (None, CONSOLE_CHAT_ID)


def test_shell_history_is_kept_between_sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import readline

    from bot import shell as shell_module

    history = tmp_path / "cache" / "shell_history"
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    readline.clear_history()
    assert shell_module._line_editing(history)
    readline.add_history("how many biotech companies?")
    shell_module._save_history(history)
    assert history.stat().st_mode & 0o777 == 0o600
    readline.clear_history()
    assert shell_module._line_editing(history)
    assert readline.get_history_item(1) == "how many biotech companies?"
