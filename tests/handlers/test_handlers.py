"""Every handler and branch, in both languages, through Application.process_update with real Update JSON.

The Bot API is the stand-in server's dispatcher behind a recording BaseRequest, so Telegram's
refusals (bad HTML, over-long text, callback data over 64 bytes) fail these tests as they would fail
in production.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import LimitsConfig, MatchingConfig
from handlers import callbacks
from tests.botapi_server import BOT_USERNAME, DEFAULT_GROUP_ID
from tests.telegram_harness import Harness, answered_queries, buttons, make_config, running_bot, sent

USER, OTHER, ZH_USER = 1001, 1002, 1003
UNKNOWN = "xyzzy plugh frobnicate quux"


@pytest.fixture
async def tg(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(make_config(tmp_path)) as harness:
        yield harness


@pytest.fixture
async def unsure(tmp_path: Path) -> AsyncIterator[Harness]:
    """A bot that never answers outright, so every related question becomes a did-you-mean."""
    async with running_bot(make_config(tmp_path), MatchingConfig(answer_threshold=1.0, suggest_threshold=0.05)) as h:
        yield h


def only_message(calls: list) -> dict:  # type: ignore[type-arg]
    messages = sent(calls)
    assert len(messages) == 1, [c.method for c in calls]
    return messages[0]


# ----------------------------------------------------------------------------- startup


async def test_command_menus_in_english_and_chinese_without_admin_commands(tg: Harness) -> None:
    en = [c["command"] for c in tg.api.commands()]
    zh = tg.api.commands(language_code="zh")
    assert en == ["start", "topics", "lang", "help", "forget"]
    assert [c["command"] for c in zh] == en
    assert any("主题" in c["description"] for c in zh)
    assert not {"unanswered", "stats", "export", "reload", "answer", "dismiss"} & set(en)


# ----------------------------------------------------------------------------- /start /help /lang


async def test_start_in_english_with_topic_buttons(tg: Harness) -> None:
    message = only_message(await tg.send(USER, "/start", first_name="Ada"))
    assert message["text"].startswith("Hello, Ada!")
    assert "Beijing E-Town" in message["text"]
    assert buttons(message) == [("Overview", "t:en:overview"), ("Policies", "t:en:policy")]


async def test_start_in_chinese_for_a_chinese_telegram_client(tg: Harness) -> None:
    message = only_message(await tg.send(ZH_USER, "/start", language_code="zh-hans", first_name="李"))
    assert message["text"].startswith("您好，李！")
    assert buttons(message) == [("概况", "t:zh:overview"), ("政策", "t:zh:policy")]


async def test_help_in_both_languages(tg: Harness) -> None:
    assert "/topics" in only_message(await tg.send(USER, "/help"))["text"]
    assert "使用说明" in only_message(await tg.send(ZH_USER, "/help", language_code="zh-hans"))["text"]
    assert "使用說明" in only_message(await tg.send(OTHER, "/help", language_code="zh-TW"))["text"]  # Traditional


async def test_lang_switch_is_remembered_in_the_database(tg: Harness) -> None:
    prompt = only_message(await tg.send(USER, "/lang"))
    assert buttons(prompt) == [
        ("Auto: the language you write in", "l:auto"),
        ("English", "l:en"),
        ("简体中文", "l:zh"),
        ("繁體中文", "l:zh-Hant"),
    ]
    calls = await tg.click(USER, "l:zh")
    assert answered_queries(calls)[0]["text"] == "今后我将用简体中文回答。"
    assert sent(calls, "editMessageText")[0]["text"] == "今后我将用简体中文回答。"
    store = tg.services.store
    assert store is not None
    assert await store.get_user_lang(USER) == "zh"
    # After a restart the choice comes back from the database ...
    async with running_bot(tg.services.config, api=tg.api) as restarted:
        assert restarted.services.langs == {USER: "zh"}
        assert only_message(await restarted.send(USER, "/start"))["text"].startswith("您好")
        # ... and answers follow the choice even for a question typed in English.
        answer = only_message(await restarted.send(USER, "how many biotech companies in BDA?"))
        assert "超过5000家企业" in answer["text"]


async def test_lang_auto_answers_each_question_in_its_own_language(tg: Harness) -> None:
    # issue 15: /lang zh pinned the language for good, with no way back
    await tg.send(USER, "/lang")
    prompt = tg.api.last_message(USER)  # as Telegram puts it in the callback query
    await tg.click(USER, "l:zh", message=prompt)
    assert "超过5000家企业" in only_message(await tg.send(USER, "how many biotech companies in BDA?"))["text"]
    calls = await tg.click(USER, "l:auto", message=prompt)
    assert answered_queries(calls)[0]["text"].startswith("I'll answer in the language of each question")
    store = tg.services.store
    assert store is not None and await store.get_user_lang(USER) == "auto"
    assert "more than 5,000" in only_message(await tg.send(USER, "how many biotech companies in BDA?"))["text"]
    assert "超过5000家企业" in only_message(await tg.send(USER, "亦庄有多少家生物医药企业？"))["text"]
    traditional = only_message(await tg.send(USER, "亦莊有多少家生物醫藥企業？"))
    assert "超過5000家企業" in traditional["text"] and "超过" not in traditional["text"]
    await tg.click(USER, "l:zh-Hant", message=prompt)  # pinned to Traditional: an English question too
    assert "超過5000家企業" in only_message(await tg.send(USER, "how many biotech companies in BDA?"))["text"]


async def test_in_a_group_the_answer_follows_the_message_not_the_askers_lang(tg: Harness) -> None:
    await tg.send(USER, "/lang")
    await tg.click(USER, "l:zh", message=tg.api.last_message(USER))
    mention = f"@{BOT_USERNAME} how many biotech companies in BDA?"
    answer = only_message(await tg.send(USER, mention, chat_id=DEFAULT_GROUP_ID, chat_type="group"))
    assert "more than 5,000" in answer["text"]


# ----------------------------------------------------------------------------- /topics


async def test_topics_menu_to_question_to_answer(tg: Harness) -> None:
    menu = only_message(await tg.send(USER, "/topics"))
    assert menu["text"] == "Choose a topic:"
    calls = await tg.click(USER, "t:en:policy")
    assert len(answered_queries(calls)) == 1
    edited = sent(calls, "editMessageText")[0]
    assert "Policies" in edited["text"]
    labels = buttons(edited)
    assert ("What is in the support policy list?", "a:en:policy-list") in labels
    assert labels[-1] == ("« Topics", "T:en")
    calls = await tg.click(USER, "a:en:policy-list")
    answer = only_message(calls)
    assert "91 measures (2023)" in answer["text"]
    assert ("Related: How many biotech companies are in E-Town?", "a:en:companies") in buttons(answer)
    back = await tg.click(USER, "T:en", message=int(edited["message_id"]) if "message_id" in edited else None)
    assert len(answered_queries(back)) == 1


async def test_topics_in_chinese(tg: Harness) -> None:
    await tg.send(ZH_USER, "/topics", language_code="zh")
    calls = await tg.click(ZH_USER, "t:zh:overview", language_code="zh")
    edited = sent(calls, "editMessageText")[0]
    assert "概况" in edited["text"]
    assert buttons(edited)[0] == ("亦庄有多少家生物医药企业？", "a:zh:companies")
    assert buttons(edited)[-1] == ("« 主题", "T:zh")


# ----------------------------------------------------------------------------- questions


async def test_english_question_gets_html_answer_with_source_period_and_buttons(tg: Harness) -> None:
    calls = await tg.send(USER, "how many biotech companies in BDA?")
    message = only_message(calls)
    assert message["parse_mode"] == "HTML"
    text = message["text"]
    assert "<b>How many biotech companies are in E-Town?</b>" in text
    assert "more than 5,000 companies" in text
    assert "(October 2025)" in text
    assert 'href="https://www.wam.ae/' in text
    assert "published 2025-10-26" in text
    labels = buttons(message)
    assert [label for label, _ in labels] == ["👍 Helpful", "👎 Not helpful"]
    assert all(data.startswith("f:") and data.endswith(":companies") for _, data in labels)
    store = tg.services.store
    assert store is not None
    (record,) = await store.recent_questions()
    assert (record.user_id, record.status, record.entry_id) == (USER, "answered", "companies")


async def test_chinese_and_traditional_questions_get_answers_in_their_own_script(tg: Harness) -> None:
    simplified = only_message(await tg.send(ZH_USER, "亦庄有多少家生物企业", language_code="zh"))
    assert "超过5000家企业" in simplified["text"] and "（2025年10月）" in simplified["text"]
    assert "来源" in simplified["text"]
    # issue 15: a question in Traditional characters was answered in Simplified
    traditional = only_message(await tg.send(ZH_USER, "經開區有多少家生物技術企業？", language_code="zh-hant"))
    text = traditional["text"]
    assert "超過5000家企業" in text and "（2025年10月）" in text and "來源" in text  # the figure unchanged
    assert "Beijing E-Town builds global hub" in text  # the source title as published
    assert [label for label, _ in buttons(traditional)] == ["👍 有幫助", "👎 沒幫助"]


async def test_answer_with_related_buttons(tg: Harness) -> None:
    message = only_message(await tg.send(USER, "What is in the BDA support policy list?"))
    assert "91 measures" in message["text"]
    assert buttons(message)[0] == ("Related: How many biotech companies are in E-Town?", "a:en:companies")


async def test_unknown_question_is_handed_to_staff_honestly(tg: Harness) -> None:
    message = only_message(await tg.send(USER, UNKNOWN))
    assert "passed your question to our staff" in message["text"]
    assert "reply_markup" not in message
    store = tg.services.store
    assert store is not None
    (item,) = await store.list_unanswered()
    assert (item.user_id, item.chat_id, item.text, item.status) == (USER, USER, UNKNOWN, "new")
    zh = only_message(await tg.send(ZH_USER, "火星上的办公室租金是多少钱一个月", language_code="zh"))
    assert "已转给工作人员" in zh["text"]


@pytest.fixture
async def chatty(tmp_path: Path) -> AsyncIterator[Harness]:
    """The mini knowledge base with the shipped small-talk file."""
    import shutil

    from bot.config import PACKAGED_FAQ_DIR
    from tests.conftest import MINI_KB

    faq = tmp_path / "faq"
    shutil.copytree(MINI_KB, faq)
    shutil.copy(PACKAGED_FAQ_DIR / "smalltalk.yaml", faq / "smalltalk.yaml")
    async with running_bot(make_config(tmp_path, faq=faq)) as harness:
        yield harness


async def test_greetings_get_a_friendly_reply_with_the_topics_and_nothing_goes_to_staff(chatty: Harness) -> None:
    hello = only_message(await chatty.send(USER, "hello!"))
    assert hello["text"].startswith("Hello! I answer questions about Beijing E-Town")
    assert buttons(hello) == [("Overview", "t:en:overview"), ("Policies", "t:en:policy")]
    ni_hao = only_message(await chatty.send(ZH_USER, "你好", language_code="zh"))
    assert ni_hao["text"].startswith("您好！")
    assert buttons(ni_hao) == [("概况", "t:zh:overview"), ("政策", "t:zh:policy")]
    thanks = only_message(await chatty.send(USER, "thanks"))
    assert thanks["text"].startswith("You're welcome!") and "reply_markup" not in thanks
    for junk, asked in (("?", "rephrase"), ("7", "rephrase"), ("asdkjh qwe", "rephrase"), ("嗯", "换个说法")):
        reply = only_message(await chatty.send(USER, junk))
        assert asked in reply["text"] and "reply_markup" not in reply, junk
    store = chatty.services.store
    assert store is not None
    assert await store.list_unanswered() == []  # issue 15: six of thirteen staff items were such messages
    counts = await store.status_counts()
    assert (counts.smalltalk, counts.unclear, counts.total) == (3, 4, 0)


async def test_a_follow_up_is_asked_with_the_chats_last_answer_until_start(tg: Harness) -> None:
    # issue 15: "and in 2021?" after an answer was unanswered or suggested
    only_message(await tg.send(USER, "how many biotech companies in BDA?"))
    follow = only_message(await tg.send(USER, "and in 2023?"))
    assert follow["text"].split("\n", 1)[1].startswith("For 2023, our sources give:")
    assert "more than 4,200 companies (2023)" in follow["text"]
    other = only_message(await tg.send(OTHER, "and in 2023?"))  # another chat has no such context
    assert "For 2023" not in other["text"]
    only_message(await tg.send(USER, "/start"))
    again = only_message(await tg.send(USER, "and in 2023?"))
    assert "For 2023" not in again["text"]


async def test_a_year_without_a_figure_gets_the_nearest_and_goes_to_staff(tg: Harness) -> None:
    message = only_message(await tg.send(USER, "how many biotech companies were in BDA in 2024?"))
    text = message["text"].split("\n", 1)[1]  # after the entry's title
    assert text.startswith("Our sources have no figure for 2024. The nearest they give:")
    assert "more than 4,200 companies (2023)" in text and "more than 5,000 companies (October 2025)" in text
    assert text.rstrip().endswith(
        "I've passed your question to our staff for the figure you asked about; they will reply here."
    )
    assert "reply_markup" not in message  # not an answer to rate
    store = tg.services.store
    assert store is not None
    (item,) = await store.list_unanswered()
    assert item.text == "how many biotech companies were in BDA in 2024?"


async def test_did_you_mean_buttons_then_a_choice(unsure: Harness) -> None:
    message = only_message(await unsure.send(USER, "how many biotech companies"))
    assert message["text"] == "I'm not sure I understood. Did you mean:"
    labels = buttons(message)
    assert 2 <= len(labels) <= 4
    assert labels[-1][0] == "None of these"
    assert labels[-1][1].startswith("n:")
    # issue 17: a choice is noted on the question (p:<lang>:<question>:<entry>), so stats and suggestions see it
    store = unsure.services.store
    assert store is not None
    (question,) = await store.recent_questions()
    pick = f"p:en:{question.id}:companies"
    assert ("How many biotech companies are in E-Town?", pick) in labels
    calls = await unsure.click(USER, pick)
    assert len(answered_queries(calls)) == 1
    assert "more than 5,000 companies" in only_message(calls)["text"]
    (question,) = await store.recent_questions()
    assert question.picked == "companies"
    assert (await store.status_counts()).picked == 1


async def test_none_of_these_queues_the_question_once(unsure: Harness) -> None:
    hostile = "how many biotech companies <script>alert(1)</script> & <b>"
    message = only_message(await unsure.send(USER, hostile))
    none_data = buttons(message)[-1][1]
    calls = await unsure.click(USER, none_data)
    assert len(answered_queries(calls)) == 1
    edited = sent(calls, "editMessageText")[0]
    assert "passed your question to our staff" in edited["text"]
    # The investor's text is echoed escaped: Telegram renders it literally, no tags injected.
    assert "&lt;script&gt;" in edited["text"] and "<script>" not in edited["text"]
    store = unsure.services.store
    assert store is not None
    (item,) = await store.list_unanswered()
    assert item.text == hostile and item.question_id == int(none_data[2:])
    # The buttons are gone with the edit; a second press (a stale client) is answered and queues nothing.
    again = await unsure.click(USER, none_data)
    assert len(answered_queries(again)) == 1
    assert len(await store.list_unanswered()) == 1


async def test_none_of_these_for_someone_elses_question_is_refused(unsure: Harness) -> None:
    message = only_message(await unsure.send(USER, "how many biotech companies"))
    none_data = buttons(message)[-1][1]
    calls = await unsure.click(OTHER, none_data, chat_id=USER, message=int(message.get("message_id", 0)) or None)
    assert answered_queries(calls)[0]["text"].startswith("This button has expired")
    store = unsure.services.store
    assert store is not None
    assert await store.list_unanswered() == []


async def test_did_you_mean_in_chinese(unsure: Harness) -> None:
    message = only_message(await unsure.send(ZH_USER, "经开区生物医药企业有多少", language_code="zh"))
    assert message["text"] == "我不太确定您的意思。您是不是想问："
    assert buttons(message)[-1][0] == "都不是"


async def test_feedback_is_stored_and_the_buttons_go(tg: Harness) -> None:
    message = only_message(await tg.send(USER, "What is in the BDA support policy list?"))
    helpful = next(data for label, data in buttons(message) if label == "👍 Helpful")
    calls = await tg.click(USER, helpful)
    assert answered_queries(calls)[0]["text"] == "Thank you for the feedback!"
    markup = sent(calls, "editMessageReplyMarkup")[0]
    remaining = [b["callback_data"] for row in markup["reply_markup"]["inline_keyboard"] for b in row]
    assert remaining == ["a:en:companies"]
    store = tg.services.store
    assert store is not None
    assert await store.feedback_counts() == (1, 0)
    (question,) = await store.recent_questions()
    rows = await store._fetch("SELECT user_id, question_id, entry_id, helpful FROM feedback")
    assert tuple(rows[0]) == (USER, question.id, "policy-list", 1)


async def test_forged_feedback_for_another_users_question_is_refused(tg: Harness) -> None:
    await tg.send(USER, "What is in the BDA support policy list?")
    store = tg.services.store
    assert store is not None
    (question,) = await store.recent_questions()
    await tg.send(OTHER, "/help")
    calls = await tg.click(OTHER, f"f:0:{question.id}:policy-list")  # not a button of OTHER's message
    assert answered_queries(calls)[0]["text"].startswith("This button has expired")
    assert await store._fetch("SELECT user_id, question_id, helpful FROM feedback") == []


@pytest.mark.parametrize(
    "data",
    [
        "a:en:no-such-entry",
        "a:fr:companies",
        "t:en:no-such-topic",
        "n:999999",
        "n:abc",
        "f:1:0:no-such-entry",
        "f:2:0:companies",
        "l:de",
        "x",
        "a:en:companies\n",
        "日本語のボタン",
    ],
)
async def test_forged_or_stale_buttons_get_a_polite_answer(tg: Harness, data: str) -> None:
    await tg.send(USER, "/help")
    calls = await tg.click(USER, data)
    answers = answered_queries(calls)
    assert len(answers) == 1
    assert answers[0].get("text", "").startswith("This button has expired")
    assert not sent(calls)


# ----------------------------------------------------------------------------- groups


async def test_group_chatter_is_ignored(tg: Harness) -> None:
    calls = await tg.send(USER, "how many biotech companies in BDA?", chat_id=DEFAULT_GROUP_ID, chat_type="group")
    assert calls == []
    assert await tg.send(USER, "/frobnicate", chat_id=DEFAULT_GROUP_ID, chat_type="group") == []
    assert await tg.send(USER, "/start@other_bot", chat_id=DEFAULT_GROUP_ID, chat_type="group") == []


async def test_group_mention_and_reply_are_answered(tg: Harness) -> None:
    calls = await tg.send(
        USER, f"@{BOT_USERNAME} how many biotech companies in BDA?", chat_id=DEFAULT_GROUP_ID, chat_type="group"
    )
    answer = only_message(calls)
    assert "more than 5,000 companies" in answer["text"]
    calls = await tg.send(
        USER,
        "and what is in the support policy list?",
        chat_id=DEFAULT_GROUP_ID,
        chat_type="group",
        reply_to_message=tg.api.last_message(DEFAULT_GROUP_ID),
    )
    assert "91 measures" in only_message(calls)["text"]
    empty = only_message(await tg.send(USER, f"@{BOT_USERNAME}", chat_id=DEFAULT_GROUP_ID, chat_type="group"))
    assert "after mentioning me" in empty["text"]


async def test_group_commands_work(tg: Harness) -> None:
    message = only_message(await tg.send(USER, f"/help@{BOT_USERNAME}", chat_id=DEFAULT_GROUP_ID, chat_type="group"))
    assert "/topics" in message["text"]
    unknown = await tg.send(USER, f"/nope@{BOT_USERNAME}", chat_id=DEFAULT_GROUP_ID, chat_type="group")
    assert "don't know that command" in only_message(unknown)["text"]


# ----------------------------------------------------------------------------- inline mode


async def test_inline_query_offers_matching_articles(tg: Harness) -> None:
    calls = await tg.inline(USER, "biotech companies in BDA")
    (answer,) = sent(calls, "answerInlineQuery")
    results = answer["results"]
    assert 1 <= len(results) <= 10
    assert results[0]["id"] == "companies"
    assert results[0]["type"] == "article"
    assert "more than 5,000" in results[0]["input_message_content"]["message_text"]
    assert results[0]["input_message_content"]["parse_mode"] == "HTML"


async def test_inline_query_empty_and_at_the_length_limit(tg: Harness) -> None:
    (empty,) = sent(await tg.inline(USER, ""), "answerInlineQuery")
    assert {r["id"] for r in empty["results"]} == {"companies", "policy-list", "english-only"}
    (long,) = sent(await tg.inline(USER, ("<b>企业</b> " * 40)[:256]), "answerInlineQuery")
    assert len(long["results"]) <= 10
    (zh,) = sent(await tg.inline(ZH_USER, "亦庄生物医药企业数量", language_code="zh"), "answerInlineQuery")
    assert "超过5000家企业" in zh["results"][0]["input_message_content"]["message_text"]


# ----------------------------------------------------------------------------- other messages


async def test_stickers_and_photos_get_a_text_only_note(tg: Harness) -> None:
    assert "only read text" in only_message(await tg.process(tg.api.sticker_update(USER)))["text"]
    note = only_message(await tg.process(tg.api.photo_update(ZH_USER, language_code="zh")))
    assert "文字" in note["text"]


async def test_edited_messages_and_channel_posts_are_ignored(tg: Harness) -> None:
    await tg.send(USER, "how many biotech companies in BDA?")
    assert await tg.process(tg.api.edited_message_update(USER, "how many companies?")) == []
    assert await tg.process(tg.api.channel_post_update("how many biotech companies in BDA?")) == []


async def test_unknown_command_in_private(tg: Harness) -> None:
    assert "/help" in only_message(await tg.send(USER, "/frobnicate"))["text"]


async def test_long_message_is_matched_truncated_and_logged_up_to_the_cap(tmp_path: Path) -> None:
    config = make_config(tmp_path, limits=LimitsConfig(max_question_chars=1000, max_logged_chars=1500))
    async with running_bot(config) as tg:
        text = "how many biotech companies in BDA? " + "x" * 3900
        assert len(text) <= 4096
        message = only_message(await tg.send(USER, text))
        assert "more than 5,000" in message["text"]
        store = tg.services.store
        assert store is not None
        (record,) = await store.recent_questions()
        assert record.text == text[:1500]


async def test_flood_control_notices_once_then_stays_quiet(tmp_path: Path) -> None:
    async with running_bot(make_config(tmp_path, limits=LimitsConfig(questions_per_minute=3))) as tg:
        for _ in range(3):
            assert len(sent(await tg.send(USER, "how many biotech companies in BDA?"))) == 1
        notice = only_message(await tg.send(USER, "how many biotech companies in BDA?"))
        assert "Please wait about" in notice["text"]
        assert await tg.send(USER, "how many biotech companies in BDA?") == []
        # Other investors are not affected.
        assert len(sent(await tg.send(OTHER, "how many biotech companies in BDA?"))) == 1
        store = tg.services.store
        assert store is not None
        assert await store.count_questions() == 4


# ----------------------------------------------------------------------------- failures


async def test_a_failing_handler_gets_an_apology_and_the_bot_carries_on(
    tg: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("matcher exploded")

    with monkeypatch.context() as patch:
        patch.setattr(tg.services.assistant, "ask", broken)
        with caplog.at_level(logging.ERROR):
            message = only_message(await tg.send(USER, "how many biotech companies in BDA?"))
    assert message["text"] == "Sorry, something went wrong on my side. Please try again in a moment."
    assert "matcher exploded" in caplog.text
    assert "more than 5,000" in only_message(await tg.send(USER, "how many biotech companies in BDA?"))["text"]


async def test_a_failing_button_is_still_answered(tg: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("render exploded")

    await tg.send(USER, "What is in the BDA support policy list?")  # its answer has a "Related" button
    monkeypatch.setattr(tg.services.assistant, "answer", broken)
    calls = await tg.click(USER, "a:en:companies")
    assert answered_queries(calls)[0]["text"].startswith("Sorry, something went wrong")


async def test_a_telegram_error_does_not_stop_the_bot(tg: Harness) -> None:
    tg.api.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
    calls = await tg.send(USER, "how many biotech companies in BDA?")
    assert next(c.status for c in calls if c.method == "sendMessage") == 400
    assert "more than 5,000" in only_message(await tg.send(USER, "how many biotech companies in BDA?"))["text"]


async def test_a_blocked_user_is_not_retried(tg: Harness) -> None:
    tg.api.block_chat(USER)
    calls = await tg.send(USER, "how many biotech companies in BDA?")
    assert [c.status for c in calls] == [403]


async def test_a_locked_database_never_costs_the_answer(
    tg: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def locked(*args: object, **kwargs: object) -> asyncio.Future[int]:
        failed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        failed.set_exception(sqlite3.OperationalError("database is locked"))
        return failed

    store = tg.services.store
    assert store is not None
    monkeypatch.setattr(store, "queue_question", locked)
    with caplog.at_level(logging.ERROR):
        message = only_message(await tg.send(USER, "how many biotech companies in BDA?"))
        await asyncio.sleep(0)  # the failed write is reported when it ends, after the reply
    assert "more than 5,000" in message["text"]
    assert "could not log a question" in caplog.text
    unknown = only_message(await tg.send(USER, UNKNOWN))
    assert "couldn't record your question" in unknown["text"]


def test_every_button_the_bot_makes_fits_in_64_bytes() -> None:
    longest_id = "a" * 48
    for data in (
        callbacks.answer("zh-Hant", longest_id),  # the longest language code
        callbacks.topic("zh-Hant", longest_id),
        callbacks.language("auto"),
        callbacks.feedback(True, 10**17, longest_id),
        callbacks.none_of_these(10**17),
        callbacks.staff("p", 10**17, longest_id[:30]),
    ):
        assert len(data.encode()) <= 64
        assert callbacks.parse(data) is not None
    with pytest.raises(callbacks.CallbackDataTooLong):
        callbacks.answer("en", "a" * 70)
    assert [callbacks.parse(f"a:{lang}:x").lang for lang in callbacks.LANGS] == ["en", "zh", "zh-Hant"]  # type: ignore[union-attr]
    assert callbacks.parse("a:zh-Hans:x") is None and callbacks.parse("l:zh-hant") is None


async def test_telegram_429_is_waited_out_and_retried(tg: Harness) -> None:
    tg.api.fail_next("sendMessage", status=429, retry_after=1, description="Too Many Requests: retry after 1")
    calls = await tg.send(USER, "how many biotech companies in BDA?")
    assert [c.status for c in calls if c.method == "sendMessage"] == [429, 200]
    assert "more than 5,000" in sent(calls)[0]["text"]
