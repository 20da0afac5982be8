"""Reading one YAML file with line numbers, refusing what could hang, crash or mislead.

``read_yaml`` never raises: a file that cannot be read, decoded or parsed comes back as an ``Issue``
with its line. Mappings and lists come back as ``LineDict`` and ``LineList``, which remember the line
of each key and item so that every later message can name it.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn, Protocol, cast

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.error import Mark
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

if yaml.__with_libyaml__:
    from yaml._yaml import CParser

from bot.knowledge.model import Issue

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 32


class LineDict(dict[str, Any]):
    """A YAML mapping, with the line it starts on and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list[Any]):
    """A YAML list, with the line it starts on and the line of each item."""

    line: int = 0
    item_lines: list[int]


def line_of(data: Any, key: str | None = None) -> int:
    """The line of ``key`` in a mapping, else of the mapping or list itself (0 when not known)."""
    if isinstance(data, LineDict):
        return data.key_lines.get(key, data.line) if key else data.line
    return getattr(data, "line", 0)


class _Composer(Composer):
    """Composes nodes from parser events, refusing aliases and deep nesting before anything is built.

    Aliases are refused outright: staff files do not need them, and refusing them defeats
    "billion laughs" bombs before anything is expanded.
    """

    _depth = 0
    # Provided by the parser it is mixed with (PyYAML's or libyaml's).
    check_event: Callable[..., bool]
    peek_event: Callable[[], yaml.Event]

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._refuse("anchors and aliases (*name) are not allowed here")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                self._refuse(f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _refuse(self, problem: str) -> NoReturn:
        # libyaml's marks have the same attributes as PyYAML's (the stubs type them apart).
        raise ComposerError(None, None, problem, cast(Mark, self.peek_event().start_mark))


class _Constructing(SafeConstructor):
    """``yaml.safe_load``'s constructors, but a value they cannot build is a marked error, not a traceback."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            # ``!!int abc``, ``!!bool maybe``, ``!!timestamp x`` or an integer of 5,000 digits (Python
            # refuses to convert over 4,300) end here from deep inside PyYAML's constructors.
            text = node.value if isinstance(node.value, str) else ""
            digits = sum(c.isdigit() for c in text)
            if isinstance(exc, ValueError) and digits > sys.get_int_max_str_digits():
                problem = f"a number of {digits:,} digits is too long (put it in quotes if it is text)"
            else:
                shown = text if len(text) <= 40 else text[:40] + "..."
                problem = f"{shown!r} cannot be read as {node.tag.rsplit(':', 1)[-1]}"
            raise ConstructorError(None, None, problem, node.start_mark) from exc


class _PythonLoader(Reader, Scanner, Parser, _Composer, _Constructing, Resolver):
    """``yaml.safe_load`` semantics, plus line numbers, and refusing aliases, deep nesting and duplicate keys."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _Composer.__init__(self)
        _Constructing.__init__(self)
        Resolver.__init__(self)


class _YamlLoader(Protocol):
    def get_single_data(self) -> Any: ...
    def dispose(self) -> None: ...


_Loader: Callable[[str], _YamlLoader] = _PythonLoader
if yaml.__with_libyaml__:  # else PyYAML was built without libyaml: the same results, slower

    class _LibyamlLoader(_Composer, CParser, _Constructing, Resolver):
        """The same, with libyaml's scanner and parser (the events) under the same Python composer.

        Parsing is the bulk of a reload once validation is linear: a 5.1 MB file of 90,000 phrasings
        took 4.1 s with the pure-Python parser and 0.36 s with libyaml's events and this composer.
        """

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Composer.__init__(self)
            _Constructing.__init__(self)
            Resolver.__init__(self)

    _Loader = _LibyamlLoader


def _construct_map(loader: _Constructing, node: yaml.MappingNode) -> Iterable[LineDict]:
    data = LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise ConstructorError(None, None, "a key must be plain text", key_node.start_mark)
        key = str(key)
        if key in data:
            raise ConstructorError(None, None, f"key '{key}' appears twice", key_node.start_mark)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


def _construct_seq(loader: _Constructing, node: yaml.SequenceNode) -> Iterable[LineList]:
    data = LineList()
    data.line = node.start_mark.line + 1
    data.item_lines = [child.start_mark.line + 1 for child in node.value]
    yield data
    data.extend(loader.construct_object(child, deep=True) for child in node.value)


def _construct_timestamp(loader: _Constructing, node: yaml.ScalarNode) -> Any:
    # An impossible date such as 2024-13-01 stays text, so validation can name it instead of crashing.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


# cast: PyYAML's stubs accept constructors only for its own loader classes.
_Constructing.add_constructor("tag:yaml.org,2002:timestamp", cast(Any, _construct_timestamp))
_Constructing.add_constructor("tag:yaml.org,2002:map", cast(Any, _construct_map))
_Constructing.add_constructor("tag:yaml.org,2002:seq", cast(Any, _construct_seq))

# What YAML accepts (PyYAML's and libyaml's readers both check exactly this set); anything else is
# refused before parsing, so each one gets its line and column instead of a ReaderError.
_NOT_PRINTABLE_RE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# YAML's line breaks, so lines counted here agree with the parser's for the same file.
_LINE_BREAK_RE = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_CONTROL_NAMES = {
    0x07: "bell",
    0x08: "backspace",
    0x0B: "vertical tab",
    0x0C: "form feed",
    0x1B: "escape",
    0x7F: "delete",
    0xFFFE: "not a character",
    0xFFFF: "not a character",
}
_MAX_CHARACTER_LINES = 20  # a file pasted from a PDF may have hundreds; the first ones show the problem
_MAX_CHARACTERS = 1_000


def _decode(raw: bytes, name: str) -> tuple[str | None, list[Issue]]:
    for bom, encoding in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32")):
        if raw.startswith(bom):
            return None, [Issue(name, 1, None, f"the file is saved as {encoding}: save it as UTF-8")]
    for bom in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if raw.startswith(bom):
            return None, [Issue(name, 1, None, "the file is saved as UTF-16: save it as UTF-8")]
    try:
        # A UTF-8 byte-order mark (Windows Notepad writes one) is fine: YAML skips it.
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            Issue(
                name,
                line,
                None,
                f"not valid UTF-8 text (byte 0x{raw[exc.start]:02x} at byte {column} of the line): save the file "
                "as UTF-8 (it may be in GBK or another older encoding)",
            )
        ]


