"""Per-user flood control: a sliding one-minute window of questions.

Pure and synchronous (the clock is injectable) so it is tested without sleeping. Telegram's own
limits on what the bot *sends* are handled by python-telegram-bot's ``AIORateLimiter``; this guards
the matcher and the log against one investor (or a script) sending hundreds of questions.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Verdict:
    """``allowed``: handle the question. ``notify``: first refusal in this burst, so say why once."""

    allowed: bool
    notify: bool = False
    retry_after: float = 0.0


class FloodGuard:
    """At most ``per_minute`` questions per user in any 60-second window."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, max_users: int = 100_000) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.max_users = max_users
        self._seen: dict[int, deque[float]] = {}
        self._notified: dict[int, float] = {}

    def check(self, user_id: int) -> Verdict:
        """Record an attempt by ``user_id`` and say whether to handle it."""
        now = self.clock()
        stamps = self._seen.get(user_id)
        if stamps is None:
            if len(self._seen) >= self.max_users:
                self._forget_idle(now)
            stamps = self._seen[user_id] = deque()
        while stamps and now - stamps[0] >= WINDOW_SECONDS:
            stamps.popleft()
        if len(stamps) < self.per_minute:
            stamps.append(now)
            self._notified.pop(user_id, None)
            return Verdict(True)
        retry_after = WINDOW_SECONDS - (now - stamps[0])
        # Refusals are not recorded, so a user who keeps sending is not locked out for longer; they are
        # told once per burst, so the notices themselves cannot become a flood.
        first = user_id not in self._notified
        self._notified[user_id] = now
        return Verdict(False, notify=first, retry_after=retry_after)

    def forget(self, user_id: int) -> None:
        """Drop what is kept about ``user_id`` (the /forget command)."""
        self._seen.pop(user_id, None)
        self._notified.pop(user_id, None)

    def _forget_idle(self, now: float) -> None:
        """Bound memory: drop users with no question in the current window."""
        idle = [uid for uid, stamps in self._seen.items() if not stamps or now - stamps[-1] >= WINDOW_SECONDS]
        for uid in idle:
            del self._seen[uid]
            self._notified.pop(uid, None)
