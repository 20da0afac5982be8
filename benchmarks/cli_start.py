"""Command-line start: ``etown-bot --help`` and ``etown-bot unanswered list`` next to a bare Python start.

Each command runs in a fresh subprocess, several times; the figure is the median wall time. The baseline is
``python -c "import argparse, yaml, sqlite3, aiosqlite, asyncio"``: what any command line on this stack
pays before doing anything. ``unanswered list`` reads a small database (a few queued questions, English
and Chinese, two of them alike so they group) in a temporary folder, through a config file there, with
the shipped knowledge base (its synonyms drive the grouping).

``unanswered list`` keeps the knowledge base's synonyms and the queue's segmentations in ``cache/`` beside the
database: the timed runs find them there, as a staff member's second command does. The row ``unanswered
list, no cache`` empties that folder before each run: the first command after an edit of faq/ and new
Chinese questions (the whole knowledge base loaded, jieba's segmenter built).

The project's modules run from bytecode, as an installed package's do (pip compiles it at install time; a
checkout writes it on its first run): ``PYTHONDONTWRITEBYTECODE`` in the caller's environment is not passed
on, or every run would compile them again (about 50 ms here).

``python -m benchmarks.cli_start`` prints the table alone; ``make bench`` includes it (part ``cli``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.storage import Store

BIN = Path(sys.executable).parent
BASELINE = "import argparse, yaml, sqlite3, aiosqlite, asyncio"
QUESTIONS = (
    ("en", "Is there office space for rent near the Yizhuang subway station?"),
    ("en", "Is there office space for rent near Yizhuang subway station"),
    ("en", "Can a foreign-owned CRO register in E-Town without a Chinese partner?"),
    ("zh", "经开区有没有针对细胞治疗企业的专项补贴？"),
    ("zh", "亦庄的人才公寓怎么申请？"),
)
# Issue 13's targets, as multiples of the baseline.
TARGETS = {"--help": 3.0, "unanswered list": 4.0}


@dataclass(frozen=True)
class Timing:
    """Median and spread of one command's wall time over ``runs`` fresh processes."""

    name: str
    median_s: float
    min_s: float
    max_s: float
    runs: int


def _time(
    argv: Sequence[str], runs: int, env: dict[str, str], cwd: Path, before: Callable[[], None] | None = None
) -> tuple[float, float, float]:
    samples = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
        samples.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return statistics.median(samples), min(samples), max(samples)


async def _queue(database: Path) -> None:
    store = await Store.open(database)
    try:
        for user, (lang, text) in enumerate(QUESTIONS, 1000):
            qid = await store.log_question(
                user_id=user, chat_id=user, lang=lang, text=text, status="unanswered", entry_id=None, score=0.05
            )
            await store.add_unanswered(question_id=qid, user_id=user, chat_id=user, lang=lang, text=text)
    finally:
        await store.close()


def measure(runs: int = 9, etown_bot: Sequence[str] | None = None) -> list[Timing]:
    """Time the baseline and both commands; ``etown_bot`` is the command to start (default: the venv's)."""
    command = list(etown_bot or [str(BIN / "etown-bot")])
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TELEGRAM_") and key != "PYTHONDONTWRITEBYTECODE"
    }
    with tempfile.TemporaryDirectory(prefix="etown-cli-") as folder:
        root = Path(folder)
        database = root / "log.sqlite3"
        asyncio.run(_queue(database))
        config = root / "config.yaml"
        config.write_text(f"database: {database}\n", encoding="utf-8")
        listing = [*command, "--config", str(config), "unanswered", "list"]
        cases = {
            "baseline": [sys.executable, "-c", BASELINE],
            "--help": [*command, "--help"],
            "unanswered list": listing,
            "unanswered list, no cache": listing,
        }
        cache = root / "cache"

        def empty_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        # One untimed run each first: the figures are for a warm page cache, like a staff member's second command.
        for argv in cases.values():
            _time(argv, 1, env, root)
        return [
            Timing(name, *_time(argv, runs, env, root, empty_cache if name.endswith("no cache") else None), runs)
            for name, argv in cases.items()
        ]


def table(timings: Sequence[Timing]) -> list[str]:
    """Markdown lines: each command's median, range and ratio to the baseline, with the target."""
    base = timings[0].median_s
    lines = [
        "### Command-line start (`benchmarks/cli_start.py`: fresh process each run, median)",
        "",
        "| command | median ms | min-max ms | vs baseline | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in timings:
        label = f'`python -c "{BASELINE}"`' if t.name == "baseline" else f"`etown-bot {t.name}`"
        target = f"within {TARGETS[t.name]:.0f}x" if t.name in TARGETS else ""
        lines.append(
            f"| {label} | {t.median_s * 1000:.0f} | {t.min_s * 1000:.0f}-{t.max_s * 1000:.0f} "
            f"| {t.median_s / base:.1f}x | {target} |"
        )
    lines += [
        "",
        f"{timings[0].runs} runs each after one untimed run; `unanswered list` over {len(QUESTIONS)} queued questions.",
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(table(measure())))
