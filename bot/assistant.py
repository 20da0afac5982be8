"""What the bot does with a question, independent of Telegram: match, render, log.

``Knowledge`` holds the live knowledge base and its matcher and swaps them atomically on a valid
reload; an invalid one leaves the serving version untouched. ``Assistant`` answers questions
for the console shell and the Telegram handlers alike.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import MatchingConfig
from bot.conversation import FOLLOW_UP_UNKNOWN, Turn, follow_up, names_only_a_period
from bot.knowledge.errors import KnowledgeBaseInvalid as KnowledgeBaseInvalid  # re-exported: it lived here
from bot.knowledge.load import load_knowledge_base
from bot.knowledge.model import Entry, Issue, KnowledgeBase, LoadResult
from bot.knowledge.synonyms import load_normalizer as load_normalizer  # re-exported: it lived here
from bot.languages import localized, reply_lang
from bot.matching.smalltalk import has_words
from bot.periods import PeriodReply, asked_years, period_reply, without_years
from bot.render import Answer, period_answer, render_answer
from bot.storage import Handoff, PostReason, QuestionRecord, Store, utcnow
from bot.words import words

if TYPE_CHECKING:
    from bot.matching.matcher import Candidate, Match, Matcher, Status

log = logging.getLogger(__name__)


def _report_log_failure(write: asyncio.Future[None]) -> None:
    if not write.cancelled() and (error := write.exception()) is not None:
        log.error("could not log a question (it was answered): %s", error, exc_info=error)


@dataclass(frozen=True)
class Snapshot:
    """A knowledge base with the matcher built for it; replaced whole, never mutated."""

    kb: KnowledgeBase
    matcher: Matcher


def _matcher_class() -> type[Matcher]:
    # Imported on first load, not with this module: the staff's command line (``unanswered list``) needs
    # Knowledge's normaliser and errors, not rapidfuzz and the matcher (about 40 ms of its start).
    from bot.matching.matcher import Matcher

    return Matcher


class Knowledge:
    """The live knowledge base of a running bot or shell."""

    def __init__(self, directory: Path, settings: MatchingConfig, cache_dir: Path | None = None) -> None:
        """``cache_dir``: where the matcher keeps its fitted classifier between starts (None: fit every time)."""
        self.directory = directory
        self.settings = settings
        self.cache_dir = cache_dir
        self._snapshot: Snapshot | None = None
        self.warnings: tuple[Issue, ...] = ()  # of the live version: a reload reports only new ones

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            raise RuntimeError("knowledge base not loaded")
        return self._snapshot

    @property
    def kb(self) -> KnowledgeBase:
        return self.snapshot.kb

    @property
    def matcher(self) -> Matcher:
        return self.snapshot.matcher

    def load(self) -> LoadResult:
        """Load and validate; on success swap in the new version, on errors keep the old one."""
        result = load_knowledge_base(self.directory)
        if result.kb is None:
            if self._snapshot is None:
                raise KnowledgeBaseInvalid(result, self.directory)
            log.warning("knowledge base reload refused: %d error(s); keeping the last good version", len(result.errors))
            return result
        self._snapshot = Snapshot(
            result.kb, _matcher_class().from_knowledge_base(result.kb, self.settings, cache_dir=self.cache_dir)
        )
        self.warnings = tuple(result.warnings)
        return result


def chat_reply(kb: KnowledgeBase, kind_id: str | None, lang: str) -> tuple[str, bool]:
    """The reply to small talk of ``kind_id`` (None: an unclear message), and whether it shows the topics."""
    talk = kb.smalltalk
    kind = talk.kind(kind_id) if kind_id is not None else None
    texts = kind.reply if kind is not None else talk.unclear
    return localized(texts, lang) or words(lang).rephrase, kind is not None and kind.topics


def _only_the_year(match: Match, entry_id: str, matcher: Matcher) -> bool:
    """Whether only the year kept ``match`` from answering with ``entry_id`` (which answers the question without
    its year): scored as if every candidate named the year, it is the best one. Otherwise the question
    without its year is another question ("How big was Beijing's health industry in 2024?" without the year
    went to Beijing's biopharma share, second to the Beijing measures with the year too), and that entry's
    figures are not this one's nearest."""
    from dataclasses import replace as copy

    from bot.matching.confidence import probability

    calibration = matcher.settings.calibration
    scores = {
        c.entry_id: probability(calibration, copy(c.signals, year_missing=0.0)) if c.signals is not None else c.score
        for c in match.candidates
    }
    return entry_id in scores and scores[entry_id] == max(scores.values())


@dataclass(frozen=True)
class Suggestion:
    entry_id: str
    question: str  # the entry's headline in the reply language
    score: float


@dataclass(frozen=True)
class Reply:
    """The outcome of one question, ready for any front end to lay out."""

    question: str
    lang: str
    match: Match
    answer: Answer | None
    suggestions: tuple[Suggestion, ...]
    question_id: int | None = None
    unanswered_id: int | None = None
    text: str | None = None  # the reply to small talk or an unclear message (``smalltalk.yaml``)
    topics: bool = False  # show the topics with it (a greeting)
    # ``answer`` says the sources have no figure for the year asked (the nearest instead); the question is
    # handed to staff like an unanswered one, and the reply says so after the answer (``bot.periods``).
    period_gap: bool = False
    turn: Turn | None = None  # what the chat remembers for a follow-up (``bot.conversation``): set when answered

    @property
    def status(self) -> str:
        return self.match.status


class Assistant:
    """Answers questions against the live knowledge base and logs them (when a store is given)."""

    def __init__(
        self,
        knowledge: Knowledge,
        store: Store | None = None,
        max_logged_chars: int = 4000,
        max_question_chars: int = 1000,
    ) -> None:
        self.knowledge = knowledge
        self.store = store
        self.max_logged_chars = max_logged_chars
        # Long messages are matched on a truncated copy (a question fits in far less) but logged
        # up to max_logged_chars, so staff see what was actually sent.
        self.max_question_chars = max_question_chars

    def entry(self, entry_id: str) -> Entry | None:
        return self.knowledge.kb.entries.get(entry_id)

    def answer(self, entry_id: str, lang: str) -> Answer | None:
        """The rendered answer of an entry, or None if the id is unknown (e.g. after a reload)."""
        snapshot = self.knowledge.snapshot
        entry = snapshot.kb.entries.get(entry_id)
        return render_answer(snapshot.kb, entry, lang) if entry is not None else None

    def suggestions(self, candidates: tuple[Candidate, ...], lang: str) -> tuple[Suggestion, ...]:
        kb = self.knowledge.kb
        return tuple(
            Suggestion(c.entry_id, kb.entries[c.entry_id].headline(lang), c.score)
            for c in candidates
            if c.entry_id in kb.entries
        )

    def resolve(self, question: str, lang: str | None = None, context: Turn | None = None) -> Reply:
        """Match and render without logging (``etown-bot ask``); ``context``: the chat's last answer.

        A message not answered on its own that reads as a follow-up of ``context`` ("and in 2021?", "how many
        hospitals are near it?") is asked again with it (``bot.conversation.follow_up``); the reply is the
        follow-up's when that is answered. A message answered on its own never looks at the context.
        """
        reply = self._resolve(question, lang)
        if context is None:
            return reply
        period_only = names_only_a_period(question)
        if reply.status in ("suggested", "unanswered", "unclear") or period_only:
            rewritten = follow_up(question, context)
            if rewritten is not None:
                follow_lang = lang or (reply_lang(question) if has_words(question) else context.lang)
                other = self._resolve(rewritten, follow_lang)
                entry_id = other.answer.entry_id if other.answer is not None else None
                if (
                    (other.status == "answered" or other.period_gap)
                    and entry_id is not None
                    # the message's own key words are the entry's: "its phone number?" is not Pfizer's answer
                    and (period_only or self.knowledge.matcher.unknown_to(question, entry_id) <= FOLLOW_UP_UNKNOWN)
                    # a bare period answered on its own by another entry that names it ("and in 2025?" after
                    # H1 2024: the 2025 approvals) keeps that answer unless the last entry has the period too
                    and not (
                        period_only
                        and reply.status == "answered"
                        and (entry_id != context.entry_id or other.period_gap)
                    )
                ):
                    reply = replace(other, question=question)
        return reply

    def _resolve(self, question: str, lang: str | None) -> Reply:
        reply = self._decide(question, lang)
        entry_id = (
            reply.answer.entry_id
            if reply.answer is not None and (reply.status == "answered" or reply.period_gap)
            else None
        )
        if entry_id is None:
            return reply
        entry = self.knowledge.kb.entries.get(entry_id)
        topic = entry.topic if entry is not None else None
        return replace(reply, turn=Turn(entry_id, topic, question, time.time(), reply.lang))

    def _decide(self, question: str, lang: str | None = None) -> Reply:
        snapshot = self.knowledge.snapshot
        head = question[: self.max_question_chars]
        match = snapshot.matcher.match(head)
        lang = lang or reply_lang(head)
        if match.status in ("smalltalk", "unclear"):
            text, topics = chat_reply(snapshot.kb, match.kind, lang)
            return Reply(question, lang, match, None, (), text=text, topics=topics)
        dated = self._period(snapshot, head, match)
        if dated is not None:
            match, period = dated
            answer = period_answer(snapshot.kb, period, lang)
            return Reply(question, lang, match, answer, (), period_gap=not period.found)
        plain = None
        if match.entry_id is not None:
            plain = render_answer(snapshot.kb, snapshot.kb.entries[match.entry_id], lang)
        return Reply(question, lang, match, plain, self.suggestions(match.suggestions, lang))

    @staticmethod
    def _period(snapshot: Snapshot, question: str, match: Match) -> tuple[Match, PeriodReply] | None:
        """For a question naming a year: the decision and what the entry's figures say for it (``bot.periods``);
        None when there is nothing to add.

        The entry is the one answered, or, when the year kept the question from an answer ("biotech output in
        2023": no entry names 2023), the one its words without the year are answered with. The year's
        figures lead the answer; when the entry has none for it, the question is handed to staff.
        """
        years = asked_years(question)
        if not years or match.status in ("smalltalk", "unclear"):
            return None
        used = match
        if match.entry_id is None:
            bare = without_years(question)
            if not has_words(bare):
                return None
            used = snapshot.matcher.match(bare)
            if used.entry_id is None or not _only_the_year(match, used.entry_id, snapshot.matcher):
                return None
        entry = snapshot.kb.entries.get(used.entry_id or "")
        period = period_reply(snapshot.kb, entry, years) if entry is not None else None
        if period is None:
            return None
        status: Status = "answered" if period.found else "unanswered"
        return replace(match, status=status, candidates=used.candidates, suggestions=()), period

    async def ask(
        self,
        question: str,
        *,
        user_id: int | None,
        chat_id: int | None,
        lang: str | None = None,
        deliver: Callable[[Reply], Awaitable[None]] | None = None,
        first_name: str | None = None,
        username: str | None = None,
        context: Turn | None = None,
    ) -> Reply:
        """Resolve and log; an unanswered question is queued for staff.

        Without ``deliver`` this returns once the question is written. With it, ``deliver`` is called
        with the reply: an answer or suggestions go out first (their buttons carry the question id,
        reserved beforehand) and the row is queued after them, to be written with the next batch and
        with or before the update's done mark; a hand-off goes out once the question is queued for staff
        (the reply says whether it was). A failed write is reported in the logs and never costs the
        investor their answer. A reply that cannot be delivered (``deliver`` raises) is logged as not
        delivered and handed to staff, then the error propagates. ``first_name`` and ``username`` are
        shown to staff in the post about a hand-off.
        """
        reply = self.resolve(question, lang, context)
        store = self.store
        record = None if store is None else await self._record(store, reply, question, user_id, chat_id)
        if store is None or record is None:  # answered all the same, not logged
            if deliver is not None:
                await deliver(reply)
            return reply
        asker = {"first_name": first_name, "username": username}
        entry = self.entry(reply.match.entry_id) if reply.match.entry_id is not None else None
        if entry is not None and entry.hand_off:
            # "I want to talk to a person": answered, and passed to staff; the answer says so, so it goes out
            # once the question is queued, and a failed queue gets the honest "could not record" instead.
            logged = await self._log(store, reply, record, "asked_for_staff", **asker)
            if logged.unanswered_id is None:
                logged = replace(logged, answer=None, text=words(reply.lang).not_logged)
            return await self._deliver_queued(store, logged, deliver)
        if deliver is not None and reply.status != "unanswered":
            logged = replace(reply, question_id=record.id)
            try:
                await deliver(logged)
            except BaseException:
                # Not answered after all: logged as such, and staff follow it up.
                failed = replace(record, delivered=False)
                await self._log(store, reply, failed, "undelivered", **asker)
                raise
            # Deferred: written with the next batch (usually the next update's journal).
            store.queue_question(record, soon=False).add_done_callback(_report_log_failure)
            return logged
        logged = await self._log(store, reply, record, "unanswered", **asker)
        return await self._deliver_queued(store, logged, deliver)

    async def _deliver_queued(
        self, store: Store, logged: Reply, deliver: Callable[[Reply], Awaitable[None]] | None
    ) -> Reply:
        """Send a reply whose question is already written (and handed to staff); one that cannot be delivered
        is marked so, and the error propagates."""
        if deliver is not None:
            try:
                await deliver(logged)
            except BaseException:
                if logged.question_id is not None:
                    await self._undelivered(store, logged.question_id)
                raise
        return logged

    @staticmethod
    async def _undelivered(store: Store, question_id: int) -> None:
        try:
            await store.mark_undelivered(question_id)
        except sqlite3.Error:
            log.exception("could not mark a question as not delivered")

    async def _record(
        self, store: Store, reply: Reply, question: str, user_id: int | None, chat_id: int | None
    ) -> QuestionRecord | None:
        """The log row for a question, its id reserved; None (reported) if no id could be had."""
        try:
            question_id = await store.question_id()
        except sqlite3.Error:
            log.exception("could not log a question; answering anyway")
            return None
        match = reply.match
        text = question[: self.max_logged_chars]
        return QuestionRecord(
            question_id, utcnow(), user_id, chat_id, reply.lang, text, match.status, match.entry_id, match.score
        )

    @staticmethod
    async def _log(
        store: Store,
        reply: Reply,
        record: QuestionRecord,
        reason: PostReason,
        first_name: str | None = None,
        username: str | None = None,
    ) -> Reply:
        """Write the question, and hand it to staff if unanswered or not delivered: the reply with their ids
        (as it was if the write failed)."""
        try:
            await store.queue_question(record)
            unanswered_id = None
            if reply.status == "unanswered" or not record.delivered or reason == "asked_for_staff":
                handoff = await store.hand_off(
                    question_id=record.id,
                    user_id=record.user_id,
                    chat_id=record.chat_id,
                    lang=record.lang,
                    text=record.text,
                    reason=reason,
                    first_name=first_name,
                    username=username,
                )
                unanswered_id = None if handoff is None else handoff.item_id
        except sqlite3.Error:
            log.exception("could not log a question; answering anyway")
            return reply
        return replace(reply, question_id=record.id, unanswered_id=unanswered_id)

    async def none_of_these(
        self,
        question_id: int | None,
        *,
        user_id: int | None,
        chat_id: int | None,
        lang: str,
        text: str,
        first_name: str | None = None,
        username: str | None = None,
    ) -> Handoff | None:
        """The investor rejected every suggestion: hand the question to staff (once per question)."""
        if self.store is None:
            return None
        try:
            return await self.store.hand_off(
                question_id=question_id,
                user_id=user_id,
                chat_id=chat_id,
                lang=lang,
                text=text[: self.max_logged_chars],
                reason="none_of_these",
                first_name=first_name,
                username=username,
            )
        except sqlite3.Error:
            log.exception("could not queue a question for staff")
            return None
