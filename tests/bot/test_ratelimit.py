"""Per-user flood control with a fake clock."""

from __future__ import annotations

import tracemalloc

from bot.ratelimit import FloodGuard


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_the_limit_then_notifies_once_per_burst() -> None:
    clock = Clock()
    guard = FloodGuard(3, clock)
    assert [guard.check(1).allowed for _ in range(3)] == [True, True, True]
    refused = guard.check(1)
    assert (refused.allowed, refused.notify) == (False, True)
    assert 0 < refused.retry_after <= 60
    assert (guard.check(1).allowed, guard.check(1).notify) == (False, False)
    assert guard.check(2).allowed  # per user


def test_window_slides() -> None:
    clock = Clock()
    guard = FloodGuard(2, clock)
    guard.check(1)
    clock.now += 30
    guard.check(1)
    assert not guard.check(1).allowed
    clock.now += 30.5  # the first question has left the window
    assert guard.check(1).allowed
    assert not guard.check(1).allowed


def test_memory_is_bounded() -> None:
    clock = Clock()
    guard = FloodGuard(5, clock, max_users=100)
    for user in range(100):
        guard.check(user)
    clock.now += 61
    guard.check(10_000)
    assert len(guard._seen) == 1


def test_a_per_user_limit_overrides_the_default() -> None:
    clock = Clock()
    guard = FloodGuard(2, clock)
    assert [guard.check(1, limit=5).allowed for _ in range(6)] == [True] * 5 + [False]
    assert [guard.check(2).allowed for _ in range(3)] == [True, True, False]


def test_a_user_seen_once_costs_little_memory() -> None:
    # Every investor who ever wrote stays until max_users is reached, in each guard: measured, about
    # 170 bytes each (a deque per user took 870).
    clock = Clock()
    guard = FloodGuard(60, clock)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for user in range(10_000):
            guard.check(user)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert used < 300 * 10_000
