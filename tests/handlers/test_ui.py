"""Message layout helpers: splitting long HTML, button labels, escaping."""

from __future__ import annotations

import random

import pytest

from bot.staff.display import utf16_len
from handlers.render import say
from handlers.ui import button_text, split_html, truncate_html, visible_len
from tests.botapi_server import ApiError, parse_html


def shown(chunk: str) -> str:
    """What Telegram shows for ``chunk``, parsed by the stand-in Bot API (raises on invalid HTML)."""
    text, _ = parse_html(chunk)
    return text


def assert_valid_chunks(chunks: list[str], limit: int) -> None:
    for chunk in chunks:
        assert utf16_len(shown(chunk)) <= limit, chunk[:80]
        assert shown(chunk).strip(), "a message of blanks is refused"


def test_short_text_is_one_chunk() -> None:
    assert split_html("<b>t</b>\nbody") == ["<b>t</b>\nbody"]


def test_long_answer_splits_on_lines_within_the_limit() -> None:
    lines = [f"<b>line {i}</b> " + "word " * 30 for i in range(200)]
    chunks = split_html("\n".join(lines), limit=4096)
    assert len(chunks) > 1
    assert_valid_chunks(chunks, 4096)
    assert "\n".join(chunks) == "\n".join(lines)  # nothing lost, no tag cut


def test_one_huge_line_splits_at_spaces_without_cutting_entities() -> None:
    line = ("a &amp; b &lt;c&gt; " * 600).strip()
    chunks = split_html(line, limit=500)
    assert_valid_chunks(chunks, 500)
    for chunk in chunks:
        assert chunk.count("&") == chunk.count(";")  # every reference whole
    assert " ".join(chunks).split() == line.split()


def test_chinese_without_spaces_and_astral_characters_count_in_utf16() -> None:
    line = "经开区😀" * 3000
    chunks = split_html(line, limit=4096)
    assert_valid_chunks(chunks, 4096)
    assert "".join(chunks) == line


def test_the_limit_counts_visible_text_not_markup() -> None:
    # 2,400 units shown, 4,800 characters of HTML: Telegram takes it as one message.
    text = "<b>" + "&lt;tag&gt; " * 400 + "</b>"
    assert visible_len(text) == 2400
    assert split_html(text) == [text]


def test_a_tag_spanning_lines_is_closed_and_reopened() -> None:
    question = "\n".join(f"line {i} of a long question" for i in range(400))
    text = f"<b>Title</b>\n<blockquote>{question}</blockquote>\nfooter"
    chunks = split_html(text, limit=1000)
    assert len(chunks) > 1
    assert_valid_chunks(chunks, 1000)  # each one parses: no <blockquote> left open or closed twice
    assert all(chunk.count("<blockquote>") == chunk.count("</blockquote>") == 1 for chunk in chunks[1:-1])
    assert " ".join(shown(c) for c in chunks).split() == shown(text).split()


def test_formatting_and_links_survive_a_cut_inside_a_long_line() -> None:
    text = '<a href="https://example.com/report?a=1&amp;b=2"><i>' + "word " * 2000 + "</i></a> end"
    chunks = split_html(text, limit=1000)
    assert len(chunks) > 5
    assert_valid_chunks(chunks, 1000)
    for chunk in chunks[:-1]:
        assert chunk.startswith('<a href="https://example.com/report?a=1&amp;b=2"><i>') and chunk.endswith("</i></a>")
    for chunk in chunks:
        _, entities = parse_html(chunk)
        assert {e["type"] for e in entities} >= {"italic", "text_link"} or chunk == chunks[-1]


def test_references_telegram_does_not_decode_count_as_shown() -> None:
    # Telegram decodes only &lt; &gt; &amp; &quot; and numeric references; "&nbsp;" shows as 6 characters.
    assert visible_len("&nbsp;") == 6 and visible_len("&#128512;&#x27;&amp;") == 4
    assert visible_len("&#99999999;") == len("&#99999999;")  # no such character: shown as written
    chunks = split_html("&nbsp;" * 1000, limit=4096)
    assert_valid_chunks(chunks, 4096)


def test_random_html_always_splits_into_valid_messages() -> None:
    rng = random.Random(12)
    pieces = ["word", "经开区", "😀", "👩‍💻", " ", " ", "\n", "&amp;", "&lt;", "&#x27;", "&#128512;", "x" * 50]
    tags = [("<b>", "</b>"), ("<i>", "</i>"), ("<code>", "</code>"), ('<a href="https://e.x/?q=1&amp;r=2">', "</a>")]
    tags += [("<blockquote>", "</blockquote>"), ("<pre>", "</pre>"), ('<span class="tg-spoiler">', "</span>")]
    for _ in range(60):
        parts: list[str] = []
        depth: list[str] = []
        for _ in range(rng.randint(1, 1500)):
            roll = rng.random()
            if roll < 0.05 and len(depth) < 3:
                opening, closing = rng.choice(tags)
                if closing not in depth and not ("</pre>" in depth or "</code>" in depth):
                    parts.append(opening)
                    depth.append(closing)
            elif roll < 0.1 and depth:
                parts.append(depth.pop())
            else:
                parts.append(rng.choice(pieces))
        text = "".join(parts + depth[::-1])
        if not shown(text).strip():
            continue
        limit = rng.choice([50, 333, 1000, 4096])
        chunks = split_html(text, limit)
        assert_valid_chunks(chunks, limit)
        # Only the blank at each cut is dropped.
        assert "".join("".join(shown(c) for c in chunks).split()) == "".join(shown(text).split())


def test_truncate_keeps_tags_balanced_and_the_text_within_the_limit() -> None:
    text = "<b>Title</b>\n<blockquote>" + "a &amp; b " * 1000 + "</blockquote>\nfooter"
    short = truncate_html(text, 300)
    assert utf16_len(shown(short)) <= 300
    assert short.startswith("<b>Title</b>\n<blockquote>a &amp; b") and short.endswith("…</blockquote>")
    assert truncate_html("fits <i>as is</i>", 300) == "fits <i>as is</i>"
    emoji = truncate_html("<code>" + "😀" * 100 + "</code>", 51)
    assert shown(emoji) == "😀" * 25 + "…"


def test_the_stand_in_refuses_what_a_naive_cut_produces() -> None:
    # The check the tests above rely on: an unclosed tag is refused, as Telegram does.
    with pytest.raises(ApiError):
        parse_html("<blockquote>open")


def test_button_text_and_escaping() -> None:
    assert button_text("x" * 100).endswith("…") and len(button_text("x" * 100)) <= 60
    assert button_text("short") == "short"
    assert "&lt;script&gt;" in say("en", "handed_over", question="<script>")
