"""The staff side of the follow-up loop, independent of Telegram.

The Telegram handlers (staff posts, ``/unanswered``, ``/stats``, ``/export``) and the command line
(``etown-bot unanswered ...``, ``etown-bot stats``) both build on these functions: grouping of open
questions, nearest entries, statistics with a chart, a spreadsheet-safe CSV export, YAML suggestions
for the knowledge base, and the texts of staff posts and of replies to investors (Telegram HTML).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TextIO

import yaml
from rapidfuzz import fuzz, process

from bot.knowledge.model import KnowledgeBase
from bot.matching.text import Normalizer, clean, detect_language
from bot.store import (
    DayCount,
    QuestionRecord,
    StatusCounts,
    Store,
    UnansweredItem,
    UserProfile,
    timestamp,
)

if TYPE_CHECKING:  # the matcher module is cheap, but its callers here only need the type
    from bot.matching.matcher import Matcher

GROUP_SIMILARITY = 80.0  # rapidfuzz token_sort_ratio (0..100) of normalised texts that puts two questions together
GROUPS_PER_PAGE = 10
NEAREST = 3
MAX_OPEN_ITEMS = 5000  # open items read for grouping; a queue this long needs triage, not a longer list
# Lengths below are in UTF-16 code units of the text shown, the unit of Telegram's limit of 4096 per
# message: an emoji counts 2, so 2,048 emoji fill a message although Python counts 2,048 characters.
MAX_MESSAGE_UNITS = 4096
MAX_POST_QUESTION_UNITS = 3000  # the question in a staff post; less when the post's other lines are long
# Kept free in every staff post for the note added when it is closed ("Answered with <entry> by <name>
# (@username) at <time>"): Telegram names are at most 64 + 64 characters and usernames 32, entry ids 64.
CLOSING_NOTE_UNITS = 400
MAX_QUOTE_UNITS = 500  # the investor's question quoted above a staff reply
MAX_REPLY_UNITS = 3500  # a staff reply; with its header and quote (under 600) it fits one Telegram message
STATS_WINDOWS: tuple[tuple[str, dt.timedelta], ...] = (
    ("24 h", dt.timedelta(hours=24)),
    ("7 d", dt.timedelta(days=7)),
    ("30 d", dt.timedelta(days=30)),
)
CHART_DAYS = 30
EXPORT_COLUMNS = ("id", "asked_at", "user_id", "chat_id", "lang", "status", "entry_id", "score", "text")
# Spreadsheets run a cell starting with these as a formula (OWASP "CSV injection"); tab and CR too,
# since some programs strip them before looking at the first character.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# Words left out of the ids of suggested new entries ("What are office rents?" -> office-rents).
_SLUG_STOPWORDS_TEXT = (
    "a an and are can could do does for how i in is it me of on or please tell the there to we what when where "
    "which who why will with you your"
)
_SLUG_STOPWORDS = frozenset(_SLUG_STOPWORDS_TEXT.split())

PostReason = Literal["unanswered", "none_of_these", "undelivered"]
POST_TITLES: dict[str, str] = {
    "unanswered": "Unanswered question",
    "none_of_these": "No suggestion fitted (investor chose “None of these”)",
    # The bot had an answer, but Telegram refused or lost the reply even after retries.
    "undelivered": "Reply not delivered (Telegram error): please follow up",
}


# --- grouping of open questions


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
    # Segmented and stemmed, so "rent" and "rents", 租金 in Traditional or Simplified, compare equal.
    return normalizer.segmented(text) or clean(text) or text.strip()


def group_items(
    items: Iterable[UnansweredItem], normalizer: Normalizer | None = None, similarity: float = GROUP_SIMILARITY
) -> list[Group]:
    """Group items by similarity of their normalised text; biggest groups first, then the most recent.

    Greedy and deterministic: each item (newest first) joins the first group whose first wording
    scores at least ``similarity`` (rapidfuzz ``token_sort_ratio``), else starts a new group.
    Pass the live matcher's normalizer so synonyms count as the same word.
    """
    normalizer = normalizer or Normalizer()
    ordered = sorted(items, key=lambda item: (item.created_at, item.id), reverse=True)
    keys: list[str] = []  # each group's first key, what newcomers are compared with
    exact: dict[str, int] = {}
    members: list[list[tuple[UnansweredItem, str]]] = []
    for item in ordered:
        key = _group_key(item.text, normalizer)
        index = exact.get(key)
        if index is None and keys:
            hit = process.extractOne(key, keys, scorer=fuzz.token_sort_ratio, score_cutoff=similarity)
            index = hit[2] if hit is not None else None
        if index is None:
            index = len(keys)
            keys.append(key)
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


# --- nearest entries


@dataclass(frozen=True)
class Nearest:
    """A knowledge-base entry close to a question, with the matcher's 0..1 score."""

    entry_id: str
    score: float
    headline: str  # the entry's first phrasing in the question's language


