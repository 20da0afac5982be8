"""The hostile-input corpus (tests/data/hostile.yaml) through the real handlers, and hostile
knowledge-base files reloaded into a running bot."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import DATA, MINI_KB
from tests.handlers.test_staff_handlers import ADMIN, staff_config
from tests.telegram_harness import Harness, answered_queries, make_config, running_bot, sent

CORPUS = yaml.safe_load((DATA / "hostile.yaml").read_text(encoding="utf-8"))
USER = 3001


def _text(item: dict[str, Any]) -> str:
    if "text" in item:
        return str(item["text"])
    long = item["long"]
    text = str(long["unit"]) * int(long["count"])
    return text[: int(long.get("cut", len(text)))]


@pytest.fixture
async def tg(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(make_config(tmp_path)) as harness:
        yield harness


@pytest.mark.parametrize("item", CORPUS["messages"], ids=[m["name"] for m in CORPUS["messages"]])
async def test_hostile_messages_get_a_safe_reply(
    tg: Harness, item: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    text = _text(item)
    assert len(text.encode("utf-16-le")) // 2 <= 4096 or item.get("long")
    with caplog.at_level(logging.ERROR):
        calls = await tg.send(USER, text)
    replies = [c for c in calls if c.method == "sendMessage"]
    assert replies, item["name"]
    assert all(c.status == 200 for c in replies), [c.response for c in replies]  # Telegram would accept it
    assert "failed" not in caplog.text and "Traceback" not in caplog.text
    store = tg.services.store
    assert store is not None
    logged = await store.recent_questions(1)
    if logged:  # what was logged is what was sent (capped), never interpreted
        assert text.startswith(logged[0].text) or " ".join(text.split()).startswith(logged[0].text)
    assert await store.count_questions() <= 1  # the SQL strings did not run


@pytest.mark.parametrize("query", [*CORPUS["inline"], "企" * 256, ("<b>x</b> " * 40)[:256]])
async def test_hostile_inline_queries(tg: Harness, query: str) -> None:
    calls = await tg.inline(USER, query)
    answers = [c for c in calls if c.method == "answerInlineQuery"]
    assert len(answers) == 1 and answers[0].status == 200


@pytest.mark.parametrize("data", CORPUS["callback_data"])
async def test_hostile_callback_data(tg: Harness, data: str) -> None:
    await tg.send(USER, "/help")
    calls = await tg.click(USER, data)
    assert len(answered_queries(calls)) == 1
    assert not sent(calls)


HOSTILE_FILES: dict[str, bytes] = {
    "python tag": b"- !!python/object/apply:os.system ['touch /tmp/etown-pwned']\n",
    "billion laughs": (
        b'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + b"".join(f"a{i}: &a{i} [{','.join(['*a' + str(i - 1)] * 9)}]\n".encode() for i in range(1, 10))
    ),
    "invalid utf-8": b"- id: x\n  answer: {en: \xff\xfe\xfd}\n",
    "deep nesting": b"x: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "50 MB": b"# padding padding padding padding padding padding padding padding padding\n" * 700_000,
}


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
async def test_hostile_knowledge_base_files_keep_the_last_good_version(tmp_path: Path, name: str) -> None:
    faq = tmp_path / "faq"
    shutil.copytree(MINI_KB, faq)
    async with running_bot(staff_config(tmp_path, faq=faq)) as tg:
        (faq / "hostile.yaml").write_bytes(HOSTILE_FILES[name])
        report = sent(await tg.send(ADMIN, "/reload"))[0]["text"]
        assert report.startswith("❌ Reload refused") and "hostile.yaml:" in report, report
        assert not Path("/tmp/etown-pwned").exists()  # noqa: ASYNC240 - a test; nothing else runs meanwhile
        answer = sent(await tg.send(USER, "how many biotech companies in BDA?"))[0]
        assert "more than 5,000" in answer["text"]
