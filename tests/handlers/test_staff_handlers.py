"""The staff loop and admin commands in Telegram, in process (recording BaseRequest)."""

from __future__ import annotations

import csv
import io
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Config, MatchingConfig, StaffConfig
from handlers.admin import reload_knowledge
from handlers.staff import post_item
from tests.botapi_server import DEFAULT_SUPERGROUP_ID, FakeBotAPI
from tests.conftest import MINI_KB
from tests.telegram_harness import Harness, answered_queries, buttons, make_config, running_bot, sent

INVESTOR, ZH_INVESTOR, ADMIN, STRANGER = 2001, 2002, 9001, 2666
STAFF = DEFAULT_SUPERGROUP_ID
UNKNOWN = "What is the office rent <b>per m²</b> in Yizhuang & nearby?"
ADMIN_COMMANDS = ["/unanswered", "/answer 1 hello", "/dismiss 1", "/stats", "/export", "/reload"]


def staff_config(tmp_path: Path, faq: Path = MINI_KB) -> Config:
    # The repository's folders are copied: a staff button may teach the bot a phrasing (learned.yaml), which
    # must not reach them. A test's own folder is used as it is (the test edits it).
    if not faq.resolve().is_relative_to(tmp_path.resolve()):
        copy = tmp_path / f"{faq.name}-copy"
        if not copy.exists():
            shutil.copytree(faq, copy)
        faq = copy
    return replace(make_config(tmp_path, faq=faq), staff=StaffConfig(admins=(ADMIN,), chat_id=STAFF))


