"""The staff queue: open questions grouped by what they ask, and pages of groups."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

# The command line imports this module to build its parser (GROUPS_PER_PAGE), `etown-bot --help` too:
# rapidfuzz (~12 ms) and the normaliser (~9 ms) are imported by the grouping, the store (~25 ms, with
# asyncio ~40 ms) only for the annotations (python -X importtime).
if TYPE_CHECKING:
    from bot.matching.text import Normalizer
    from bot.storage import Store, UnansweredItem

GROUP_SIMILARITY = 80.0  # rapidfuzz token_sort_ratio (0..100) of normalised texts that puts two questions together
# ... or this share of their key words in common (Jaccard): paraphrases share key words, not wording.
KEY_OVERLAP = 0.5
COMMON_SHARE = 1 / 3  # in a queue of COMMON_MIN items or more, a word in this share of them is no key word
COMMON_MIN = 6
MIN_SHARED = 2
GROUPS_PER_PAGE = 10
MAX_OPEN_ITEMS = 5000  # open items read for grouping; a queue this long needs triage, not a longer list


@dataclass(frozen=True)
class Group:
    """Open questions that say the same thing, newest first."""

    representative: str  # the most frequent wording (the newest on a tie)
    item_ids: tuple[int, ...]
    texts: tuple[str, ...]  # distinct wordings, most frequent first
    langs: tuple[str, ...]
    newest: str  # stored timestamp of the newest item

    @property
    def count(self) -> int:
        """How many times it was asked (open items in the group)."""
        return len(self.item_ids)

    @property
    def newest_day(self) -> str:
        return self.newest[:10]


@dataclass(frozen=True)
class Page:
    """One page of groups; ``number`` is 1-based and always within ``1..pages``."""

    groups: tuple[Group, ...]
    number: int
    pages: int
    total_groups: int
    total_items: int


def _group_key(text: str, normalizer: Normalizer) -> str:
    from bot.matching.text import clean

    # Segmented and stemmed, so "rent" and "rents", 租金 in Traditional or Simplified, compare equal.
    return normalizer.segmented(text) or clean(text) or text.strip()


def _key_words(text: str, normalizer: Normalizer) -> frozenset[str]:
    """The question's key words, stemmed and with synonyms applied: those rarer in general language than
    ``COMMON_ZIPF`` ("rent", "tax", "hukou"; not "office" or "多少"), from the file of common words, not
    wordfreq itself (304 ms to load, for a command line that starts in under 800 ms)."""
    from bot.matching.text import common_words

    common = common_words()
    return frozenset(token for token, surface in normalizer.words(normalizer.normalize(text)) if surface not in common)


def group_items(
    items: Iterable[UnansweredItem], normalizer: Normalizer | None = None, similarity: float = GROUP_SIMILARITY
) -> list[Group]:
    """Group items by similarity of their normalised text; biggest groups first, then the most recent.

    Greedy and deterministic: each item (newest first) joins the first group whose first wording
    scores at least ``similarity`` (rapidfuzz ``token_sort_ratio``), else starts a new group.
    Pass the live matcher's normalizer so synonyms count as the same word.
    """
    from rapidfuzz import fuzz, process

    from bot.matching.text import Normalizer

    normalizer = normalizer or Normalizer()
    ordered = sorted(items, key=lambda item: (item.created_at, item.id), reverse=True)
    keys: list[str] = []  # each group's first key, what newcomers are compared with
    key_words: list[frozenset[str]] = []  # each group's first item's key words (not the common ones)
    exact: dict[str, int] = {}
    members: list[list[tuple[UnansweredItem, str]]] = []
    words_of = {item.id: _key_words(item.text, normalizer) for item in ordered}
    # What nearly every question names ("etown", "bda") says nothing about which question it is.
    seen = Counter(word for words in words_of.values() for word in words)
    common = {w for w, n in seen.items() if n >= COMMON_SHARE * len(ordered)} if len(ordered) >= COMMON_MIN else set()
    own_words = {item_id: words - common for item_id, words in words_of.items()}
    for item in ordered:
        key = _group_key(item.text, normalizer)
        own = own_words[item.id]
        index = exact.get(key)
        if index is None and keys:
            hit = process.extractOne(key, keys, scorer=fuzz.token_sort_ratio, score_cutoff=similarity)
            index = hit[2] if hit is not None else None
        if index is None and similarity < 100 and len(own) >= MIN_SHARED:  # 100: the same wording only
            # Two key words at least: "Hengrui" alone is a company, not a question.
            overlaps = [len(own & w) / len(own | w) if len(own & w) >= MIN_SHARED else 0.0 for w in key_words]
            best = max(range(len(overlaps)), key=overlaps.__getitem__, default=None)
            index = best if best is not None and overlaps[best] >= KEY_OVERLAP else None
        if index is None:
            index = len(keys)
            keys.append(key)
            key_words.append(own)
            members.append([])
        exact.setdefault(key, index)
        members[index].append((item, key))
    groups = []
    for group in members:
        frequency = Counter(key for _, key in group)
        wording: dict[str, str] = {}  # key -> newest text with that key
        for item, key in group:
            wording.setdefault(key, " ".join(item.text.split()))
        by_frequency = sorted(wording, key=lambda k: -frequency[k])  # stable: newest first on a tie
        groups.append(
            Group(
                representative=wording[by_frequency[0]],
                item_ids=tuple(item.id for item, _ in group),
                texts=tuple(wording[k] for k in by_frequency),
                langs=tuple(sorted({item.lang for item, _ in group})),
                newest=group[0][0].created_at,
            )
        )
    # Groups were started newest first; a stable sort keeps that order among equal counts.
    groups.sort(key=lambda g: -g.count)
    return groups


def paginate(groups: Sequence[Group], page: int = 1, per_page: int = GROUPS_PER_PAGE) -> Page:
    """The groups of page ``page`` (clamped into range, so a stale page number still shows something)."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    pages = max(1, -(-len(groups) // per_page))
    number = min(max(page, 1), pages)
    chunk = tuple(groups[(number - 1) * per_page : number * per_page])
    return Page(chunk, number, pages, len(groups), sum(g.count for g in groups))


async def open_groups(store: Store, normalizer: Normalizer | None = None) -> list[Group]:
    """The open queue, grouped (see ``group_items``)."""
    return group_items(await store.list_unanswered("new", limit=MAX_OPEN_ITEMS), normalizer)
