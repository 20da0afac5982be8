"""Telegram HTML of staff posts and replies to investors: escaped, and within Telegram's limits."""

from __future__ import annotations

from typing import Any

import pytest
import telegram

from bot.knowledge.model import KnowledgeBase
from bot.matching.matcher import Matcher
from bot.staff import display, posts, reply, suggest
from bot.storage import UserProfile
from handlers import staff_posts
from handlers.ui import MAX_MESSAGE
from tests.bot.staff.items import item
from tests.botapi_server import FakeBotAPI


@pytest.fixture
def matcher(mini_kb: KnowledgeBase) -> Matcher:
    return Matcher.from_knowledge_base(mini_kb)


def reply_html(question: str, text: str, lang: str) -> str:
    """What the investor receives (raises ValueError as ``investor_reply`` does)."""
    return staff_posts.investor_reply_html(reply.investor_reply(question, text, lang))


HOSTILE = '<script>alert("x")</script> & <b>bold</b> &amp; 1 < 2 > 0'


async def send_html(api: FakeBotAPI, chat_id: int, text: str) -> dict[str, Any]:
    """Send through the stand-in server, which parses HTML as strictly as Telegram."""
    async with telegram.Bot(api.token, base_url=api.base_url) as bot:
        await bot.send_message(chat_id, text, parse_mode="HTML")
    sent = api.last_message(chat_id)
    assert sent is not None
    return sent


async def test_staff_post_escapes_everything_and_names_the_asker(mini_kb: KnowledgeBase, matcher: Matcher) -> None:
    question = item(12, HOSTILE, "2026-11-25T10:03:09+00:00", user_id=4242)
    profile = UserProfile(4242, "en", "Li <Wei> & co", "li_invest", "2026-11-25T10:00:00+00:00")
    nearest = suggest.nearest_entries("how many biotech companies", mini_kb, matcher)
    post = posts.build_staff_post(question, profile, nearest)
    assert post.item_id == 12 and post.reason == "unanswered" and post.question == HOSTILE
    assert (post.user_id, post.first_name, post.username) == (4242, "Li <Wei> & co", "li_invest")
    assert post.best is not None and post.best.entry_id == "companies"
    assert "<script>" not in staff_posts.post_html(post) and "&lt;script&gt;" in staff_posts.post_html(post)
    assert "Li &lt;Wei&gt; &amp; co (@li_invest), id 4242" in staff_posts.post_html(post)
    assert "2026-11-25 10:03 UTC" in staff_posts.post_html(post) and "Language: en" in staff_posts.post_html(post)
    assert f"<code>companies</code> {nearest[0].score:.2f}" in staff_posts.post_html(post)

    with FakeBotAPI() as api:
        sent = await send_html(api, -100500, staff_posts.post_html(post))
    text = sent["text"]
    assert HOSTILE in text  # what staff read is exactly what the investor typed
    assert "Li <Wei> & co (@li_invest), id 4242" in text
    assert "1. companies" in text
    assert {"type": "blockquote"}.items() <= next(e for e in sent["entities"] if e["type"] == "blockquote").items()


async def test_staff_post_for_forgotten_or_unknown_users_and_long_questions(
    mini_kb: KnowledgeBase, matcher: Matcher
) -> None:
    anonymous = posts.build_staff_post(item(3, "rents?", "2026-11-25T10:00:00+00:00", user_id=None), None, ())
    assert "identity removed" in staff_posts.post_html(anonymous) and "Nearest entries: none" in staff_posts.post_html(
        anonymous
    )
    no_profile = posts.build_staff_post(item(4, "rents?", "2026-11-25T10:00:00+00:00", user_id=99), None, ())
    assert "From: id 99" in staff_posts.post_html(no_profile)
    username_only = UserProfile(99, None, None, "someone", "x")
    assert "From: @someone, id 99" in staff_posts.post_html(
        posts.build_staff_post(item(4, "q", "x", user_id=99), username_only, ())
    )
    # A profile of somebody else is never shown.
    assert "someone" not in staff_posts.post_html(
        posts.build_staff_post(item(4, "q", "x", user_id=7), username_only, ())
    )
    rejected = posts.build_staff_post(item(5, "q", "x"), None, (), reason="none_of_these")
    assert "None of these" in staff_posts.post_html(rejected)

    huge = "租金<" * 1400  # 4200 characters, each '<' escaped to 4
    long_post = posts.build_staff_post(
        item(6, huge, "2026-11-25T10:00:00+00:00"), None, suggest.nearest_entries("biotech", mini_kb, matcher)
    )
    assert long_post.question == huge
    with FakeBotAPI() as api:
        sent = await send_html(api, -100500, staff_posts.post_html(long_post))
    assert len(sent["text"]) <= 4096 and "…" in sent["text"]


