"""The YAML reader: every file that cannot be read, decoded or parsed is a ``file:line`` error."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.knowledge import reader
from bot.knowledge.load import load_knowledge_base
from tests.bot.knowledge.files import add, errors_with_also_broken, issues_of
from tests.conftest import TODAY


def test_yaml_syntax_error_names_line(kb_copy: Path) -> None:
    add(kb_copy, "syntax.yaml", "- id: x\n  questions: {en: [a\n  answer: b\n")
    found = issues_of(kb_copy)
    assert any(line.startswith("faq/syntax.yaml:") and "YAML syntax error" in line for line in found), found


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"- !!python/object/apply:os.system ['echo hacked']\n", "tags such as !!python"),
        (b"a: &a [1, 2]\nb: *a\n", "anchors and aliases"),
        (b"- id: x\n  answer: {en: \xff\xfe}\n", "not valid UTF-8"),
        (b"x: " + b"[" * 100 + b"]" * 100 + b"\n", "nested deeper"),
        (b"- id: a\n  id: b\n", "appears twice"),
    ],
)
def test_hostile_files_give_clear_errors(kb_copy: Path, content: bytes, message: str) -> None:
    (kb_copy / "hostile.yaml").write_bytes(content)
    found = issues_of(kb_copy)
    assert any(line.startswith("faq/hostile.yaml:") and message in line for line in found), found


def test_billion_laughs_is_refused_quickly(kb_copy: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join(['*a' + str(i - 1)] * 9)}]" for i in range(1, 10)]
    (kb_copy / "bomb.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = issues_of(kb_copy)
    assert any("bomb.yaml" in line and "aliases" in line for line in found)


def test_huge_file_is_refused(kb_copy: Path) -> None:
    (kb_copy / "huge.yaml").write_bytes(b"# padding\n" * 600_000)
    assert any("huge.yaml:1" in line and "limit" in line for line in issues_of(kb_copy))


# --------------------------------------------------------------------------- files that cannot be read or parsed
@pytest.fixture(params=["libyaml", "python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run with libyaml's parser (the default) and with PyYAML's pure-Python one (the fallback)."""
    if request.param == "python":
        monkeypatch.setattr(reader, "_Loader", reader._PythonLoader)
    elif not yaml.__with_libyaml__:
        pytest.skip("PyYAML is built without libyaml")
    return str(request.param)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            b"- id: ff\n  questions: {en: [how many\x0c companies]}\n  answer: {en: x}\n",
            "faq/hostile.yaml:2: -: invisible control character U+000C (form feed) at column 28 is not allowed",
            id="form-feed",
        ),
        pytest.param(
            b"- id: soh\n  questions: {en: [a question]}\n  answer: {en: 'x\x01'}\n",
            "faq/hostile.yaml:3: -: invisible control character U+0001 at column 18 is not allowed",
            id="control-character",
        ),
        pytest.param(
            b"- id: esc\n  answer: {en: '\x1b[31mred\x1b[0m'}\n",
            "faq/hostile.yaml:2: -: invisible control character U+001B (escape) at column 17 (and 1 more on this line)",
            id="terminal-escape",
        ),
        pytest.param(
            "- id: c1\n  answer: {en: 'caf\u0080'}\n".encode(),
            "faq/hostile.yaml:2: -: invisible control character U+0080 at column 20",
            id="c1-control",
        ),
        pytest.param(
            "- id: nonchar\n  answer: {en: 'x\ufffe'}\n".encode(),
            "faq/hostile.yaml:2: -: character U+FFFE (not a character) at column 18 is not allowed",
            id="non-character",
        ),
        pytest.param(
            b"- id: nul\n  answer: {en: a\x00b}\n",
            "faq/hostile.yaml:2: -: NUL character (U+0000) at column 17: is this a binary file",
            id="nul-byte",
        ),
        pytest.param(
            b"\x01" * 4_000_000,  # a binary file under the size cap: the first thousand are counted, then it stops
            "faq/hostile.yaml:1: -: invisible control character U+0001 at column 1 (and 999 more on this line)",
            id="binary-file",
        ),
        pytest.param(
            b"- id: latin1\n  questions: {en: [caf\xe9]}\n",
            "faq/hostile.yaml:2: -: not valid UTF-8 text (byte 0xe9 at byte 23 of the line)",
            id="invalid-utf8",
        ),
        pytest.param(
            "- id: utf16\n".encode("utf-16"),
            "faq/hostile.yaml:1: -: the file is saved as UTF-16: save it as UTF-8",
            id="utf16",
        ),
        pytest.param(
            b"- id: tab\n\tanswer: {en: x}\n",
            "faq/hostile.yaml:2: tab: YAML syntax error (column 1): a tab is used for indentation: indent with spaces",
            id="tab-indentation",
        ),
        pytest.param(
            b"- id: tab\n  answer:\n\t- x\n",
            "faq/hostile.yaml:3: tab: YAML syntax error (column 1): a tab is used for indentation: indent with spaces",
            id="tab-before-item",
        ),
        pytest.param(
            b"- id: at\n  answer: @home\n",
            "faq/hostile.yaml:2: at: YAML syntax error (column 11): found character '@' that cannot start any token",
            id="reserved-character",
        ),
        pytest.param(
            b"x: " + b"[" * 200_000 + b"\n",
            "faq/hostile.yaml:1: -: YAML syntax error: nested deeper than 32 levels",
            id="deep-flow-nesting",
        ),
        pytest.param(
            b"".join(b"  " * depth + b"k:\n" for depth in range(2_000)),
            "faq/hostile.yaml:32: -: YAML syntax error: nested deeper than 32 levels",
            id="deep-block-nesting",
        ),
        pytest.param(
            b"- id: big\n  value: " + b"9" * 5_000 + b"\n",
            "faq/hostile.yaml:2: big: YAML syntax error (column 10): a number of 5,000 digits is too long",
            id="huge-number",
        ),
        pytest.param(
            b"- id: tagged\n  verified: !!bool maybe\n",
            "faq/hostile.yaml:2: tagged: YAML syntax error (column 13): 'maybe' cannot be read as bool",
            id="bad-bool-tag",
        ),
        pytest.param(
            b"- id: tagged\n  value: !!int many\n",
            "faq/hostile.yaml:2: tagged: YAML syntax error (column 10): 'many' cannot be read as int",
            id="bad-int-tag",
        ),
        pytest.param(
            b"- id: tagged\n  reviewed: !!timestamp soon\n",
            "faq/hostile.yaml:2: tagged: YAML syntax error (column 13): 'soon' cannot be read as timestamp",
            id="bad-timestamp-tag",
        ),
        pytest.param(
            b"- id: merged\n  <<: {answer: {en: x}}\n",
            "faq/hostile.yaml:2: merged: YAML syntax error (column 3): merge keys (<<) are not allowed",
            id="merge-key",
        ),
        pytest.param(
            b"- id: ipv6\n  questions: {en: [q]}\n  answer: {en: x}\n  source: {title: T, url: 'http://[x', "
            b"published: 2024-01-01}\n",
            "faq/hostile.yaml:4: ipv6: malformed URL 'http://[x'",
            id="malformed-ipv6-url",
        ),
    ],
)
def test_unreadable_content_is_a_file_line_error(kb_copy: Path, parser: str, content: bytes, expected: str) -> None:
    (kb_copy / "hostile.yaml").write_bytes(content)
    errors = errors_with_also_broken(kb_copy)
    assert any(line.startswith(expected) for line in errors), errors