def nearest_entries(
    text: str, kb: KnowledgeBase, matcher: Matcher, lang: str | None = None, limit: int = NEAREST
) -> tuple[Nearest, ...]:
    """The ``limit`` best entries for ``text``, best first (possibly fewer, or none)."""
    lang = lang or detect_language(text)
    return tuple(
        Nearest(c.entry_id, c.score, kb.entries[c.entry_id].headline(lang))
        for c in matcher.rank(text, limit)
        if c.entry_id in kb.entries  # the matcher may be a reload behind
    )


# --- staff posts and replies to investors (Telegram HTML)


def format_utc(stamp: str) -> str:
    """``2026-11-25T10:03:00+00:00`` -> ``2026-11-25 10:03 UTC`` (unparseable text is returned as is)."""
    try:
        moment = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's message limit."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _head_units(text: str, limit: int) -> str:
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
    longest_note = f"… ({len(text)} more characters)"  # N is at most len(text): the note is no longer
    head = _head_units(text, max(limit - utf16_len(longest_note), 0)).rstrip()
    return f"{head}… ({len(text) - len(head)} more characters)"


def _shown_units(line: str) -> int:
    """UTF-16 units Telegram shows for a line of the HTML built here (tags, escaped text)."""
    return utf16_len(html.unescape(re.sub(r"<[^>]*>", "", line)))


def describe_user(user_id: int | None, profile: UserProfile | None) -> str:
    """Plain text naming who asked: ``Li Wei (@li_invest), id 12345``."""
    if user_id is None:
        return "identity removed (the investor used /forget)"
    parts = []
    if profile is not None and profile.first_name:
        parts.append(profile.first_name)
    if profile is not None and profile.username:
        parts.append(f"(@{profile.username})" if parts else f"@{profile.username}")
    name = " ".join(parts)
    return f"{name}, id {user_id}" if name else f"id {user_id}"


@dataclass(frozen=True)
class StaffPost:
    """What the staff chat shows for a queued question: the data, and ``html`` ready to send.

    The Telegram side adds the buttons (Dismiss; "Add as phrasing of" ``best``).
    """

    item_id: int
    reason: PostReason
    question: str
    lang: str
    asked_at: str  # stored UTC timestamp
    user_id: int | None
    first_name: str | None
    username: str | None
    who: str  # plain text, as in describe_user
    nearest: tuple[Nearest, ...]
    html: str

    @property
    def best(self) -> Nearest | None:
        return self.nearest[0] if self.nearest else None


