"""Loading ``faq/``: every ``*.yaml`` read, checked, and turned into a ``KnowledgeBase``.

``load_knowledge_base`` never raises for bad content: it returns every problem found as an
``Issue`` (``file:line: entry-id: message``) and a ``KnowledgeBase`` only when there is no error, so a
broken edit can never replace a good knowledge base that is already serving.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.knowledge.model import LoadResult

log = logging.getLogger(__name__)

SPECIAL_FILES = ("topics.yaml", "synonyms.yaml", "sources.yaml", "smalltalk.yaml")


def entry_files(directory: Path) -> list[Path]:
    """Every ``*.yaml`` of a knowledge-base folder, in a stable order.

    Folders, broken links and unreadable files named ``*.yaml`` are listed too, so that loading names them
    instead of skipping them silently; Emacs lock files (``.#name.yaml``, a link to nowhere while a file is
    being edited) are not. Raises ``OSError`` when the folder cannot be listed.
    """
    with os.scandir(directory) as found:
        names = [e.name for e in found if e.name.endswith(".yaml") and not e.name.startswith(".#")]
    return [directory / name for name in sorted(names)]


def load_knowledge_base(directory: Path, today: dt.date | None = None) -> LoadResult:
    """Read and validate every ``*.yaml`` in ``directory``; see ``faq/README.md`` for the format.

    Never raises: whatever is wrong, on disk or inside a file, comes back as an ``Issue``.
    """
    # lazy, like the reader and the validators in _load: the staff's command line imports this module for
    # entry_files alone when the synonyms are cached (the model's dataclasses: ~9 ms, python -X importtime)
    from bot.knowledge.model import Issue, LoadResult

    if not directory.is_dir():
        return LoadResult(None, (Issue(str(directory), 0, None, "knowledge-base folder not found"),))
    try:
        files = entry_files(directory)
    except OSError as exc:
        return LoadResult(None, (Issue(str(directory), 0, None, f"cannot read the folder: {exc.strerror or exc}"),))
    try:
        return _load(directory, files, today or dt.date.today())
    except Exception as exc:  # a bug here must still reach staff as a message (check, startup, /reload)
        log.exception("checking %s failed", directory)
        message = f"internal error while checking the files ({type(exc).__name__}: {exc}); the log has the details"
        return LoadResult(None, (Issue(str(directory), 0, None, message),))


def _name(directory: Path, path: Path) -> str:
    """How messages name a file: with its folder (``faq/entries.yaml``)."""
    try:
        return str(path.relative_to(directory.parent))
    except ValueError:
        return str(path)


_ID_RE = re.compile(r"(?:^|[{,\s])id:\s*[\"']?([A-Za-z0-9-]+)", re.MULTILINE)


def _ids_in(path: Path) -> set[str]:
    """The ids a file that could not be read seems to define: references to them are not reported as unknown
    too, since the file's own error says what to fix (one YAML slip hid 30 entries, each referred to)."""
    from bot.knowledge.reader import MAX_FILE_BYTES

    try:
        status = path.stat()
        # Only a regular file of a readable size: a pipe named *.yaml must not hang the check.
        if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_FILE_BYTES:
            return set()
        return set(_ID_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return set()


def _load(directory: Path, files: list[Path], today: dt.date) -> LoadResult:
    # lazy: the reader and the validators cost ~35 ms to import (python -X importtime), which the staff's
    # command line skips when the synonyms are cached (bot.knowledge.synonyms lists the files with entry_files)
    from bot.knowledge.model import KnowledgeBase, LoadResult
    from bot.knowledge.reader import read_yaml
    from bot.knowledge.validate import Validation

    validation = Validation(today)
    check = validation.check
    parsed: dict[str, tuple[str, Any]] = {}
    for path in files:
        name = _name(directory, path)
        data, problems = read_yaml(path, name)
        check.issues.extend(problems)
        with contextlib.suppress(OSError):  # gone since listed: its read error is reported already
            validation.file_times[name] = path.stat().st_mtime
        if not problems:
            parsed[path.name] = (name, data)
        else:
            validation.unreadable_ids.update(_ids_in(path))
    # Sources and topics first: entries refer to them.
    for special, add in (
        ("sources.yaml", validation.add_sources),
        ("topics.yaml", validation.add_topics),
        ("synonyms.yaml", validation.add_synonyms),
        ("smalltalk.yaml", validation.add_smalltalk),
        ("learned.yaml", validation.add_learned),
    ):
        if special in parsed:
            name, data = parsed.pop(special)
            add(name, data)
    for name, data in parsed.values():
        validation.add_entries(name, data)
    entries = validation.finish()
    if not entries and not any(i.severity == "error" for i in check.issues):
        check.error(str(directory), 0, None, "no entries found (add a *.yaml file with a list of entries)")
    issues = tuple(sorted(check.issues, key=lambda i: (i.severity != "error", i.file, i.line)))
    if any(i.severity == "error" for i in issues):
        return LoadResult(None, issues)
    kb = KnowledgeBase(
        entries=entries,
        topics=tuple(validation.topics),
        sources=validation.sources,
        synonyms=tuple(validation.synonyms),
        directory=directory,
        smalltalk=validation.smalltalk,
    )
    return LoadResult(kb, issues)
