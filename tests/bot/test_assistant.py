"""Assistant.ask: the reply goes out before its question is written, and neither failure costs the other."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.assistant import Assistant, Knowledge, Reply
from bot.config import MatchingConfig
from bot.storage import Store
from tests.conftest import MINI_KB

ANSWERED = "how many biotech companies in BDA?"
UNKNOWN = "weather forecast for paris tomorrow"  # a question no entry answers


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "log.sqlite3")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def assistant(store: Store) -> Assistant:
    knowledge = Knowledge(MINI_KB, MatchingConfig())
    knowledge.load()
    return Assistant(knowledge, store)


async def written(store: Store) -> None:
    """Wait for the single writes queued so far: a write queued after them lands with or after them."""
    await store.finish_update(0)


async def test_an_answer_goes_out_before_its_question_is_written(assistant: Assistant, store: Store) -> None:
    delivered: list[Reply] = []

    async def deliver(reply: Reply) -> None:
        delivered.append(reply)
        assert reply.question_id is not None
        assert await store.get_question(reply.question_id) is None  # not even queued yet

    reply = await asyncio.wait_for(assistant.ask(ANSWERED, user_id=7, chat_id=7, deliver=deliver), 5)
    assert [d.question_id for d in delivered] == [reply.question_id]
    assert reply.answer is not None and reply.question_id is not None
    await written(store)
    record = await store.get_question(reply.question_id)
    assert record is not None and record.text == ANSWERED and record.status == "answered"


async def test_a_failed_log_write_still_delivers_the_answer(
    assistant: Assistant, store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def locked(*args: object, **kwargs: object) -> asyncio.Future[int]:
        failed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        failed.set_exception(sqlite3.OperationalError("database is locked"))
        return failed

    monkeypatch.setattr(store, "queue_question", locked)
    delivered: list[Reply] = []

    async def deliver(reply: Reply) -> None:
        delivered.append(reply)

    with caplog.at_level(logging.ERROR):
        await assistant.ask(ANSWERED, user_id=7, chat_id=7, deliver=deliver)
        await asyncio.sleep(0)  # the failure is reported when the write ends
    assert len(delivered) == 1 and delivered[0].answer is not None
    assert "could not log a question" in caplog.text


async def test_a_failed_delivery_still_logs_the_question(assistant: Assistant, store: Store) -> None:
    async def deliver(reply: Reply) -> None:
        raise ConnectionError("Telegram is unreachable")

    with pytest.raises(ConnectionError):
        await assistant.ask(ANSWERED, user_id=7, chat_id=7, deliver=deliver)
    await written(store)
    (record,) = await store.recent_questions()
    assert record.text == ANSWERED


async def test_a_hand_off_is_delivered_once_the_question_is_queued_for_staff(
    assistant: Assistant, store: Store
) -> None:
    seen: list[int] = []

    async def deliver(reply: Reply) -> None:
        assert reply.unanswered_id is not None
        seen.append(len(await store.list_unanswered()))

    reply = await assistant.ask(UNKNOWN, user_id=7, chat_id=7, deliver=deliver)
    assert reply.status == "unanswered" and seen == [1]


async def test_without_deliver_ask_logs_first(assistant: Assistant, store: Store) -> None:
    reply = await assistant.ask(ANSWERED, user_id=None, chat_id=None)
    assert reply.question_id is not None
    assert await store.get_question(reply.question_id) is not None


@pytest.fixture
def shipped(store: Store) -> Assistant:
    from bot.config import PACKAGED_FAQ_DIR

    knowledge = Knowledge(PACKAGED_FAQ_DIR, MatchingConfig())
    knowledge.load()
    return Assistant(knowledge, store)


@pytest.mark.parametrize(
    ("message", "status", "topics", "start"),
    [
        ("hello", "smalltalk", True, "Hello!"),
        ("你好", "smalltalk", True, "您好！"),
        ("thanks!", "smalltalk", False, "You're welcome!"),
        ("who are you?", "smalltalk", False, "I'm etown-bot"),
        ("?", "unclear", False, "Sorry, I couldn't find a question"),
        ("asdkjh qwe", "unclear", False, "Sorry, I couldn't find a question"),
        ("嗯", "unclear", False, "抱歉"),
    ],
)
async def test_small_talk_and_unclear_messages_get_their_reply_and_are_never_queued(
    shipped: Assistant, store: Store, message: str, status: str, topics: bool, start: str
) -> None:
    delivered: list[Reply] = []

    async def deliver(reply: Reply) -> None:
        delivered.append(reply)

    reply = await shipped.ask(message, user_id=7, chat_id=7, deliver=deliver)
    assert [d.status for d in delivered] == [status]
    assert reply.answer is None and reply.suggestions == () and reply.unanswered_id is None
    assert reply.text is not None and reply.text.startswith(start) and reply.topics is topics
    await written(store)
    assert reply.question_id is not None
    record = await store.get_question(reply.question_id)
    assert record is not None and record.status == status and record.entry_id is None
    assert await store.list_unanswered() == []  # nothing for staff


async def test_a_greeting_with_a_question_is_answered(shipped: Assistant) -> None:
    reply = shipped.resolve("Hi! How many cell and gene therapy companies are in E-Town?")
    assert reply.status == "answered" and reply.answer is not None and reply.answer.entry_id == "cgt-companies"


async def test_unclear_without_a_smalltalk_file_uses_the_bots_own_words(assistant: Assistant) -> None:
    from bot.words import words

    reply = assistant.resolve("?!")
    assert (reply.status, reply.text, reply.topics) == ("unclear", words("en").rephrase, False)
    assert assistant.resolve("？", lang="zh").text == words("zh").rephrase


@pytest.mark.parametrize("message", ["I want to talk to a human", "转人工"])
async def test_asking_for_a_person_is_answered_and_passed_to_staff(
    shipped: Assistant, store: Store, message: str
) -> None:
    # issue 15: "can I talk to a person" is a hand-off (contact-staff has ``hand_off: true``)
    delivered: list[Reply] = []

    async def deliver(reply: Reply) -> None:
        delivered.append(reply)
        assert reply.unanswered_id is not None  # queued before the answer that says so goes out

    reply = await shipped.ask(message, user_id=7, chat_id=7, deliver=deliver, first_name="Ada")
    assert [d.status for d in delivered] == ["answered"]
    assert reply.answer is not None and reply.answer.entry_id == "contact-staff"
    (item,) = await store.list_unanswered()
    assert (item.id, item.text, item.user_id, item.question_id) == (reply.unanswered_id, message, 7, reply.question_id)
    record = await store.get_question(item.question_id or 0)
    assert record is not None and (record.status, record.entry_id) == ("answered", "contact-staff")


async def test_a_failed_hand_off_says_so_instead_of_promising_a_reply(
    shipped: Assistant, store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.words import words

    async def locked(**_: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(store, "hand_off", locked)
    delivered: list[Reply] = []

    async def deliver(reply: Reply) -> None:
        delivered.append(reply)

    with caplog.at_level(logging.ERROR):
        reply = await shipped.ask("I want to talk to a human", user_id=7, chat_id=7, deliver=deliver)
    assert delivered == [reply]
    assert reply.answer is None and reply.text == words("en").not_logged and reply.unanswered_id is None