def _character_issues(text: str, name: str) -> list[Issue]:
    """One issue per line holding characters YAML refuses (control characters, NUL, U+FFFE...)."""
    issues: list[Issue] = []
    line, line_start, counted = 1, 0, 0
    found: dict[int, list[Any]] = {}  # line -> [column, first character, how many on the line]
    stopped: int | None = None
    for seen, match in enumerate(_NOT_PRINTABLE_RE.finditer(text)):
        position = match.start()
        for brk in _LINE_BREAK_RE.finditer(text, counted, position):  # each break is counted once: linear
            line, line_start = line + 1, brk.end()
        counted = position
        if line in found and seen < _MAX_CHARACTERS:
            found[line][2] += 1
        elif len(found) < _MAX_CHARACTER_LINES and seen < _MAX_CHARACTERS:
            found[line] = [position - line_start + 1, match.group(), 1]
        else:  # stop here: a binary file would otherwise cost time and memory for every character
            stopped = line
            break
    for line, (column, char, count) in found.items():
        code = f"U+{ord(char):04X}"
        more = f" (and {count - 1} more on this line)" if count > 1 else ""
        if char == "\x00":
            message = (
                f"NUL character ({code}) at column {column}{more}: is this a binary file, or saved as UTF-16? "
                "Save it as UTF-8 text"
            )
        else:
            label = _CONTROL_NAMES.get(ord(char))
            what = f"{code} ({label})" if label else code
            kind = "invisible control character" if unicodedata.category(char) == "Cc" else "character"
            message = (
                f"{kind} {what} at column {column}{more} is not allowed: delete it "
                "(it often comes with text pasted from a PDF or a word processor)"
            )
        issues.append(Issue(name, line, None, message))
    if stopped is not None:
        issues.append(Issue(name, stopped, None, "more such characters from here on (not listed)"))
    return issues


def _character_at(text: str, line: int, column: int) -> str | None:
    lines = _LINE_BREAK_RE.split(text, maxsplit=line + 1)
    return lines[line][column] if line < len(lines) and column < len(lines[line]) else None


