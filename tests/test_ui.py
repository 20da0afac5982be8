"""Message layout helpers: splitting long HTML, button labels, escaping."""

from __future__ import annotations

from handlers.ui import button_text, say, split_html, utf16_len


def test_short_text_is_one_chunk() -> None:
    assert split_html("<b>t</b>\nbody") == ["<b>t</b>\nbody"]


def test_long_answer_splits_on_lines_within_the_limit() -> None:
    lines = [f"<b>line {i}</b> " + "word " * 30 for i in range(200)]
    chunks = split_html("\n".join(lines), limit=4096)
    assert len(chunks) > 1
    assert all(utf16_len(c) <= 4096 for c in chunks)
    assert "\n".join(chunks) == "\n".join(lines)  # nothing lost, no tag cut


def test_one_huge_line_splits_at_spaces_without_cutting_entities() -> None:
    line = ("a &amp; b &lt;c&gt; " * 600).strip()
    chunks = split_html(line, limit=500)
    assert all(utf16_len(c) <= 500 for c in chunks)
    for chunk in chunks:
        assert chunk.count("&") == chunk.count(";")  # every reference whole
    assert " ".join(chunks).split() == line.split()


def test_chinese_without_spaces_and_astral_characters_count_in_utf16() -> None:
    line = "经开区😀" * 3000
    chunks = split_html(line, limit=4096)
    assert all(utf16_len(c) <= 4096 for c in chunks)
    assert "".join(chunks) == line


def test_button_text_and_escaping() -> None:
    assert button_text("x" * 100).endswith("…") and len(button_text("x" * 100)) <= 60
    assert button_text("short") == "short"
    assert "&lt;script&gt;" in say("en", "handed_over", question="<script>")