def test_byte_order_marks(kb_copy: Path, parser: str) -> None:
    # UTF-8 with a byte-order mark (Windows Notepad) is fine; UTF-16 and UTF-32 are named.
    add(kb_copy, "notepad.yaml", "\ufeff- id: notepad\n  questions: {en: [saved by notepad]}\n  answer: {en: x}\n")
    result = load_knowledge_base(kb_copy, today=TODAY)
    assert result.kb is not None and "notepad" in result.kb.entries, [str(i) for i in result.errors]
    (kb_copy / "wide.yaml").write_bytes("- id: wide\n".encode("utf-32"))
    assert "faq/wide.yaml:1: -: the file is saved as UTF-32: save it as UTF-8" in errors_with_also_broken(kb_copy)


def test_control_characters_are_listed_per_line_up_to_a_limit(kb_copy: Path) -> None:
    lines = ["- id: pasted", "  answer:", "    en: >"] + [f"      line {i} \x0c with \x0c feeds" for i in range(30)]
    add(kb_copy, "pasted.yaml", "\r\n".join(lines) + "\r\n")  # Windows line ends count as one line each
    errors = [e for e in errors_with_also_broken(kb_copy) if e.startswith("faq/pasted.yaml:")]
    assert len(errors) == 21, errors
    assert errors[0] == (
        "faq/pasted.yaml:4: -: invisible control character U+000C (form feed) at column 14 (and 1 more on this "
        "line) is not allowed: delete it (it often comes with text pasted from a PDF or a word processor)"
    )
    assert errors[19].startswith("faq/pasted.yaml:23: -:")
    assert errors[20] == "faq/pasted.yaml:24: -: more such characters from here on (not listed)"


