"""The synonym groups of a valid knowledge base, and the normalizer built from them, without building a matcher.

Grouping the staff queue (``etown-bot unanswered list``, ``stats``) needs only the synonyms, but only those of
a knowledge base that loads without errors. Reading and validating the shipped ``faq/`` for them took about
85 ms of that command's start (measured with ``time.perf_counter`` around ``load_knowledge_base``;
benchmarks/README.md, "command-line start"), so with a ``cache_dir`` the synonyms of a knowledge base that
loaded cleanly are kept there, under a digest of everything that decided the load: each ``*.yaml`` file's name
and bytes, the loader's source code and the versions of PyYAML and OpenCC. Any change gives another digest,
hence a full load; a knowledge base with errors is never cached, so it is refused every time, with its issues.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeGuard

import yaml

from bot.knowledge.errors import KnowledgeBaseInvalid
from bot.knowledge.load import entry_files, load_knowledge_base  # light: it imports the validators lazily
from bot.matching.segmentations import load_segmentations
from bot.matching.text import Normalizer

log = logging.getLogger(__name__)

CACHE_VERSION = 1  # bump when what is cached changes: old cache files are then never read
# What decides whether a folder loads and what its synonyms are: the knowledge-base package and ``clean``.
_CODE_FILES: tuple[Path, ...] = (
    *sorted(Path(__file__).resolve().parent.glob("*.py")),
    Path(__file__).resolve().parent.parent / "matching" / "text.py",
)
_MAX_HASHED_BYTES = 64 * 1024 * 1024  # larger than any file the loader accepts (5 MB): left to the full load
_Groups = tuple[tuple[str, ...], ...]


def load_normalizer(directory: Path, cache_dir: Path | None = None) -> Normalizer:
    """The normalizer the matcher of ``directory``'s knowledge base uses (it knows the synonyms), without
    building the matcher: grouping questions by similarity needs only this, and the matcher's index costs
    scikit-learn's import and a TF-IDF fit (about 1 s) on top. Raises ``KnowledgeBaseInvalid``.

    ``cache_dir``: where the synonyms of a valid knowledge base, and the segmentations of the Chinese it is
    given (``Normalizer.segmentations``, to ``save()`` after use), are kept between starts (None: neither).
    """
    normalizer = Normalizer(valid_synonyms(directory, cache_dir))  # what ``Matcher.from_knowledge_base`` builds
    if cache_dir is not None:
        normalizer.segmentations = load_segmentations(cache_dir, normalizer.segmenter_words)
    return normalizer


def valid_synonyms(directory: Path, cache_dir: Path | None = None) -> _Groups:
    """``load_knowledge_base(directory).kb.synonyms``, read from ``cache_dir`` when nothing changed since a
    clean load. Raises ``KnowledgeBaseInvalid`` for a knowledge base with errors."""
    digest = _digest(directory) if cache_dir is not None else None
    path = cache_dir / f"synonyms-{digest}.json" if cache_dir is not None and digest is not None else None
    if path is not None and (cached := _read(path)) is not None:
        return cached
    result = load_knowledge_base(directory)
    if result.kb is None:
        raise KnowledgeBaseInvalid(result, directory)
    # Cached only if no file changed while it loaded: the digest must describe what was validated.
    if path is not None and _digest(directory) == digest:
        _write(path, result.kb.synonyms)
    return result.kb.synonyms


def _digest(directory: Path) -> str | None:
    """A digest of the folder's ``*.yaml`` files and of the loader; None when a file cannot be read as a
    regular file (the full load then says why)."""
    import opencc  # lazy: for its version; ~5 ms, paid only with a cache (python -X importtime)

    h = hashlib.sha256(f"{CACHE_VERSION}\0{yaml.__version__}\0{opencc.__version__}".encode())
    try:
        for code in _CODE_FILES:
            h.update(f"\0{code.name}\0".encode())
            h.update(code.read_bytes())
        for path in entry_files(directory):
            if not _hash_file(h, path):
                return None
    except OSError:
        return None
    return h.hexdigest()[:32]


def _hash_file(h: hashlib._Hash, path: Path) -> bool:
    # Non-blocking, then fstat, like the loader: a FIFO named *.yaml must not hang the command.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode) or status.st_size > _MAX_HASHED_BYTES:
            return False
        data = handle.read(_MAX_HASHED_BYTES + 1)
    if len(data) > _MAX_HASHED_BYTES:
        return False
    h.update(f"\0{path.name}\0{len(data)}\0".encode())
    h.update(data)
    return True


def _read(path: Path) -> _Groups | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as exc:
        log.warning("synonym cache %s unreadable (%s): loading the knowledge base", path, exc)
        return None
    groups = data.get("synonyms") if isinstance(data, dict) else None
    if not _is_groups(groups):
        log.warning("synonym cache %s is not a list of synonym groups: loading the knowledge base", path)
        return None
    return tuple(tuple(group) for group in groups)


def _is_groups(groups: object) -> TypeGuard[list[list[str]]]:
    return isinstance(groups, list) and all(
        isinstance(group, list) and all(isinstance(term, str) for term in group) for group in groups
    )


def _write(path: Path, groups: Iterable[Sequence[str]]) -> None:
    """Keep the synonyms of a clean knowledge base, dropping those of earlier ones."""
    from bot.cachefile import replace_atomically

    text = json.dumps({"synonyms": [list(group) for group in groups]}, ensure_ascii=False)
    replace_atomically(path, lambda handle: handle.write(text.encode("utf-8")), "synonyms-*.json", "synonym cache")