@pytest.fixture
async def tg(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(staff_config(tmp_path)) as harness:
        yield harness


async def ask_unknown(tg: Harness, user: int = INVESTOR, text: str = UNKNOWN) -> dict:  # type: ignore[type-arg]
    calls = await tg.send(user, text, first_name="Li", username="li_invest")
    posts = [m for m in sent(calls) if int(m["chat_id"]) == STAFF]
    assert len(posts) == 1
    return tg.api.last_message(STAFF) or {}


async def staff_reply(tg: Harness, post: dict, text: str, user: int = ADMIN) -> list:  # type: ignore[type-arg]
    return await tg.send(user, text, chat_id=STAFF, chat_type="supergroup", reply_to_message=post)


async def posted(tg: Harness, text: str = UNKNOWN, user: int = INVESTOR) -> dict:  # type: ignore[type-arg]
    """A question queued for staff and posted to the staff chat with ``post_item`` directly: for tests
    of what staff do with a post, whatever path (and timing) brings questions there."""
    store = tg.services.store
    assert store is not None
    await store.remember_user(user, "Li", "li_invest")
    item_id = await store.add_unanswered(question_id=None, user_id=user, chat_id=user, lang="en", text=text)
    assert await post_item(tg.app.bot, tg.services, STAFF, item_id)
    post = tg.api.last_message(STAFF)
    assert post is not None and post["text"].startswith(f"Unanswered question #{item_id}")
    return post


async def test_asking_for_a_person_is_answered_and_posted_to_staff(tmp_path: Path) -> None:
    # issue 15: "can I talk to a person" is a hand-off; the shipped contact-staff entry has hand_off: true
    from bot.config import PACKAGED_FAQ_DIR

    async with running_bot(staff_config(tmp_path, faq=PACKAGED_FAQ_DIR)) as shipped:
        calls = await shipped.send(INVESTOR, "can I talk to a real person?", first_name="Li", username="li_invest")
        (answer,) = [m for m in sent(calls) if int(m["chat_id"]) == INVESTOR]
        assert "passed your message to the Beijing E-Town investment-promotion staff" in answer["text"]
        assert len([m for m in sent(calls) if int(m["chat_id"]) == STAFF]) == 1
        post = shipped.api.last_message(STAFF)
        assert post is not None and post["text"].startswith("Investor asked for a person #1")
        assert "can I talk to a real person?" in post["text"]
        reply = await staff_reply(shipped, post, "Hello Li, this is Wang from investment promotion.")
        assert any(int(m["chat_id"]) == INVESTOR and "Wang from investment promotion" in m["text"] for m in sent(reply))


async def test_an_unknown_question_reaches_the_staff_chat(tg: Harness) -> None:
    post = await ask_unknown(tg)
    text = post["text"]
    assert text.startswith("Unanswered question #1")
    assert "What is the office rent <b>per m²</b> in Yizhuang & nearby?" in text  # shown literally, not as HTML
    assert "Li (@li_invest), id 2001" in text
    assert "Language: en" in text and "UTC" in text
    assert "Nearest entries:" in text
    labels = buttons(post)
    assert labels[0] == ("Dismiss", "s:d:1")
    assert labels[1][1].startswith("s:p:1:")
    store = tg.services.store
    assert store is not None
    assert await store.item_for_staff_message(STAFF, int(post["message_id"])) == 1


async def test_a_staff_reply_reaches_the_investor_after_a_restart(tmp_path: Path) -> None:
    api = FakeBotAPI()
    config = staff_config(tmp_path)
    async with running_bot(config, api=api) as first:
        post = await ask_unknown(first)
    async with running_bot(config, api=api) as second:  # a new process: only the database remembers
        calls = await staff_reply(second, post, "Rents are negotiated per project; <we> will call you.")
        to_investor = [m for m in sent(calls) if int(m["chat_id"]) == INVESTOR]
        assert len(to_investor) == 1
        text = to_investor[0]["text"]
        assert "Answer from the Beijing E-Town team" in text
        assert "office rent &lt;b&gt;per m²&lt;/b&gt;" in text  # their question, quoted and escaped
        assert "&lt;we&gt; will call you" in text
        confirmation = [m for m in sent(calls) if int(m["chat_id"]) == STAFF]
        assert confirmation[0]["text"].startswith("✓ #1 answered by Tester")
        store = second.services.store
        assert store is not None
        item = await store.get_unanswered(1)
        assert item is not None
        assert (item.status, item.replied_by) == ("answered", ADMIN)
        again = await staff_reply(second, post, "second answer")
        assert "already answered" in sent(again)[0]["text"]


async def test_a_blocked_investor_leaves_the_item_open(tg: Harness) -> None:
    post = await ask_unknown(tg)
    tg.api.block_chat(INVESTOR)
    calls = await staff_reply(tg, post, "Here is the answer")
    assert "has blocked the bot" in sent(calls)[-1]["text"]
    store = tg.services.store
    assert store is not None
    item = await store.get_unanswered(1)
    assert item is not None and item.status == "new" and item.delivery_error


async def test_none_of_these_is_posted_to_staff(tmp_path: Path) -> None:
    config = staff_config(tmp_path)
    async with running_bot(config, MatchingConfig(answer_threshold=1.0, suggest_threshold=0.05)) as tg:
        calls = await tg.send(INVESTOR, "how many biotech companies")
        none_data = buttons(sent(calls)[0])[-1][1]
        await tg.click(INVESTOR, none_data)
        post = tg.api.last_message(STAFF)
        assert post is not None and post["text"].startswith("No suggestion fitted")


async def test_answer_with_an_entry_sends_its_answer_and_the_phrasing_to_add(tg: Harness) -> None:
    post = await ask_unknown(tg, text="how much do biotech firms pay for rent")
    phrase = next(data for _, data in buttons(post) if data.startswith("s:p:"))
    calls = await tg.click(ADMIN, phrase, chat_id=STAFF, message=post)
    investor = [m for m in sent(calls) if int(m["chat_id"]) == INVESTOR]
    assert investor and "Answer from the Beijing E-Town team" in investor[0]["text"]
    staff = [m for m in sent(calls) if int(m["chat_id"]) == STAFF]
    # issue 17: the question is learned by itself (faq/learned.yaml), checked, live at the next reload
    assert "is now one of its phrasings (faq/learned.yaml)" in staff[-1]["text"]
    edited = sent(calls, "editMessageText")[0]
    assert "Answered with" in edited["text"] and "reply_markup" not in edited
    learned = tg.services.knowledge.directory / "learned.yaml"
    assert "how much do biotech firms pay for rent" in learned.read_text(encoding="utf-8")
    await reload_knowledge(tg.services)
    again = await tg.send(ZH_INVESTOR, "how much do biotech firms pay for rent")
    assert not [m for m in sent(again) if int(m["chat_id"]) == STAFF]  # answered, not queued
    assert "5,000" in next(m for m in sent(again) if int(m["chat_id"]) == ZH_INVESTOR)["text"]
    # Undo: the button under the confirmation removes what was learned.
    confirmation = tg.api.last_message(STAFF)
    assert confirmation is not None
    undo = next(data for _, data in buttons(confirmation) if data.startswith("s:x:"))
    calls = await tg.click(ADMIN, undo, chat_id=STAFF, message=confirmation)
    assert "the phrasing learned from it is removed" in sent(calls)[-1]["text"]
    assert not learned.exists()


async def test_dismiss_button_and_commands(tg: Harness) -> None:
    post = await ask_unknown(tg)
    calls = await tg.click(ADMIN, "s:d:1", chat_id=STAFF, message=post)
    assert answered_queries(calls)[0]["text"] == "#1 dismissed."
    assert "Dismissed by Tester" in sent(calls, "editMessageText")[0]["text"]
    await ask_unknown(tg, text="Do you have a hotline phone number?")
    reply = sent(await tg.send(ADMIN, "/dismiss 2"))[0]
    assert reply["text"].startswith("#2 dismissed by Tester")
    assert "not an open question" in sent(await tg.send(ADMIN, "/dismiss 2"))[0]["text"]


async def test_unanswered_groups_and_answer_command(tg: Harness) -> None:
    await ask_unknown(tg, text="What are office rents in Yizhuang?")
    await ask_unknown(tg, user=ZH_INVESTOR, text="What are the office rents in Yizhuang?")
    await ask_unknown(tg, text="Is there a hotline phone number?")
    listing = sent(await tg.send(ADMIN, "/unanswered"))[0]
    assert "3 in 2 group(s)" in listing["text"]
    assert "asked 2×" in listing["text"]
    open_button = buttons(listing)[0][1]
    assert open_button.startswith("s:o:")
    opened = await tg.click(ADMIN, open_button)
    assert sent(opened)[0]["text"].startswith("<b>Unanswered question #")
    calls = await tg.send(ADMIN, "/answer 3 Please call the investment office.")
    assert next(m["text"] for m in sent(calls) if int(m["chat_id"]) == ADMIN).startswith("✓ #3 answered")
    assert "Please call the investment office." in next(m for m in sent(calls) if int(m["chat_id"]) == INVESTOR)["text"]
    assert "Usage" in sent(await tg.send(ADMIN, "/answer"))[0]["text"]
    dismiss_group = buttons(listing)[1][1]
    assert dismiss_group.startswith("s:g:")
    calls = await tg.click(ADMIN, dismiss_group)
    assert answered_queries(calls)[0]["text"] == "2 question(s) dismissed."


async def test_stats_sends_a_table_and_a_png_chart(tg: Harness) -> None:
    await tg.send(INVESTOR, "how many biotech companies in BDA?")
    await ask_unknown(tg)
    calls = await tg.send(ADMIN, "/stats")
    table = sent(calls)[0]["text"]
    assert "24 h" in table and "Open questions: 1" in table
    (upload,) = tg.api.uploads(ADMIN)
    assert upload.data.startswith(b"\x89PNG\r\n\x1a\n")


async def test_export_is_a_csv_that_parses_with_formulas_neutralised(tg: Harness) -> None:
    await tg.send(INVESTOR, '=HYPERLINK("http://evil","x") office rent')
    await tg.send(INVESTOR, "how many biotech companies in BDA?")
    await tg.send(ADMIN, "/export")
    (upload,) = tg.api.uploads(ADMIN)
    assert upload.filename is not None and upload.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(upload.data.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert rows[0]["text"].startswith("'=HYPERLINK")
    assert "not a date" in sent(await tg.send(ADMIN, "/export yesterday"))[0]["text"]


async def test_reload_refuses_a_broken_file_and_keeps_answering(tmp_path: Path) -> None:
    faq = tmp_path / "faq"
    shutil.copytree(MINI_KB, faq)
    async with running_bot(staff_config(tmp_path, faq=faq)) as tg:
        (faq / "broken.yaml").write_text("- id: broken\n  questions: {en: [oops\n", encoding="utf-8")
        report = sent(await tg.send(ADMIN, "/reload"))[0]["text"]
        assert report.startswith("❌ Reload refused")
        assert "broken.yaml:" in report
        answer = sent(await tg.send(INVESTOR, "how many biotech companies in BDA?"))[0]
        assert "more than 5,000" in answer["text"]
        (faq / "broken.yaml").write_text(
            "- id: office-hours\n  questions: {en: ['When is the service centre open?', service centre hours,"
            " opening hours of the office, when can I visit]}\n  answer: {en: Weekdays.}\n  source: s0\n",
            encoding="utf-8",
        )
        report = sent(await tg.send(ADMIN, "/reload"))[0]["text"]
        assert report.startswith("✅ Knowledge base reloaded") and "added: office-hours" in report


async def test_strangers_get_not_available_for_every_admin_command_and_button(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    post = await ask_unknown(tg)
    with caplog.at_level(logging.WARNING):
        for command in ADMIN_COMMANDS:
            reply = sent(await tg.send(STRANGER, command))
            assert [m["text"] for m in reply] == ["This command is not available."], command
        for data in ("s:d:1", "s:g:1", "s:o:1", "s:u:1", f"s:p:1:{buttons(post)[1][1].split(':')[-1]}"):
            calls = await tg.click(STRANGER, data, chat_id=STAFF, message=post)
            assert answered_queries(calls)[0]["text"] == "This command is not available."
            assert not sent(calls)
        # An admin in some other group is refused too.
        other_group = await tg.send(ADMIN, "/stats", chat_id=-4_000_000_009, chat_type="group")
        assert sent(other_group)[0]["text"] == "This command is not available."
    assert caplog.text.count("refused") >= len(ADMIN_COMMANDS) + 6
    store = tg.services.store
    assert store is not None
    item = await store.get_unanswered(1)
    assert item is not None and item.status == "new"


async def test_forget_removes_the_users_rows(tg: Harness) -> None:
    await tg.send(INVESTOR, "how many biotech companies in BDA?")
    await ask_unknown(tg)
    await tg.send(OTHER_INVESTOR, "how many biotech companies in BDA?")
    calls = await tg.send(INVESTOR, "/forget")
    reply = sent(calls)[0]
    assert "deleted 2 question(s)" in reply["text"]
    rewritten = sent(calls, "editMessageText")[0]
    assert "identity removed" in rewritten["text"] and "li_invest" not in rewritten["text"]
    store = tg.services.store
    assert store is not None
    remaining = await store.recent_questions()
    assert [q.user_id for q in remaining] == [OTHER_INVESTOR]
    item = await store.get_unanswered(1)
    assert item is not None and item.user_id is None and item.text == UNKNOWN
    post = tg.api.last_message(STAFF)
    assert post is not None
    calls = await staff_reply(tg, post, "hello")
    assert "deleted their data" in sent(calls)[-1]["text"]


OTHER_INVESTOR = 2003


# --- only admins speak for staff (issue 12, point 7)

MEMBER = 2777  # in the staff chat, but not in staff.admins


async def test_a_non_admin_reply_in_the_staff_chat_is_not_delivered(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    post = await posted(tg)
    with caplog.at_level(logging.INFO):
        calls = await staff_reply(tg, post, "Send your passport to evil@example.com", user=MEMBER)
    assert not [m for m in sent(calls) if int(m["chat_id"]) == INVESTOR]
    assert not sent(calls)  # staff chatter: the bot stays quiet (the post says only admins answer)
    store = tg.services.store
    assert store is not None
    item = await store.get_unanswered(1)
    assert item is not None and (item.status, item.reply) == ("new", None)
    assert "refused staff reply" in caplog.text and str(MEMBER) in caplog.text
    assert "passport" not in caplog.text and "evil@example.com" not in caplog.text
    # The same post still takes an admin's answer.
    calls = await staff_reply(tg, post, "Rents are negotiated per project.")
    assert [m["text"] for m in sent(calls) if int(m["chat_id"]) == INVESTOR]


async def test_a_staff_chat_member_gets_no_staff_command_or_button(tg: Harness) -> None:
    post = await posted(tg)
    for command in ADMIN_COMMANDS:
        reply = sent(await tg.send(MEMBER, command, chat_id=STAFF, chat_type="supergroup"))
        assert [m["text"] for m in reply] == ["This command is not available."], command
    entry = buttons(post)[1][1].split(":")[-1]
    for data in ("s:d:1", "s:g:1", "s:o:1", "s:u:1", f"s:p:1:{entry}"):
        calls = await tg.click(MEMBER, data, chat_id=STAFF, message=post)
        assert answered_queries(calls)[0]["text"] == "This command is not available."
        assert not sent(calls) and not sent(calls, "editMessageText")
    store = tg.services.store
    assert store is not None
    item = await store.get_unanswered(1)
    assert item is not None and item.status == "new"


async def test_a_private_reply_to_a_staff_post_needs_a_current_admin(tmp_path: Path) -> None:
    api = FakeBotAPI()
    config = staff_config(tmp_path)
    async with running_bot(config, api=api) as first:
        await posted(first)
        await first.send(ADMIN, "/unanswered")
        opened = sent(await first.click(ADMIN, "s:o:1"))  # the post, in the admin's private chat
    demoted = replace(config, staff=StaffConfig(admins=(), chat_id=STAFF))
    async with running_bot(demoted, api=api) as second:
        post = api.last_message(ADMIN)
        assert post is not None and post["text"].startswith("Unanswered question #1") and opened
        calls = await second.send(ADMIN, "Send your passport to evil@example.com", reply_to_message=post)
        assert [m["text"] for m in sent(calls)] == ["This command is not available."]
        store = second.services.store
        assert store is not None
        item = await store.get_unanswered(1)
        assert item is not None and item.status == "new"


# --- staff posts within Telegram's limit (issue 12, point 14)


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def test_a_question_of_2048_emoji_reaches_the_staff_chat_and_closes(tg: Harness) -> None:
    question = "😀" * 2048  # 2,048 characters, 4,096 UTF-16 units: Telegram's whole limit
    post = await posted(tg, question)
    assert units(post["text"]) <= 4096 and "… (" in post["text"] and "more characters)" in post["text"]
    store = tg.services.store
    assert store is not None
    item = await store.get_unanswered(1)
    assert item is not None and item.text == question  # the full question is kept
    calls = await tg.click(ADMIN, "s:d:1", chat_id=STAFF, message=post)
    (edited,) = sent(calls, "editMessageText")
    closed = next(m for m in tg.api.sent_messages(STAFF) if m["message_id"] == post["message_id"])
    assert "reply_markup" not in edited and units(closed["text"]) <= 4096
    note = closed["text"].rsplit("\n\n", 1)[1]
    assert note.startswith(f"Dismissed by Tester (@user{ADMIN}) at ") and note.endswith(" UTC")
    assert closed["text"].startswith(post["text"].rsplit("\n", 1)[0])  # the post itself is unchanged


@pytest.mark.parametrize("verb", ["d", "p"])
async def test_closing_a_full_post_keeps_its_html_valid_and_the_note(tg: Harness, verb: str) -> None:
    """A post that already fills the limit (as posts made before this check did): closing it shortens
    the post, never the note, and never cuts a tag (a question over several lines spans them)."""
    real = await posted(tg, "how much do biotech firms pay for rent")
    entry = next(data for _, data in buttons(real) if data.startswith("s:p:")).split(":")[-1]
    lines = [f"line {n}: rent &amp; <b>fees</b> 😀" for n in range(200)]  # 25 to 27 units each
    while (
        units(
            "Unanswered question #1\n" + "\n".join(lines).replace("&amp;", "&").replace("<b>", "").replace("</b>", "")
        )
        > 4090
    ):
        lines.pop()  # what Telegram takes at most: the note cannot fit too
    full = "<b>Unanswered question #1</b>\n<blockquote>" + "\n".join(lines) + "</blockquote>"
    message = await tg.app.bot.send_message(STAFF, full, parse_mode="HTML")
    store = tg.services.store
    assert store is not None
    await store.link_staff_message(STAFF, message.message_id, 1)
    legacy = tg.api._lookup_message(STAFF, message.message_id)
    assert 4096 - 60 < units(legacy["text"]) <= 4096
    calls = await tg.click(ADMIN, f"s:{verb}:1:{entry}" if verb == "p" else "s:d:1", chat_id=STAFF, message=legacy)
    assert [c.status for c in calls if c.method == "editMessageText"] == [200]
    closed = tg.api._lookup_message(STAFF, message.message_id)
    note = "Dismissed by Tester" if verb == "d" else f"Answered with {entry} by Tester"
    assert closed["text"].rsplit("\n\n", 1)[1].startswith(note) and closed["text"].endswith(" UTC")
    assert units(closed["text"]) <= 4096 and closed["text"].startswith("Unanswered question #1\nline 0: rent & ")
    assert any(e["type"] == "blockquote" for e in closed.get("entities", []))


# --- odd admin arguments get the usage line (issue 12, point 15)


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ("/dismiss ²", "Usage: /dismiss ID"),
        ("/dismiss 99999999999999999999999", "Usage: /dismiss ID"),
        ("/dismiss 9223372036854775808", "Usage: /dismiss ID"),  # 2^63: beyond SQLite's integers
        ("/dismiss 0", "Usage: /dismiss ID"),
        ("/dismiss -3", "Usage: /dismiss ID"),
        ("/dismiss １２", "Usage: /dismiss ID"),  # full-width digits: int() would take them
        ("/dismiss 1 2", "Usage: /dismiss ID"),
        ("/answer 99999999999999999999999 hi", "Usage: /answer ID your reply to the investor"),
        ("/answer abc", "Usage: /answer ID your reply to the investor"),
        ("/answer ² hello", "Usage: /answer ID your reply to the investor"),
        ("/answer 0 hello", "Usage: /answer ID your reply to the investor"),
        ("/export 0001-01-01 9999-12-31", "Usage: /export [YYYY-MM-DD] [YYYY-MM-DD]"),
        ("/export 2026-01-01 9999-12-31", "Usage: /export [YYYY-MM-DD] [YYYY-MM-DD]"),
        ("/export 2026-13-45", "Usage: /export [YYYY-MM-DD] [YYYY-MM-DD]"),
        ("/export ２０２６-01-01", "Usage: /export [YYYY-MM-DD] [YYYY-MM-DD]"),
        ("/export 2026-01-01 2026-02-01 2026-03-01", "Usage: /export [YYYY-MM-DD] [YYYY-MM-DD]"),
        ("/unanswered -1", "Usage: /unanswered [PAGE]"),
        ("/unanswered 99999999999999999999", "Usage: /unanswered [PAGE]"),
        ("/unanswered ²", "Usage: /unanswered [PAGE]"),
        ("/unanswered two", "Usage: /unanswered [PAGE]"),
    ],
)
async def test_odd_admin_arguments_get_the_usage_line(
    tg: Harness, caplog: pytest.LogCaptureFixture, command: str, usage: str
) -> None:
    await posted(tg)
    with caplog.at_level(logging.WARNING):
        replies = sent(await tg.send(ADMIN, command))
    assert len(replies) == 1 and usage in replies[0]["text"], replies
    assert "went wrong" not in replies[0]["text"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    store = tg.services.store
    assert store is not None
    item = await store.get_unanswered(1)
    assert item is not None and item.status == "new"
    assert not [m for m in sent(await tg.send(ADMIN, "/stats")) if "went wrong" in m["text"]]  # still serving


async def test_edge_ids_and_dates_that_are_valid_are_taken(tg: Harness) -> None:
    await posted(tg)
    reply = sent(await tg.send(ADMIN, "/dismiss 9223372036854775807"))[0]["text"]  # 2^63 - 1: the largest id
    assert reply == "#9223372036854775807 is not an open question."
    assert "no queued question" in sent(await tg.send(ADMIN, "/answer 9223372036854775807 hi"))[0]["text"]
    assert sent(await tg.send(ADMIN, "/dismiss #1"))[0]["text"].startswith("#1 dismissed by Tester")
    await tg.send(ADMIN, "/export 2000-01-01 2100-12-31")
    (upload,) = tg.api.uploads(ADMIN)
    assert upload.filename == "etown-questions-2000-01-01-to-2100-12-31.csv"
    assert sent(await tg.send(ADMIN, "/unanswered 9223372036854775807"))[0]["text"] == "No open questions. 🎉"


async def test_answer_command_with_an_entry_and_learn(tg: Harness) -> None:
    # issue 17: /answer ID --entry ENTRY [--learn], as the button and the command line do
    await ask_unknown(tg, text="tally of life-science firms in the zone")
    calls = await tg.send(ADMIN, "/answer 1 --entry companies --learn")
    investor = [m for m in sent(calls) if int(m["chat_id"]) == INVESTOR]
    assert investor and "more than 5,000" in investor[0]["text"]
    assert "is now one of its phrasings" in next(m["text"] for m in sent(calls) if int(m["chat_id"]) == ADMIN)
    assert (tg.services.knowledge.directory / "learned.yaml").exists()
    await ask_unknown(tg, text="another question nobody answers here")
    calls = await tg.send(ADMIN, "/answer 2 --entry companies")
    assert "✓ #2: the investor has the answer of companies." in sent(calls)[-1]["text"]
    assert "Usage" in sent(await tg.send(ADMIN, "/answer 2 --entry"))[0]["text"]