def test_a_folder_named_like_a_file(kb_copy: Path) -> None:
    (kb_copy / "archive.yaml").mkdir()
    assert "faq/archive.yaml:1: -: is a folder, not a file: rename or move it" in errors_with_also_broken(kb_copy)


def test_a_pipe_named_like_a_file_does_not_hang(kb_copy: Path) -> None:
    os.mkfifo(kb_copy / "pipe.yaml")  # opening it for reading would wait for a writer forever
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(errors_with_also_broken(kb_copy)), daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "loading hangs on a FIFO"
    assert "faq/pipe.yaml:1: -: is not a regular file (a device, pipe or socket)" in errors


def test_broken_links(kb_copy: Path) -> None:
    (kb_copy / "moved.yaml").symlink_to(kb_copy / "nowhere.yaml")
    # Emacs marks a file being edited with a link to nowhere named .#file: not a knowledge-base file.
    (kb_copy / ".#entries.yaml").symlink_to("someone@host.1234:1700000000")
    errors = errors_with_also_broken(kb_copy)
    assert "faq/moved.yaml:1: -: is a link to a file that does not exist (or was just deleted)" in errors
    assert not any(".#entries" in e for e in errors), errors


def _refuse_to_open(monkeypatch: pytest.MonkeyPatch, refused: Path) -> None:
    """Root reads files whatever their mode: make the OS answer as it would anybody else."""
    real_open = os.open

    def fake_open(path: Any, *args: Any, **kwargs: Any) -> int:
        if Path(path) == refused:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)


def test_unreadable_file(kb_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = kb_copy / "secret.yaml"
    add(kb_copy, "secret.yaml", "- id: secret\n")
    secret.chmod(0)
    if os.access(secret, os.R_OK):
        _refuse_to_open(monkeypatch, secret)
    assert "faq/secret.yaml:1: -: cannot read the file: Permission denied" in errors_with_also_broken(kb_copy)


def test_every_hostile_file_reported_at_once(kb_copy: Path) -> None:
    (kb_copy / "a-control.yaml").write_bytes(b"- id: a\n  answer: {en: 'x\x0cy'}\n")
    (kb_copy / "b-latin1.yaml").write_bytes(b"- id: b\n  answer: {en: caf\xe9}\n")
    (kb_copy / "c-folder.yaml").mkdir()
    (kb_copy / "d-tab.yaml").write_bytes(b"- id: d\n\tanswer: x\n")
    errors = errors_with_also_broken(kb_copy)
    for prefix in (
        "faq/a-control.yaml:2: -: ",
        "faq/b-latin1.yaml:2: -: ",
        "faq/c-folder.yaml:1: -: ",
        "faq/d-tab.yaml:2: d: ",
    ):
        assert any(e.startswith(prefix) for e in errors), (prefix, errors)


def test_both_parsers_read_the_packaged_knowledge_base_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import PACKAGED_FAQ_DIR

    default = load_knowledge_base(PACKAGED_FAQ_DIR, today=TODAY)
    monkeypatch.setattr(reader, "_Loader", reader._PythonLoader)
    python = load_knowledge_base(PACKAGED_FAQ_DIR, today=TODAY)
    assert default.kb is not None and python.kb is not None
    assert default.kb.entries == python.kb.entries
    assert [str(i) for i in default.issues] == [str(i) for i in python.issues]
