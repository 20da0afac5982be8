"""Loading a knowledge base with many phrasings (issue 12, point 13), next to PyYAML parsing the same file.

Each file is alone in a fresh knowledge-base folder and holds English and Chinese phrasings half and half
(``"does park 12 have lab space for company 345"``, ``"经开区第345家企业在12号园区有实验室吗"``):

- 20,000 phrasings in one entry: the case the issue timed (37 s), and the worst case for anything that
  scans an entry's list once per phrasing;
- about 4.9 MB (under the 5 MB cap) in one entry, the same worst case at the largest size allowed;
- about 4.9 MB in entries of 20 phrasings, for the per-entry work.

For each: ``load_knowledge_base`` (read, parse, validate) next to two baselines run in the same process on
the same text: ``yaml.safe_load`` (PyYAML's pure-Python parser, what plain PyYAML does) and
``yaml.load(text, yaml.CSafeLoader)`` (libyaml, the parser ``bot.knowledge.reader`` uses when PyYAML has it). Then
``Matcher.from_knowledge_base`` on the result, so the whole reload (load + index build) is known. Each
figure is the best of ``repeat`` runs.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.load import load_knowledge_base
from bot.knowledge.reader import MAX_FILE_BYTES
from bot.matching.matcher import Matcher

TARGET_BYTES = 4_900_000  # under the 5 MB cap (5,242,880 bytes)


def _phrasing(i: int) -> str:
    if i % 2:
        return f"经开区第{i}家企业在{i % 97}号园区有实验室吗"
    return f"does park {i % 97} have lab space for company {i}"


def _entry(entry_id: str, first: int, count: int) -> str:
    en = [f"      - {_phrasing(i)}" for i in range(first, first + count) if not i % 2]
    zh = [f"      - {_phrasing(i)}" for i in range(first, first + count) if i % 2]
    lines = [f"- id: {entry_id}", "  questions:", "    en:", *en, "    zh:", *zh]
    lines.append(f"  answer: {{en: Answer {entry_id}., zh: 回答{entry_id}。}}")
    return "\n".join(lines) + "\n"


def one_entry(phrasings: int) -> str:
    """One entry with this many phrasings."""
    return _entry("bulk", 0, phrasings)


def one_entry_of_size(target: int = TARGET_BYTES) -> str:
    """One entry with as many phrasings as fit in ``target`` bytes."""
    per_phrasing = len(one_entry(2_000).encode()) / 2_000
    count = int(target / per_phrasing)
    while len(text := one_entry(count).encode()) > target:
        count -= 1_000
    return text.decode()


def entries_of_size(target: int = TARGET_BYTES, per_entry: int = 20) -> str:
    """Entries of ``per_entry`` phrasings, as many as fit in ``target`` bytes."""
    chunks: list[str] = []
    size = 0
    while True:
        chunk = _entry(f"entry-{len(chunks)}", len(chunks) * per_entry, per_entry)
        if size + len(chunk.encode()) > target:
            return "".join(chunks)
        chunks.append(chunk)
        size += len(chunk.encode())


@dataclass(frozen=True)
class LoadFigures:
    name: str
    megabytes: float
    phrasings: int
    entries: int
    load_s: float  # load_knowledge_base: read + parse + validate
    safe_load_s: float  # yaml.safe_load of the same text (pure-Python PyYAML)
    libyaml_s: float  # yaml.load(text, CSafeLoader); nan without libyaml
    matcher_s: float  # Matcher.from_knowledge_base


def _best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def measure(name: str, text: str, repeat: int = 3) -> LoadFigures:
    assert len(text.encode()) <= MAX_FILE_BYTES
    with tempfile.TemporaryDirectory(prefix="etown-kb-") as tmp:
        directory = Path(tmp) / "faq"
        directory.mkdir()
        (directory / "bulk.yaml").write_text(text, encoding="utf-8")
        load_s, result = _best(lambda: load_knowledge_base(directory), repeat)
    assert result.kb is not None, [str(i) for i in result.errors[:5]]
    kb = result.kb
    safe_load_s, _ = _best(lambda: yaml.safe_load(text), repeat)
    libyaml_s = float("nan")
    if yaml.__with_libyaml__:
        libyaml_s, _ = _best(lambda: yaml.load(text, Loader=yaml.CSafeLoader), repeat)
    matcher_s, _ = _best(lambda: Matcher.from_knowledge_base(kb), 1)  # seconds at this size: once is enough
    return LoadFigures(
        name=name,
        megabytes=len(text.encode()) / 1e6,
        phrasings=sum(len(texts) for entry in kb.entries.values() for texts in entry.questions.values()),
        entries=len(kb.entries),
        load_s=load_s,
        safe_load_s=safe_load_s,
        libyaml_s=libyaml_s,
        matcher_s=matcher_s,
    )


def run(quick: bool = False) -> list[LoadFigures]:
    repeat = 1 if quick else 3
    return [
        measure("20,000 phrasings, one entry", one_entry(20_000), repeat),
        measure("4.9 MB, one entry", one_entry_of_size(), repeat),
        measure("4.9 MB, entries of 20 phrasings", entries_of_size(), repeat),
    ]


def shipped(runs: int = 200) -> tuple[float, float]:
    """The packaged ``faq/``: (first load in this process, median of ``runs`` later loads), CPU seconds.

    The first load is what ``etown-bot check`` and the bot's startup pay once; the median is a reload.
    CPU time, not wall time: on a shared machine the wall-clock median of the same loads varied 2x.
    """
    from bot.config import PACKAGED_FAQ_DIR

    start = time.process_time()
    assert load_knowledge_base(PACKAGED_FAQ_DIR).kb is not None
    first = time.process_time() - start
    times = []
    for _ in range(runs):
        start = time.process_time()
        load_knowledge_base(PACKAGED_FAQ_DIR)
        times.append(time.process_time() - start)
    return first, statistics.median(times)