@pytest.mark.parametrize(
    "question",
    ["😀" * 2048, "👩‍💻" * 1000, "租金<&>" * 1000, "x" * 4000, "<" * 4000, "line\n" * 1000],
    ids=["2048-emoji", "zwj-emoji", "cjk-escaped", "ascii", "all-escaped", "many-lines"],
)
async def test_a_staff_post_fits_telegram_with_room_for_the_closing_note(
    question: str, mini_kb: KnowledgeBase, matcher: Matcher
) -> None:
    # The longest name Telegram allows (64 characters, here astral), and the nearest entries shown.
    profile = UserProfile(7, "en", "𝓛" * 64, "u" * 32, "2026-11-25T10:00:00+00:00")
    nearest = tuple(
        suggest.Nearest(f"entry-{n}-" + "x" * 50, 0.5, "😀" * 200) for n in range(suggest.NEAREST)
    ) + suggest.nearest_entries("biotech", mini_kb, matcher)
    post = posts.build_staff_post(item(6, question, "2026-11-25T10:00:00+00:00"), profile, nearest)
    assert post.question == question  # the full text is kept; only the post shows less
    with FakeBotAPI() as api:
        shown = (await send_html(api, -100500, staff_posts.post_html(post)))["text"]
    assert display.utf16_len(shown) <= MAX_MESSAGE - staff_posts.CLOSING_NOTE_UNITS
    head = shown.split("\n", 1)[1]
    left = int(head.split("… (", 1)[1].split(" more characters)", 1)[0])
    kept = head.split("… (", 1)[0]
    assert question.startswith(kept) and len(kept) + left == len(question)
    assert shown.endswith("Admins: reply to this message to answer the investor.")


def test_a_short_question_is_shown_whole() -> None:
    post = posts.build_staff_post(item(1, "😀" * 100, "2026-11-25T10:00:00+00:00"), None, ())
    assert "😀" * 100 + "</blockquote>" in staff_posts.post_html(
        post
    ) and "more characters" not in staff_posts.post_html(post)
    assert display.shorten_utf16("😀😀😀", 6) == "😀😀😀"
    assert display.shorten_utf16("😀" * 50, 40) == "😀" * 9 + "… (41 more characters)"  # 18 + 22 units


async def test_an_emoji_reply_is_measured_as_telegram_counts_it() -> None:
    with pytest.raises(ValueError, match="too long"):
        reply_html("q", "😀" * (reply.MAX_REPLY_UNITS // 2 + 1), "en")
    longest = reply_html("😀" * 5000, "😀" * (reply.MAX_REPLY_UNITS // 2), "zh")
    with FakeBotAPI() as api:
        shown = (await send_html(api, 77, longest))["text"]
    assert display.utf16_len(shown) <= MAX_MESSAGE and "😀…" in shown


async def test_investor_reply_quotes_the_question_escaped() -> None:
    message = reply_html(HOSTILE, "Rents are <about> 3 yuan & up", "en")
    assert "&lt;script&gt;" in message and "Rents are &lt;about&gt; 3 yuan &amp; up" in message
    assert reply_html("问题", "回复", "zh").startswith("<b>北京经开区团队的回复</b>")
    long_question = "x" * 5000
    assert len(reply_html(long_question, "ok", "en")) < 1000
    with pytest.raises(ValueError, match="empty"):
        reply_html("q", "   ", "en")
    with pytest.raises(ValueError, match="at most"):
        reply_html("q", "y" * (reply.MAX_REPLY_UNITS + 1), "en")
    with FakeBotAPI() as api:
        sent = await send_html(api, 77, reply_html(HOSTILE, "a" * reply.MAX_REPLY_UNITS, "en"))
    assert HOSTILE in sent["text"]


def test_the_command_lines_note_in_the_staff_chat() -> None:
    note = reply.CliAnswered(5, "Rents <start> at 2 & up", 77)
    assert staff_posts.outgoing_html(note) == (
        "✅ #5 answered from the command line by 77:\n<blockquote>Rents &lt;start&gt; at 2 &amp; up</blockquote>"
    )
    assert staff_posts.outgoing_html(reply.CliAnswered(5, "ok", None)).startswith(
        "✅ #5 answered from the command line:\n"
    )
