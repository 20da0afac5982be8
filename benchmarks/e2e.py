"""End to end: a bot process long-polls the stand-in Bot API server (``tests.botapi_server.FakeBotAPI``).

For each concurrency level N, N investors (distinct user ids and private chats) each send one question
at once, and the round ends when every one of them has had its ``sendMessage``; several rounds per level.
Latency is the time from the update being queued on the server (``time.time()`` just before
``push_update``) to the server receiving the bot's ``sendMessage`` for that chat (``Call.time``, also
``time.time()``). Throughput is the level's updates divided by the sum of its rounds' wall times (first
push to last reply). A round of one user is a strict request/reply loop.

Bots measured, each in its own process started like ``tests/test_e2e.py`` does:
- ``etown-bot``: ``python -m bot --config CFG run``, as shipped (AIORateLimiter at Telegram's 30 msg/s);
- ``etown-bot, 100,000 msg/s``: the same, with ``limits.outgoing_per_second: 100000`` in its config (the
  shipped setting for AIORateLimiter's overall rate, for local Bot API servers), so the limit is not reached;
- ``echo bot`` and ``echo bot, 100,000 msg/s``: ``python -m benchmarks.echo_bot [--rate N]`` with the same
  Application settings.
The config raises ``limits.questions_per_minute`` (the per-investor flood guard, 20 by default) to 10,000
so that one investor's many rounds are answered rather than told to slow down.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.scale import percentiles
from tests.botapi_server import DEFAULT_TOKEN, Call, FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
FIRST_USER = 700_000
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Level:
    users: int
    updates: int
    wall_s: float
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.updates / self.wall_s


UNLIMITED = 100_000  # messages per second: far above what this machine reaches
BOTS: dict[str, list[str]] = {
    "etown-bot (as shipped)": ["-m", "bot", "--config", "{config}", "run"],
    f"etown-bot, {UNLIMITED:,} msg/s": ["-m", "bot", "--config", "{config}", "run"],
    "echo bot": ["-m", "benchmarks.echo_bot"],
    f"echo bot, {UNLIMITED:,} msg/s": ["-m", "benchmarks.echo_bot", "--rate", str(UNLIMITED)],
}


def _chat(call: Call) -> int | None:
    raw = call.params.get("chat_id")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _round(api: FakeBotAPI, users: Sequence[int], texts: Sequence[str], timeout: float) -> tuple[float, list[float]]:
    """One round: every user asks once; returns wall seconds and latencies in ms."""
    mark = api.mark()
    pushed: dict[int, float] = {}
    for user, text in zip(users, texts, strict=True):
        pushed[user] = time.time()
        api.push_update(api.message_update(user, text))
    wanted = set(users)
    replies = api.wait_for_count("sendMessage", len(users), lambda c: _chat(c) in wanted, timeout=timeout, since=mark)
    first: dict[int, float] = {}
    for call in replies:
        chat = _chat(call)
        if chat is not None and chat not in first:
            first[chat] = call.time
    start = min(pushed.values())
    end = max(first.values())
    return end - start, [(first[user] - pushed[user]) * 1000 for user in users]


def run_bot(name: str, questions: Sequence[str], levels: Sequence[tuple[int, int]]) -> list[Level]:
    """Start bot ``name`` against a fresh FakeBotAPI and measure every (users, rounds) level."""
    with tempfile.TemporaryDirectory(prefix="etown-bench-") as tmp, FakeBotAPI(expected_token=DEFAULT_TOKEN) as api:
        config = Path(tmp) / "config.yaml"
        limits = "limits:\n  questions_per_minute: 10000\n"
        if "msg/s" in name:
            limits += f"  outgoing_per_second: {UNLIMITED}\n"
        config.write_text(f"database: {Path(tmp) / 'log.sqlite3'}\nlog_level: WARNING\n{limits}", encoding="utf-8")
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "PYTHONPATH": str(ROOT),
        }
        args = [sys.executable, *(a.format(config=config) for a in BOTS[name])]
        with (Path(tmp) / "bot.log").open("w", encoding="utf-8") as log_file:
            process = subprocess.Popen(args, cwd=tmp, env=env, stdout=log_file, stderr=subprocess.STDOUT)
            try:
                api.wait_for("getUpdates", timeout=START_TIMEOUT)
                cursor = 0

                def texts(n: int) -> list[str]:
                    nonlocal cursor
                    chosen = [questions[(cursor + i) % len(questions)] for i in range(n)]
                    cursor += n
                    return chosen

                _round(api, [FIRST_USER - 1], texts(1), START_TIMEOUT)  # warm-up (first-call costs)
                results = []
                for users, rounds in levels:
                    ids = list(range(FIRST_USER, FIRST_USER + users))
                    wall = 0.0
                    latencies: list[float] = []
                    for _ in range(rounds):
                        # At 30 msg/s, 500 replies take ~17 s; allow for a slow, shared machine.
                        seconds, lat = _round(api, ids, texts(users), timeout=30 + users / 5)
                        wall += seconds
                        latencies += lat
                    p50, p99 = percentiles(latencies)
                    results.append(Level(users, users * rounds, wall, p50, p99))
            finally:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        log = (Path(tmp) / "bot.log").read_text(encoding="utf-8", errors="replace")
        if "Traceback" in log:
            print(f"{name}: traceback in the bot's log:\n{log[-3000:]}", file=sys.stderr)
    return results


def levels_for(quick: bool) -> list[tuple[int, int]]:
    """(concurrent users, rounds)."""
    if quick:
        return [(1, 20), (50, 2), (500, 1)]
    return [(1, 50), (50, 6), (500, 2)]
