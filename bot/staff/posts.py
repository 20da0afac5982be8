"""What the staff chat shows for a queued question, as plain data (handlers/staff_posts.py lays it out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.knowledge.model import KnowledgeBase
from bot.staff.display import describe_user
from bot.staff.suggest import Nearest, nearest_entries
from bot.storage import Store, UnansweredItem, UserProfile

if TYPE_CHECKING:  # the matcher module is cheap, but its callers here only need the type
    from bot.matching.matcher import Matcher

# Why a question reached staff; each has its title (``STAFF.post_titles``).
PostReason = Literal["unanswered", "none_of_these", "undelivered", "asked_for_staff"]


@dataclass(frozen=True)
class StaffPost:
    """What the staff chat shows for a queued question.

    The Telegram side renders it and adds the buttons (Dismiss; "Add as phrasing of" ``best``).
    """

    item_id: int
    reason: PostReason
    question: str  # in full: the post shortens it to fit, the database keeps it whole
    lang: str
    asked_at: str  # stored UTC timestamp
    user_id: int | None
    first_name: str | None
    username: str | None
    who: str  # plain text, as in describe_user
    nearest: tuple[Nearest, ...]

    @property
    def best(self) -> Nearest | None:
        return self.nearest[0] if self.nearest else None


def build_staff_post(
    item: UnansweredItem,
    profile: UserProfile | None,
    nearest: Sequence[Nearest],
    reason: PostReason = "unanswered",
) -> StaffPost:
    """The staff post of a queue item, with its asker's profile (only if it is theirs)."""
    if profile is not None and profile.user_id != item.user_id:
        profile = None  # never show somebody else's name
    return StaffPost(
        item_id=item.id,
        reason=reason,
        question=item.text,
        lang=item.lang,
        asked_at=item.created_at,
        user_id=item.user_id,
        first_name=profile.first_name if profile else None,
        username=profile.username if profile else None,
        who=describe_user(item.user_id, profile, item.chat_id),
        nearest=tuple(nearest),
    )


async def staff_post_for_item(
    store: Store, item_id: int, kb: KnowledgeBase, matcher: Matcher, reason: PostReason = "unanswered"
) -> StaffPost | None:
    """Load an item and its asker's profile and build its staff post; None when the item is unknown."""
    item = await store.get_unanswered(item_id)
    if item is None:
        return None
    profile = await store.get_user(item.user_id) if item.user_id is not None else None
    return build_staff_post(item, profile, nearest_entries(item.text, kb, matcher, item.lang), reason)
