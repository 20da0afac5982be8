"""Plain-text pieces every staff view shows: times in UTC, who asked, and lengths in Telegram's unit.

Lengths are in UTF-16 code units, the unit of Telegram's limit of 4096 per message: an emoji counts 2,
so 2,048 emoji fill a message although Python counts 2,048 characters.
"""

from __future__ import annotations

import datetime as dt

from bot.storage import CONSOLE_CHAT_ID, UserProfile
from bot.words import STAFF


def format_utc(stamp: str) -> str:
    """``2026-11-25T10:03:00+00:00`` -> ``2026-11-25 10:03 UTC`` (unparseable text is returned as is)."""
    try:
        moment = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's message limit."""
    # surrogatepass: a lone surrogate (JSON can carry one) is counted, not an error.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def head_units(text: str, limit: int) -> str:
    """The longest beginning of ``text`` of at most ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def shorten_utf16(text: str, limit: int) -> str:
    """``text`` if it is at most ``limit`` UTF-16 units long, else its beginning followed by
    "… (N more characters)" (N counts the characters left out), all within ``limit``."""
    if utf16_len(text) <= limit:
        return text
    longest_note = STAFF.more_characters.format(count=len(text))  # N is at most len(text): no longer
    head = head_units(text, max(limit - utf16_len(longest_note), 0)).rstrip()
    return head + STAFF.more_characters.format(count=len(text) - len(head))


def describe_user(user_id: int | None, profile: UserProfile | None, chat_id: int | None = None) -> str:
    """Plain text naming who asked: ``Li Wei (@li_invest), id 12345``; the console chat, or an investor
    who deleted their data, as such."""
    if user_id is None:
        return STAFF.from_console if chat_id == CONSOLE_CHAT_ID else STAFF.identity_removed
    parts = []
    if profile is not None and profile.first_name:
        parts.append(profile.first_name)
    if profile is not None and profile.username:
        parts.append(f"(@{profile.username})" if parts else f"@{profile.username}")
    name = " ".join(parts)
    return STAFF.who.format(name=name, id=user_id) if name else STAFF.who_id.format(id=user_id)
