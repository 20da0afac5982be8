"""A public button acts only on the message it belongs to: its kind, its owner, its chat.

Telegram relays whatever callback data a client sends, for any message id in a chat the presser can
see, so each test here presses a button the message does not carry, or presses on someone else's
message, as a modified client can.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import StaffConfig
from handlers.render import say
from tests.botapi_server import DEFAULT_GROUP_ID, DEFAULT_SUPERGROUP_ID, JSONDict
from tests.telegram_harness import Harness, answered_queries, buttons, make_config, running_bot, sent

USER, OTHER, ADMIN = 1001, 1002, 9001
STAFF = DEFAULT_SUPERGROUP_ID
GROUP = DEFAULT_GROUP_ID
EXPIRED = {say("en", "expired"), say("zh", "expired")}
QUESTION = "What is in the BDA support policy list?"  # answered, with a related button and feedback


@pytest.fixture
async def tg(tmp_path: Path) -> AsyncIterator[Harness]:
    config = replace(make_config(tmp_path), staff=StaffConfig(admins=(ADMIN,), chat_id=STAFF))
    async with running_bot(config) as harness:
        yield harness


def message_in(tg: Harness, chat_id: int) -> JSONDict:
    """The bot's latest message in ``chat_id``, as Telegram would put it in a callback query."""
    message = tg.api.last_message(chat_id)
    assert message is not None
    return message


async def staff_post(tg: Harness, chat_id: int = STAFF) -> JSONDict:
    """A staff post as handlers/staff.py makes one: the bot's message with staff buttons. Sent directly,
    so these tests do not depend on how questions reach the staff chat."""
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Dismiss", callback_data="s:d:1"),
                InlineKeyboardButton("Answer", callback_data="s:p:1:companies"),
            ]
        ]
    )
    await tg.app.bot.send_message(chat_id, "Unanswered question #1 from Li", reply_markup=markup)
    return message_in(tg, chat_id)


def refused(calls: list) -> bool:  # type: ignore[type-arg]
    """Answered with the polite "expired" note, and nothing sent, edited or stored."""
    answers = answered_queries(calls)
    changed = [c for c in calls if c.method not in ("answerCallbackQuery",) and c.status == 200]
    return len(answers) == 1 and answers[0].get("text") in EXPIRED and not changed


@pytest.mark.parametrize("data", ["l:en", "T:en", "t:en:policy", "a:en:companies", "f:1:0:companies"])
async def test_public_buttons_never_act_on_a_staff_post(tg: Harness, data: str) -> None:
    post = await staff_post(tg)
    for presser in (ADMIN, OTHER):
        calls = await tg.click(presser, data, chat_id=STAFF, message=post)
        assert refused(calls), [(c.method, c.params) for c in calls]
    assert message_in(tg, STAFF) == post
    store = tg.services.store
    assert store is not None
    assert await store.feedback_counts() == (0, 0)
    assert await store.get_user_lang(ADMIN) is None


async def test_a_public_button_on_a_staff_post_in_an_admins_private_chat_is_refused(tg: Harness) -> None:
    await tg.send(ADMIN, "/help")
    post = await staff_post(tg, ADMIN)  # as "Open / answer" shows it in the admin's own chat
    assert refused(await tg.click(ADMIN, "l:zh", message=post))
    assert message_in(tg, ADMIN) == post


async def test_even_a_real_menu_in_the_staff_chat_takes_no_public_press(tg: Harness) -> None:
    await tg.send(ADMIN, "/topics", chat_id=STAFF, chat_type="supergroup")
    menu = message_in(tg, STAFF)
    assert ("Policies", "t:en:policy") in buttons(menu)
    assert refused(await tg.click(ADMIN, "t:en:policy", chat_id=STAFF, message=menu))


@pytest.mark.parametrize("data", ["l:zh", "T:en", "t:en:policy", "a:en:english-only"])
async def test_a_button_the_message_does_not_carry_is_refused(tg: Harness, data: str) -> None:
    await tg.send(USER, QUESTION)
    answer = message_in(tg, USER)
    assert data not in [d for _, d in buttons(answer)]
    assert refused(await tg.click(USER, data, message=answer))
    assert message_in(tg, USER) == answer
    store = tg.services.store
    assert store is not None
    assert await store.get_user_lang(USER) is None


async def test_a_forged_vote_on_a_message_without_feedback_buttons_is_not_stored(tg: Harness) -> None:
    await tg.send(USER, "/help")
    assert refused(await tg.click(USER, "f:1:0:companies"))
    store = tg.services.store
    assert store is not None
    assert await store.feedback_counts() == (0, 0)
    # The buttons a message does carry still work.
    await tg.send(USER, QUESTION)
    assert "more than 5,000 companies" in sent(await tg.click(USER, "a:en:companies"))[0]["text"]
    answer = tg.api.sent_messages(USER)[-2]  # the answer to QUESTION, with its feedback buttons
    helpful = next(d for label, d in buttons(answer) if label == "👍 Helpful")
    assert answered_queries(await tg.click(USER, helpful, message=answer))[0]["text"] == "Thank you for the feedback!"
    assert await store.feedback_counts() == (1, 0)