# PyYAML's words for the mistakes staff make by hand, in plain words (the same with the C and Python parsers).
_PLAIN_YAML = (
    (
        "mapping values are not allowed",
        'a colon followed by a space inside unquoted text ("Note: ..."): put the '
        "text in quotes, or write '>' after the key and the text on the next lines",
    ),
    ("did not find expected ',' or ']'", "a list in [ ] is not closed with ']', or one of its items needs quotes"),
    ("did not find expected ',' or '}'", "a mapping in { } is not closed with '}', or one of its texts needs quotes"),
    ("found unexpected end of stream", "a quote is opened and never closed"),
    ("found unknown escape character", "a backslash inside double quotes: use single quotes, or write \\\\"),
    (
        "could not find expected ':'",
        "a line has no 'key:' where one is expected, or unquoted text runs over "
        "several lines: put it in quotes or after '>'",
    ),
    ("did not find expected key", "this line is not indented like the lines above it (or its '- ' is missing)"),
    ("did not find expected '-' indicator", "this line is not indented like the list items above it"),
    ("expected <block end>", "this line is not indented like the lines above it"),
    ("found duplicate anchor", "'&' starts an anchor: put the text in quotes"),
    ("found undefined alias", "'*' starts an alias: put the text in quotes"),
)
_ENTRY_ID_RE = re.compile(r"^\s*-\s+id:\s*[\"']?([^\s\"'#]+)")


def _yaml_problem(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str | None, str]:
    """The line, the entry it is in (the last ``- id:`` above it) and a staff-readable message for a syntax
    error, the same with either parser."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    problem = exc.problem or exc.context or "invalid YAML"
    if isinstance(exc, ConstructorError) and "could not determine a constructor" in problem:
        if "2002:merge'" in problem:
            problem = "merge keys (<<) are not allowed: write the keys out"
        else:
            problem = "tags such as !!python/... are not allowed (plain YAML only)"
    elif "exceeded maximum nesting depth" in problem:  # libyaml's own limit, met first in flow style
        problem = f"nested deeper than {MAX_DEPTH} levels"
    elif "tab character" in problem or "cannot start any token" in problem:
        char = _character_at(text, mark.line, mark.column) if mark is not None else None
        if char == "\t" or "tab character" in problem:
            problem = "a tab is used for indentation: indent with spaces"
        elif char is not None:
            problem = f"found character {char!r} that cannot start any token (put the text in quotes)"
    else:
        problem = next((plain for words, plain in _PLAIN_YAML if words in problem), problem)
    entry_id = None
    for row in _LINE_BREAK_RE.split(text, maxsplit=line)[:line]:
        found = _ENTRY_ID_RE.match(row)
        if found:
            entry_id = found[1]
    # Nesting is found wherever a parser gives up (column 35 or 1003 for the same file): no column then.
    where = f" (column {mark.column + 1})" if mark is not None and "nested deeper" not in problem else ""
    return line, entry_id, f"YAML syntax error{where}: {problem}"


def read_yaml(path: Path, name: str) -> tuple[Any, list[Issue]]:
    """Read and parse one file; every problem comes back as an issue with a line, never as an exception."""
    try:
        # Non-blocking, then fstat: a FIFO named *.yaml must not hang the reload, and what is checked is
        # what is read (no race between a stat and the open).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            status = os.fstat(handle.fileno())
            if stat.S_ISDIR(status.st_mode):
                return None, [Issue(name, 1, None, "is a folder, not a file: rename or move it")]
            if not stat.S_ISREG(status.st_mode):
                return None, [Issue(name, 1, None, "is not a regular file (a device, pipe or socket)")]
            raw = handle.read(MAX_FILE_BYTES + 1)  # never more than this, even if the file grows meanwhile
    except IsADirectoryError:
        return None, [Issue(name, 1, None, "is a folder, not a file: rename or move it")]
    except FileNotFoundError:
        return None, [Issue(name, 1, None, "is a link to a file that does not exist (or was just deleted)")]
    except OSError as exc:
        return None, [Issue(name, 1, None, f"cannot read the file: {exc.strerror or exc}")]
    if len(raw) > MAX_FILE_BYTES:
        size = max(len(raw), status.st_size)
        return None, [Issue(name, 1, None, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")]
    text, issues = _decode(raw, name)
    if text is None:
        return None, issues
    issues = _character_issues(text, name)
    if issues:
        return None, issues
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:  # cannot happen after the checks above; kept as a message, not a traceback
        return None, [Issue(name, 1, None, f"YAML error: {exc}")]
    try:
        return loader.get_single_data(), []
    except yaml.MarkedYAMLError as exc:
        line, entry_id, message = _yaml_problem(exc, text)
        return None, [Issue(name, line, entry_id, message)]
    except yaml.YAMLError as exc:
        return None, [Issue(name, 1, None, f"YAML error: {exc}")]
    except RecursionError:
        return None, [Issue(name, 1, None, "YAML error: nested too deeply")]
    finally:
        loader.dispose()
