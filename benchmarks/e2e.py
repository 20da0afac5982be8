"""End to end: a bot process long-polls the stand-in Bot API server (``tests.botapi_server.FakeBotAPI``).

For each concurrency level N, N investors (distinct user ids and private chats) each send one question
at once, and the round ends when every one of them has had its ``sendMessage``; several rounds per level.
Latency is the time from the update being queued on the server (``time.time()`` just before
``push_update``) to the server receiving the bot's ``sendMessage`` for that chat (``Call.time``, also
``time.time()``). Throughput is the level's updates divided by the sum of its rounds' wall times (first
push to last reply). A round of one user is a strict request/reply loop.

Bots measured, each in its own process started like ``tests/system/test_e2e.py`` does:
- ``etown-bot``: ``python -m bot --config CFG run``, as shipped (AIORateLimiter at Telegram's 30 msg/s);
- ``etown-bot, 100,000 msg/s``: the same, with ``limits.outgoing_per_second: 100000`` in its config (the
  shipped setting for AIORateLimiter's overall rate, for local Bot API servers), so the limit is not reached;
- ``echo bot`` and ``echo bot, 100,000 msg/s``: ``python -m benchmarks.echo_bot [--rate N]`` with the same
  Application settings.
The config raises ``limits.questions_per_minute`` (the per-investor flood guard, 20 by default) to 10,000
so that one investor's many rounds are answered rather than told to slow down.

CPU: user + system seconds over the rounds' wall time (psutil, from just before the first push to the
wake-up after the last reply), for the bot process and for this process
(the stand-in server's threads plus the load generator), as a share of one core; the machine has 2.
Replies are collected by the server's ``on_call`` hook as they are recorded (the first ``sendMessage`` per
chat of the round), so waiting for a round costs O(1) per call rather than a rescan of the call log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

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
    bot_cpu: float  # the bot process's CPU seconds over wall seconds (1.0 = one core)
    server_cpu: float  # the same for this process: stand-in server and load generator

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


class Replies:
    """``FakeBotAPI(on_call=...)`` hook: when the server recorded each expected chat's first ``sendMessage``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wanted: set[int] = set()
        self._first: dict[int, float] = {}
        self._done = threading.Event()

    def expect(self, chats: Iterable[int]) -> None:
        """Start a round: forget earlier replies and wait for one to each of ``chats``."""
        with self._lock:
            self._wanted = set(chats)
            self._first = {}
            self._done.clear()

    def __call__(self, call: Call) -> None:
        if call.method != "sendMessage":
            return
        chat = _chat(call)
        with self._lock:
            if chat in self._wanted and chat not in self._first:
                self._first[chat] = call.time  # Call.time: time.time() when the server recorded the call
                if len(self._first) == len(self._wanted):
                    self._done.set()

    def wait(self, timeout: float) -> dict[int, float]:
        """Chat -> server receipt time of its first reply, once every expected chat has one."""
        if not self._done.wait(timeout):
            with self._lock:
                raise TimeoutError(f"only {len(self._first)} of {len(self._wanted)} chats answered within {timeout}s")
        with self._lock:
            return dict(self._first)


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


@dataclass
class Round:
    wall_s: float
    latencies_ms: list[float]
    bot_cpu_s: float
    server_cpu_s: float
    cpu_window_s: float  # wall time over which the CPU seconds were taken


def _round(
    api: FakeBotAPI,
    replies: Replies,
    processes: tuple[psutil.Process, psutil.Process],
    users: Sequence[int],
    texts: Sequence[str],
    timeout: float,
) -> Round:
    """One round: every user asks once; wall seconds (first push to last reply), latencies, CPU seconds."""
    bot, this = processes
    replies.expect(users)
    cpu_before = _cpu_seconds(bot), _cpu_seconds(this), time.perf_counter()
    pushed: dict[int, float] = {}
    for user, text in zip(users, texts, strict=True):
        pushed[user] = time.time()
        api.push_update(api.message_update(user, text))
    first = replies.wait(timeout)
    cpu_after = _cpu_seconds(bot), _cpu_seconds(this), time.perf_counter()
    start = min(pushed.values())
    end = max(first.values())
    return Round(
        wall_s=end - start,
        latencies_ms=[(first[user] - pushed[user]) * 1000 for user in users],
        bot_cpu_s=cpu_after[0] - cpu_before[0],
        server_cpu_s=cpu_after[1] - cpu_before[1],
        cpu_window_s=cpu_after[2] - cpu_before[2],
    )


def run_bot(name: str, questions: Sequence[str], levels: Sequence[tuple[int, int]]) -> list[Level]:
    """Start bot ``name`` against a fresh FakeBotAPI and measure every (users, rounds) level."""
    replies = Replies()
    with (
        tempfile.TemporaryDirectory(prefix="etown-bench-") as tmp,
        FakeBotAPI(expected_token=DEFAULT_TOKEN, on_call=replies) as api,
    ):
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
                processes = psutil.Process(process.pid), psutil.Process()
                api.wait_for("getUpdates", timeout=START_TIMEOUT)
                cursor = 0

                def texts(n: int) -> list[str]:
                    nonlocal cursor
                    chosen = [questions[(cursor + i) % len(questions)] for i in range(n)]
                    cursor += n
                    return chosen

                # Warm-up (first-call costs).
                _round(api, replies, processes, [FIRST_USER - 1], texts(1), START_TIMEOUT)
                results = []
                for users, rounds in levels:
                    ids = list(range(FIRST_USER, FIRST_USER + users))
                    # At 30 msg/s, 500 replies take ~17 s; allow for a slow, shared machine.
                    measured = [
                        _round(api, replies, processes, ids, texts(users), timeout=30 + users / 5)
                        for _ in range(rounds)
                    ]
                    wall = sum(r.wall_s for r in measured)
                    p50, p99 = percentiles([ms for r in measured for ms in r.latencies_ms])
                    window = sum(r.cpu_window_s for r in measured)
                    bot_cpu = sum(r.bot_cpu_s for r in measured) / window
                    server_cpu = sum(r.server_cpu_s for r in measured) / window
                    results.append(Level(users, users * rounds, wall, p50, p99, bot_cpu, server_cpu))
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