async def test_in_a_private_chat_only_its_user_presses(tg: Harness) -> None:
    await tg.send(USER, "/lang")
    prompt = message_in(tg, USER)
    assert refused(await tg.click(OTHER, "l:zh", chat_id=USER, message=prompt))
    assert message_in(tg, USER) == prompt
    chosen = await tg.click(USER, "l:zh", message=prompt)
    assert sent(chosen, "editMessageText")[0]["text"] == "今后我将用简体中文回答。"


async def test_in_a_group_only_the_asker_changes_their_menu_or_answer(tg: Harness) -> None:
    await tg.send(USER, "/lang", chat_id=GROUP, chat_type="group")
    prompt = message_in(tg, GROUP)
    assert refused(await tg.click(OTHER, "l:zh", chat_id=GROUP, message=prompt))
    store = tg.services.store
    assert store is not None
    assert await store.get_user_lang(OTHER) is None
    assert message_in(tg, GROUP) == prompt
    chosen = await tg.click(USER, "l:zh", chat_id=GROUP, message=prompt)
    assert sent(chosen, "editMessageText")
    assert await store.get_user_lang(USER) == "zh"

    await tg.send(USER, "/topics", chat_id=GROUP, chat_type="group")
    menu = message_in(tg, GROUP)
    assert refused(await tg.click(OTHER, "t:zh:policy", chat_id=GROUP, message=menu))
    assert sent(await tg.click(USER, "t:zh:policy", chat_id=GROUP, message=menu), "editMessageText")


async def test_in_a_group_another_member_cannot_vote_on_or_rewrite_an_answer(tg: Harness) -> None:
    await tg.send(USER, f"@etown_test_bot {QUESTION}", chat_id=GROUP, chat_type="group")
    answer = message_in(tg, GROUP)
    assert answer["reply_to_message"]["from"]["id"] == USER
    helpful = next(d for label, d in buttons(answer) if "Helpful" in label and "Not" not in label)
    for data in (helpful, "T:en", "l:zh"):
        assert refused(await tg.click(OTHER, data, chat_id=GROUP, message=answer))
    assert message_in(tg, GROUP) == answer
    store = tg.services.store
    assert store is not None
    assert await store.feedback_counts() == (0, 0)
    calls = await tg.click(USER, helpful, chat_id=GROUP, message=answer)
    assert answered_queries(calls)[0]["text"] == "Thank you for the feedback!"
    assert await store.feedback_counts() == (1, 0)


async def test_a_press_from_an_inline_mode_message_is_refused(tg: Harness) -> None:
    for data in ("l:zh", "T:en", "t:en:policy", "a:en:companies", "f:1:0:companies"):
        calls = await tg.click(USER, data, inline_message_id="AgAAAFake-inline-id")
        assert refused(calls)
    store = tg.services.store
    assert store is not None
    assert await store.get_user_lang(USER) is None


async def test_a_message_too_old_to_check_works_in_its_own_private_chat_only(tg: Harness) -> None:
    await tg.send(USER, "/lang")
    prompt = message_in(tg, USER)
    # What Telegram sends for an old message: chat and id only, date 0 (an InaccessibleMessage).
    old = {"message_id": prompt["message_id"], "chat": prompt["chat"], "date": 0}
    assert answered_queries(await tg.click(USER, "l:zh", message=old))[0]["text"] == "今后我将用简体中文回答。"
    await tg.send(USER, "/lang", chat_id=GROUP, chat_type="group")
    group_prompt = message_in(tg, GROUP)
    old_group = {"message_id": group_prompt["message_id"], "chat": group_prompt["chat"], "date": 0}
    assert refused(await tg.click(USER, "l:en", chat_id=GROUP, message=old_group))
    store = tg.services.store
    assert store is not None
    assert await store.get_user_lang(USER) == "zh"


async def test_a_refusal_is_logged_at_info_without_the_data(tg: Harness, caplog: pytest.LogCaptureFixture) -> None:
    post = await staff_post(tg)
    with caplog.at_level(logging.INFO, logger="handlers.context"):
        assert refused(await tg.click(OTHER, "l:zh", chat_id=STAFF, message=post))
    (record,) = [r for r in caplog.records if r.name == "handlers.context"]
    assert record.levelno == logging.INFO and not record.exc_info
    assert "in the staff chat" in record.getMessage() and str(OTHER) in record.getMessage()
    assert "l:zh" not in record.getMessage()