def build_staff_post(
    item: UnansweredItem,
    profile: UserProfile | None,
    nearest: Sequence[Nearest],
    reason: PostReason = "unanswered",
) -> StaffPost:
    """The staff-chat message for a queue item; every text from outside is escaped."""
    if profile is not None and profile.user_id != item.user_id:
        profile = None  # never show somebody else's name
    who = describe_user(item.user_id, profile)
    title = POST_TITLES[reason]
    heading = f"<b>{html.escape(title)} #{item.id}</b>"
    lines = [
        f"From: {html.escape(who)}",
        f"Language: {html.escape(item.lang)} · {html.escape(format_utc(item.created_at))}",
    ]
    if nearest:
        lines.append("Nearest entries:")
        lines += [
            f"{n}. <code>{html.escape(c.entry_id)}</code> {c.score:.2f} · {html.escape(_shorten(c.headline, 120))}"
            for n, c in enumerate(nearest, 1)
        ]
    else:
        lines.append("Nearest entries: none")
    lines.append("Admins: reply to this message to answer the investor.")
    # The question gets what the other lines and the closing note leave of Telegram's limit (one unit
    # per line break); the full text stays in the database (etown-bot unanswered show).
    others = sum(_shown_units(line) + 1 for line in [heading, *lines])
    room = min(MAX_POST_QUESTION_UNITS, MAX_MESSAGE_UNITS - CLOSING_NOTE_UNITS - others)
    lines[:0] = [heading, f"<blockquote>{html.escape(shorten_utf16(item.text, room))}</blockquote>"]
    return StaffPost(
        item_id=item.id,
        reason=reason,
        question=item.text,
        lang=item.lang,
        asked_at=item.created_at,
        user_id=item.user_id,
        first_name=profile.first_name if profile else None,
        username=profile.username if profile else None,
        who=who,
        nearest=tuple(nearest),
        html="\n".join(lines),
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


def investor_reply_html(question: str, reply: str, lang: str) -> str:
    """The message an investor receives when staff answer: a header, their question quoted, the reply.

    Raises ValueError (with a message for staff) when the reply is empty or too long for one message.
    """
    reply = reply.strip()
    if not reply:
        raise ValueError("the reply is empty")
    if (units := utf16_len(reply)) > MAX_REPLY_UNITS:
        raise ValueError(
            f"the reply is too long: Telegram counts {units} characters (an emoji counts 2), "
            f"at most {MAX_REPLY_UNITS} fit one message"
        )
    return f"{investor_reply_header(question, lang)}\n{html.escape(reply)}"


def investor_reply_header(question: str, lang: str) -> str:
    """The team's header and the investor's question, quoted and escaped: what precedes any staff answer."""
    if lang == "zh":
        header, asked = "北京经开区团队的回复", "您的问题："
    else:
        header, asked = "Answer from the Beijing E-Town team", "You asked:"
    quote = " ".join(question.split())
    if utf16_len(quote) > MAX_QUOTE_UNITS:  # a plain ellipsis: the investor has their own words
        quote = _head_units(quote, MAX_QUOTE_UNITS - 1) + "…"
    quote = html.escape(quote)
    return f"<b>{header}</b>\n{asked}\n<blockquote>{quote}</blockquote>"


# --- statistics


@dataclass(frozen=True)
class WindowStats:
    """Questions of one time window by decision."""

    label: str
    since: str
    counts: StatusCounts

    def rate(self, status: Literal["answered", "suggested", "unanswered"]) -> float:
        """Share of the window's questions with that status (0 when there were none)."""
        total = self.counts.total
        return getattr(self.counts, status) / total if total else 0.0


@dataclass(frozen=True)
class StatsSummary:
    """Everything ``/stats`` and ``etown-bot stats`` show."""

    generated_at: str
    windows: tuple[WindowStats, ...]  # 24 h, 7 d, 30 d
    top_entries: tuple[tuple[str, int], ...]  # answered most often in the last 30 days
    helpful: int  # feedback of the last 30 days
    not_helpful: int
    open_items: int
    top_groups: tuple[Group, ...]
    daily: tuple[DayCount, ...]  # the last 30 UTC days, oldest first
    undelivered: int = 0  # replies Telegram would not take (30 d): handed to staff
    quarantined: int = 0  # updates the bot could not read, set aside (all kept)

    @property
    def helpful_ratio(self) -> float | None:
        total = self.helpful + self.not_helpful
        return self.helpful / total if total else None


async def collect_stats(
    store: Store, *, now: dt.datetime | None = None, normalizer: Normalizer | None = None, top: int = 5
) -> StatsSummary:
    """Read the figures of the summary from the log."""
    now = now or dt.datetime.now(dt.UTC)
    windows = []
    for label, span in STATS_WINDOWS:
        since = timestamp(now - span)
        windows.append(WindowStats(label, since, await store.status_counts(since)))
    month = windows[-1].since
    helpful, not_helpful = await store.feedback_counts(since=month)
    groups = await open_groups(store, normalizer)
    return StatsSummary(
        generated_at=timestamp(now),
        windows=tuple(windows),
        top_entries=tuple(await store.top_entries(month, limit=top)),
        helpful=helpful,
        not_helpful=not_helpful,
        open_items=sum(g.count for g in groups),
        top_groups=tuple(groups[:top]),
        daily=tuple(await store.daily_counts(CHART_DAYS, today=now.astimezone(dt.UTC).date())),
        undelivered=await store.count_undelivered(month),
        quarantined=await store.count_quarantined(),
    )


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def format_stats(summary: StatsSummary) -> str:
    """A plain-text table (monospace) of the summary."""
    lines = [f"Questions (as of {format_utc(summary.generated_at)})"]
    lines.append(f"{'window':<8}{'total':>7}{'answered':>10}{'suggested':>11}{'unanswered':>12}")
    for window in summary.windows:
        lines.append(
            f"{window.label:<8}{window.counts.total:>7}{_percent(window.rate('answered')):>10}"
            f"{_percent(window.rate('suggested')):>11}{_percent(window.rate('unanswered')):>12}"
        )
    ratio = summary.helpful_ratio
    feedback = summary.helpful + summary.not_helpful
    lines.append("")
    lines.append(
        f"Helpful (30 d): {_percent(ratio)} of {feedback} rating(s)"
        if ratio is not None
        else "Helpful (30 d): no ratings"
    )
    lines.append("")
    lines.append("Top entries (30 d):")
    lines += [f"  {count:>5}  {entry_id}" for entry_id, count in summary.top_entries] or ["  none"]
    lines.append("")
    lines.append(f"Open questions: {summary.open_items}")
    lines += [f"  {g.count:>5}  {g.newest_day}  {_shorten(g.representative, 80)}" for g in summary.top_groups] or [
        "  none"
    ]
    lines.append("")
    lines.append(f"Replies not delivered (30 d): {summary.undelivered}")
    lines.append(f"Updates set aside as unreadable: {summary.quarantined}")
    return "\n".join(lines)


def stats_dict(summary: StatsSummary) -> dict[str, Any]:
    """The summary as JSON-ready data (``etown-bot stats --json``; keys are an interface)."""
    return {
        "generated_at": summary.generated_at,
        "windows": {
            w.label.replace(" ", ""): {
                "since": w.since,
                "total": w.counts.total,
                "answered": w.counts.answered,
                "suggested": w.counts.suggested,
                "unanswered": w.counts.unanswered,
                "answered_rate": round(w.rate("answered"), 4),
                "suggested_rate": round(w.rate("suggested"), 4),
                "unanswered_rate": round(w.rate("unanswered"), 4),
            }
            for w in summary.windows
        },
        "top_entries": [{"entry_id": e, "count": n} for e, n in summary.top_entries],
        "feedback": {
            "helpful": summary.helpful,
            "not_helpful": summary.not_helpful,
            "helpful_ratio": None if summary.helpful_ratio is None else round(summary.helpful_ratio, 4),
        },
        "open_items": summary.open_items,
        "top_groups": [
            {"question": g.representative, "count": g.count, "newest": g.newest, "item_ids": list(g.item_ids)}
            for g in summary.top_groups
        ],
        "daily": [{"day": d.day, "answered": d.answered, "not_answered": d.not_answered} for d in summary.daily],
        "undelivered": summary.undelivered,
        "quarantined": summary.quarantined,
    }


def render_chart(daily: Sequence[DayCount], title: str = "Questions per day, last 30 days (UTC)") -> bytes:
    """A PNG bar chart of answered vs not answered (suggested or unanswered) questions per day.

    CPU-bound for about 0.1 s: call it through ``asyncio.to_thread`` from the bot.
    """
    # The object API with the Agg canvas: no pyplot global state, no display needed, thread-safe.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(daily)))
    answered = [d.answered for d in daily]
    other = [d.not_answered for d in daily]
    axes.bar(positions, answered, color="#2e7d32", label="answered")
    axes.bar(positions, other, bottom=answered, color="#c62828", label="not answered")
    step = max(1, len(daily) // 6)
    axes.set_xticks(positions[::step], [d.day[5:] for d in daily][::step])
    axes.set_xlim(-0.6, max(len(daily), 1) - 0.4)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title)
    axes.legend(loc="upper left", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# --- CSV export


def neutralize(cell: str) -> str:
    """Defuse spreadsheet formula injection: prefix an apostrophe to text a spreadsheet would evaluate."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _csv_row(record: QuestionRecord) -> list[Any]:
    # Numbers stay numbers (a negative group chat id is a number, not a formula); every text is defused.
    values: list[Any] = [
        record.id,
        record.asked_at,
        record.user_id,
        record.chat_id,
        record.lang,
        record.status,
        record.entry_id,
        round(record.score, 4),
        record.text,
    ]
    return [neutralize(v) if isinstance(v, str) else ("" if v is None else v) for v in values]


def write_csv(records: Iterable[QuestionRecord], out: TextIO) -> int:
    """Write a header and one row per record; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for record in records:
        writer.writerow(_csv_row(record))
        count += 1
    return count


# The days an export may name: the log has nothing older, and a far-off end ("9999-12-31") would
# overflow the day after it. Leaving a date out means no limit on that side.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits: fromisoformat also takes "20261105" and weeks


def parse_day(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` date from ``FIRST_DAY`` to ``LAST_DAY``; ValueError with a message for users otherwise."""
    text = text.strip()
    try:
        if not _DAY.fullmatch(text):
            raise ValueError
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{text} is outside {FIRST_DAY} to {LAST_DAY} (leave a date out for no limit)")
    return day


def day_bounds(first: dt.date | None, last: dt.date | None) -> tuple[str | None, str | None]:
    """Stored-timestamp bounds ``[start, end)`` covering the whole days ``first`` .. ``last`` (UTC)."""
    if first is not None and last is not None and first > last:
        raise ValueError(f"the start date {first} is after the end date {last}")
    start = first.isoformat() if first else None
    end = (last + dt.timedelta(days=1)).isoformat() if last else None
    return start, end


async def export_csv(store: Store, out: TextIO, first: dt.date | None = None, last: dt.date | None = None) -> int:
    """Write the question log of the UTC days ``first`` .. ``last`` (inclusive, either open) as CSV."""
    start, end = day_bounds(first, last)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    async for record in store.iter_questions(start, end):
        writer.writerow(_csv_row(record))
        count += 1
    return count


async def export_csv_bytes(store: Store, first: dt.date | None = None, last: dt.date | None = None) -> bytes:
    """The export as a UTF-8 file with a byte-order mark, so spreadsheet programs read Chinese right."""
    buffer = io.StringIO()
    await export_csv(store, buffer, first, last)
    return buffer.getvalue().encode("utf-8-sig")


# --- knowledge-base suggestions


def _slug(normalized: str) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", normalized) if w not in _SLUG_STOPWORDS]
    return "-".join(words[:5])


def _yaml_block(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)


def _comment(text: str) -> str:
    return "# " + " ".join(text.split())


def suggest_yaml(
    groups: Sequence[Group],
    kb: KnowledgeBase,
    matcher: Matcher,
    min_score: float | None = None,
    max_phrasings: int = 10,
) -> str:
    """YAML for staff to paste into ``faq/``: open groups as new phrasings of their nearest entry, or
    as skeletons of new entries when no entry is near enough (score below ``min_score``, by default
    halfway between the matcher's suggest and answer thresholds).

    The text loads with ``yaml.safe_load`` as ``{"phrasings": {entry id: {lang: [...]}}, "new_entries": [...]}``.
    Wordings the knowledge base already has are left out (``check`` refuses the same question twice).
    Skeletons have empty answers, which ``etown-bot check`` refuses: one pasted unedited never goes live.
    """
    settings = matcher.settings
    # Halfway between "offered as did-you-mean" and "answered": near enough to be the same question.
    threshold = (settings.suggest_threshold + settings.answer_threshold) / 2 if min_score is None else min_score
    normalizer = matcher.normalizer
    known = {
        normalizer.normalize(text)
        for entry in kb.entries.values()
        for texts in entry.questions.values()
        for text in texts
    }
    phrasings: dict[str, dict[str, list[str]]] = {}
    notes: dict[str, list[str]] = {}
    new_entries: list[tuple[str, dict[str, Any]]] = []
    taken = set(kb.entries)
    for group in groups:
        by_lang: dict[str, list[str]] = {}
        for text in group.texts:
            normalized = normalizer.normalize(text)
            if not normalized or normalized in known:
                continue
            known.add(normalized)
            bucket = by_lang.setdefault(detect_language(text), [])
            if len(bucket) < max_phrasings:
                bucket.append(text)
        if not by_lang:
            continue
        ranked = matcher.rank(group.representative, 1)
        best = ranked[0] if ranked and ranked[0].entry_id in kb.entries else None
        if best is not None and best.score >= threshold:
            entry = kb.entries[best.entry_id]
            target = phrasings.setdefault(entry.id, {})
            for lang in sorted(by_lang):
                target.setdefault(lang, []).extend(by_lang[lang])
            notes.setdefault(entry.id, []).append(
                f"asked {group.count}x, newest {group.newest_day}, score {best.score:.2f}"
            )
            if len(notes[entry.id]) == 1:
                notes[entry.id].insert(0, f"{entry.id} ({entry.file}:{entry.line}): add under its questions:")
            continue
        # Named by its English words with synonyms applied ("E-Town" -> etown); a Chinese question has none.
        latin = bool(_slug(clean(group.representative)))
        base = (_slug(normalizer.normalize(group.representative)) if latin else "") or "new-question"
        entry_id, n = base, 2
        while entry_id in taken:
            entry_id, n = f"{base}-{n}", n + 1
        taken.add(entry_id)
        skeleton: dict[str, Any] = {"id": entry_id}
        if best is not None and kb.entries[best.entry_id].topic:
            skeleton["topic"] = kb.entries[best.entry_id].topic
        skeleton["questions"] = {lang: by_lang[lang] for lang in sorted(by_lang)}
        skeleton["answer"] = {lang: "" for lang in ("en", "zh")}
        note = f"asked {group.count}x, newest {group.newest_day}"
        if best is not None:
            note += f"; nearest: {best.entry_id} {best.score:.2f} (too far)"
        new_entries.append((note, skeleton))

    lines = [
        _comment(f"etown-bot unanswered suggest: {len(groups)} open group(s)"),
        "# Review before pasting, then run `etown-bot check`.",
        "# phrasings: new ways investors asked an existing entry; add each list under that entry's `questions:`.",
        "# new_entries: questions no entry answers; paste into an entries file, write the answer (and a source).",
        "#   Their answers are empty on purpose: `check` refuses them until you write one.",
    ]
    if phrasings:
        lines.append("phrasings:")
        for entry_id, by_lang in phrasings.items():
            lines += ["  " + _comment(note) for note in notes[entry_id]]
            block = _yaml_block({entry_id: {lang: by_lang[lang] for lang in sorted(by_lang)}})
            lines += ["  " + line for line in block.splitlines()]
    else:
        lines.append("phrasings: {}")
    if new_entries:
        lines.append("new_entries:")
        for note, skeleton in new_entries:
            lines.append(_comment(note))
            lines += _yaml_block([skeleton]).splitlines()
    else:
        lines.append("new_entries: []")
    return "\n".join(lines) + "\n"
