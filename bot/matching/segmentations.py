"""jieba's segmentations of the Chinese in the staff queue, kept between runs of the command line.

Grouping the queue (``etown-bot unanswered list``, ``stats``) segments each Chinese question, and building
jieba's segmenter for that took ~100 ms of the command's start (its dictionary; ``time.perf_counter`` around
``group_items``, benchmarks/README.md, "command-line start"), more than everything else the command does.
With the segmentations of the last run kept in ``cache_dir``, a queue whose Chinese questions were all seen
before groups without building it; any new one builds it, as before.

What is stored holds no text: each run of Chinese characters is named by its SHA-256, with the lengths of its
words. The file is named by a digest of what decides a segmentation: the words taught from the synonyms, the
installed rjieba (its files' sizes and times) and this code; and it keeps only the runs of the last grouping,
so what leaves the queue leaves the cache at the next run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

CACHE_VERSION = 1  # bump when what is stored changes: old cache files are then never read
_CODE_FILES = (Path(__file__).resolve(), Path(__file__).resolve().parent / "text.py")


def _run_digest(run: str) -> str:
    return hashlib.sha256(run.encode()).hexdigest()[:32]


class Segmentations:
    """Segmentations known from the last run (``known``: run digest -> word lengths), and those used now."""

    def __init__(self, path: Path | None, known: dict[str, tuple[int, ...]] | None = None) -> None:
        self.path = path
        self.known = known or {}
        self.used: dict[str, tuple[int, ...]] = {}

    def get(self, run: str) -> list[str] | None:
        """The words of ``run`` as jieba cut them last time, or None."""
        digest = _run_digest(run)
        lengths = self.known.get(digest)
        if lengths is None or sum(lengths) != len(run):
            return None
        self.used[digest] = lengths
        words, start = [], 0
        for length in lengths:
            words.append(run[start : start + length])
            start += length
        return words

    def put(self, run: str, words: Iterable[str]) -> None:
        """Remember how jieba cut ``run`` (only if its words are the run again, so ``get`` gives them back)."""
        words = list(words)
        if "".join(words) == run and all(words):
            self.used[_run_digest(run)] = tuple(len(w) for w in words)

    def save(self) -> None:
        """Write what this run used, when it differs from what was read (atomically; best effort)."""
        if self.path is None or self.used == self.known:
            return
        from bot.cachefile import replace_atomically

        text = json.dumps({"cuts": {d: list(n) for d, n in self.used.items()}})
        replace_atomically(
            self.path, lambda handle: handle.write(text.encode("utf-8")), "segmentations-*.json", "segmentation cache"
        )


def load_segmentations(cache_dir: Path, taught: Iterable[str]) -> Segmentations:
    """The segmentations kept in ``cache_dir`` for a segmenter taught ``taught`` (none if nothing matches)."""
    digest = _digest(taught)
    if digest is None:
        return Segmentations(None)
    path = cache_dir / f"segmentations-{digest}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return Segmentations(path)
    except (OSError, ValueError) as exc:
        log.warning("segmentation cache %s unreadable (%s): segmenting again", path, exc)
        return Segmentations(path)
    cuts = data.get("cuts") if isinstance(data, dict) else None
    if not isinstance(cuts, dict) or not all(
        isinstance(lengths, list) and all(type(n) is int and n > 0 for n in lengths) for lengths in cuts.values()
    ):
        log.warning("segmentation cache %s is not a map of segmentations: segmenting again", path)
        return Segmentations(path)
    return Segmentations(path, {str(d): tuple(lengths) for d, lengths in cuts.items()})


def _digest(taught: Iterable[str]) -> str | None:
    """A digest of what decides jieba's segmentation here; None when rjieba or this code cannot be found."""
    h = hashlib.sha256(f"{CACHE_VERSION}\0".encode())
    h.update("\0".join(taught).encode())
    try:
        # lazy: rjieba's import builds its segmenter (~75-100 ms), what this cache avoids; its files identify it
        spec = importlib.util.find_spec("rjieba")
        folders = spec.submodule_search_locations if spec is not None else None
        if not folders:
            return None
        for folder in folders:
            for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                if entry.is_file():
                    status = entry.stat()
                    h.update(f"\0{entry.name}\0{status.st_size}\0{status.st_mtime_ns}".encode())
        for code in _CODE_FILES:
            h.update(code.read_bytes())
    except (OSError, ImportError, ValueError):
        return None
    return h.hexdigest()[:32]
