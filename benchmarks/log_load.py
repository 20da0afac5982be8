"""Log under load: 10,000 unanswered questions asked at once (``asyncio.gather``), then rows counted.

Each of the 10,000 tasks goes through the bot's own path, ``Assistant.ask``: match the question, render,
``Store.log_question`` and, being unanswered, ``Store.add_unanswered``, against a fresh SQLite file
(WAL, as shipped). The questions are out-of-scope questions from ``tests/data/eval.yaml`` that the shipped
knowledge base sends to staff (checked first with ``resolve``), cycled. Zero lost means: 10,000 replies
carry a question id and an unanswered id, all distinct, and both tables hold 10,000 rows.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.assistant import Assistant, Knowledge
from bot.config import Config
from bot.matching.evaluate import load_cases
from bot.storage import Store

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LogResult:
    asked: int
    seconds: float
    question_ids: int
    unanswered_ids: int
    question_rows: int
    unanswered_rows: int

    @property
    def lost(self) -> int:
        return self.asked - min(self.question_ids, self.unanswered_ids, self.question_rows, self.unanswered_rows)


async def _run(count: int) -> LogResult:
    config = Config()
    knowledge = Knowledge(config.knowledge_dir, config.matching)
    knowledge.load()
    assistant = Assistant(knowledge, None)
    pool = [
        case.q
        for case in load_cases(ROOT / "tests" / "data" / "eval.yaml")
        if case.expect is None and assistant.resolve(case.q).status == "unanswered"
    ]
    assert pool, "no out-of-scope question goes to staff"
    with tempfile.TemporaryDirectory(prefix="etown-log-") as tmp:
        store = await Store.open(Path(tmp) / "log.sqlite3")
        assistant.store = store
        try:
            start = time.perf_counter()
            replies = await asyncio.gather(
                *(assistant.ask(pool[i % len(pool)], user_id=800_000 + i, chat_id=800_000 + i) for i in range(count))
            )
            seconds = time.perf_counter() - start
            question_rows = await store.count_questions()
            unanswered_rows = await store.count_unanswered(None)
        finally:
            await store.close()
    return LogResult(
        asked=count,
        seconds=seconds,
        question_ids=len({r.question_id for r in replies if r.question_id is not None}),
        unanswered_ids=len({r.unanswered_id for r in replies if r.unanswered_id is not None}),
        question_rows=question_rows,
        unanswered_rows=unanswered_rows,
    )


def measure(count: int = 10_000) -> LogResult:
    return asyncio.run(_run(count))
