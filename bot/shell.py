"""``etown-bot shell``: the investor's chat in a terminal, logged to the database like the bot."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.assistant import Assistant, Reply
from bot.conversation import Turn
from bot.languages import AUTO, REPLY_LANGS, reply_lang
from bot.render import format_text
from bot.storage import CONSOLE_CHAT_ID
from bot.words import words

_YEAR = re.compile(r"(?:19|20)[0-9]{2}")


@dataclass
class _Choice:
    """What a number typed next means: an entry to show, a topic to open, or 'none of these'."""

    entries: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    reply: Reply | None = None
    lang: str | None = None  # the language the choices were shown in: what is picked is shown in it too


class Shell:
    """A console conversation; ``reader``/``out`` are injectable for tests."""

    def __init__(self, assistant: Assistant, out: TextIO = sys.stdout, lang: str | None = None) -> None:
        self.assistant = assistant
        self.out = out
        self.lang = lang  # None: follow each question's language
        self.choice = _Choice()
        self.turn: Turn | None = None  # the last answer, for follow-ups ("and in 2021?")
        self.last: Reply | None = None  # the last question's reply, for /why

    def ui_lang(self, text: str = "") -> str:
        return self.lang or (reply_lang(text) if text else "en")

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def handle(self, line: str) -> bool:
        """Process one input line; False when the user wants to leave."""
        text = line.strip()
        if not text:
            return True
        if text.startswith("/"):
            return await self.command(text)
        choice = self.choice
        if text.isdigit() and (choice.entries or choice.topics or choice.reply):
            number = int(text)
            count = len(choice.topics) or len(choice.entries)
            # A year ("2021") is a follow-up question, not a choice.
            if 0 < number <= count or (number == 0 and choice.reply is not None) or not _YEAR.fullmatch(text):
                await self.pick(number)
                return True
        reply = await self.assistant.ask(text, user_id=None, chat_id=CONSOLE_CHAT_ID, lang=self.lang, context=self.turn)
        if reply.turn is not None:
            self.turn = reply.turn
        self.last = reply
        self.show(reply)
        return True

    async def command(self, text: str) -> bool:
        name = text.split()[0].lower()
        lang = self.ui_lang()
        if name in ("/quit", "/exit"):
            self.say(words(lang).shell.bye)
            return False
        if name == "/start":
            self.turn = None  # a fresh start: no follow-up of what came before
        if name in ("/help", "/start"):
            self.say(words(lang).shell.welcome)
        elif name == "/lang":
            # /lang en|zh|zh-Hant|auto, or the next of auto -> English -> 简体 -> 繁體 -> auto
            wanted = text.split()[1] if len(text.split()) > 1 else None
            order: tuple[str | None, ...] = (None, *REPLY_LANGS)
            if wanted is not None and wanted in (AUTO, *REPLY_LANGS):
                self.lang = None if wanted == AUTO else wanted
            else:
                self.lang = order[(order.index(self.lang) + 1) % len(order)] if self.lang in order else None
            self.say(words(self.lang).shell.lang if self.lang else words(lang).lang_auto_set)
        elif name == "/topics":
            self.show_topics()
        elif name == "/why":
            self.why(lang)
        else:
            self.say(words(lang).shell.unknown)
        return True

    def why(self, lang: str) -> None:
        """How the last question was matched: its status, the best entry and its confidence (the
        calibrated probability that it is right), and the runners-up with the phrasing each matched on."""
        shell = words(lang).shell
        reply = self.last
        if reply is None:
            self.say(shell.why_nothing)
            return
        match = reply.match
        best = match.best
        self.say(
            shell.why.format(
                question=reply.question,
                status=match.status,
                entry=best.entry_id if best else "-",
                score=best.score if best else 0.0,
            )
        )
        for rank, candidate in enumerate(match.candidates[:5], 1):
            self.say(
                shell.why_candidate.format(
                    rank=rank, entry=candidate.entry_id, score=candidate.score, phrasing=candidate.phrasing
                )
            )

    def show_topics(self, lang: str | None = None) -> None:
        lang = lang or self.ui_lang()
        kb = self.assistant.knowledge.kb
        topics = [t for t in kb.topics if kb.topic_entries(t.id)]
        self.say(words(lang).shell.topics)
        for number, topic in enumerate(topics, 1):
            self.say(f"{number}. {topic.label(lang)}")
        self.say(words(lang).shell.pick)
        self.choice = _Choice(topics=[t.id for t in topics], lang=lang)

    async def pick(self, number: int) -> None:
        choice = self.choice
        lang = choice.lang or self.ui_lang()
        count = len(choice.topics) or len(choice.entries)
        if not 1 <= number <= count and not (number == 0 and choice.reply is not None):
            # issue 17: an out-of-range number was ignored without a word
            first = 0 if choice.reply is not None else 1
            self.say(words(lang).shell.no_choice.format(number=number, choices=f"{first}-{count}"))
            return
        if choice.topics:
            if 1 <= number <= len(choice.topics):
                entries = self.assistant.knowledge.kb.topic_entries(choice.topics[number - 1])
                if not entries:
                    self.say(words(lang).shell.empty_topic)
                    return
                for index, entry in enumerate(entries, 1):
                    self.say(f"{index}. {entry.headline(lang)}")
                self.say(words(lang).shell.pick)
                self.choice = _Choice(entries=[e.id for e in entries], lang=lang)
            return
        if number == 0 and choice.reply is not None:
            reply = choice.reply
            await self.assistant.none_of_these(
                reply.question_id, user_id=None, chat_id=CONSOLE_CHAT_ID, lang=reply.lang, text=reply.question
            )
            self.say(words(reply.lang).shell.queued)
            self.choice = _Choice()
            return
        if 1 <= number <= len(choice.entries):
            answer_lang = choice.reply.lang if choice.reply else lang
            answer = self.assistant.answer(choice.entries[number - 1], answer_lang)
            if answer is not None:
                self.say(format_text(answer))
            self.choice = _Choice()

    def show(self, reply: Reply) -> None:
        lang = reply.lang
        if reply.answer is not None:
            self.say(format_text(reply.answer))
            if reply.period_gap:  # no figure for the year asked: handed to staff as well
                self.say(words(lang).period_handed)
            self.choice = _Choice()
        elif reply.text is not None:  # small talk, or a message with nothing to answer
            self.say(reply.text)
            self.choice = _Choice()
            if reply.topics:
                self.show_topics(lang)
        elif reply.suggestions:
            self.say(words(lang).shell.did_you_mean)
            for number, suggestion in enumerate(reply.suggestions, 1):
                self.say(f"{number}. {suggestion.question}")
            self.say(words(lang).shell.none)
            self.choice = _Choice(entries=[s.entry_id for s in reply.suggestions], reply=reply)
        else:
            self.say(words(lang).shell.unanswered)
            self.choice = _Choice()


async def run_shell(
    assistant: Assistant,
    read: Callable[[], str] | None = None,
    out: TextIO = sys.stdout,
    history: Path | None = None,
) -> None:
    """Read lines until end of input or /quit; blocking reads run in a thread. ``history``: where the lines
    typed are kept between sessions (readline: arrow keys, editing, Ctrl-R) when reading a terminal."""
    shell = Shell(assistant, out)
    shell.say(words("en").shell.welcome)
    reader = read or (lambda: input("> "))
    editing = read is None and history is not None and _line_editing(history)
    try:
        while True:
            try:
                line = await asyncio.to_thread(reader)
            except (EOFError, KeyboardInterrupt):
                shell.say("")
                return
            if not await shell.handle(line):
                return
    finally:
        if editing:
            _save_history(history)


HISTORY_LINES = 1000


def _line_editing(history: Path) -> bool:
    """Turn on readline's editing and history for ``input()`` (a terminal only: piped input stays plain)."""
    if not sys.stdin.isatty():
        return False
    try:
        import readline
    except ImportError:  # Windows without pyreadline: input() still works, without history
        return False
    readline.set_history_length(HISTORY_LINES)
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    return True


def _save_history(history: Path | None) -> None:
    import readline

    if history is None:
        return
    with contextlib.suppress(OSError):
        history.parent.mkdir(parents=True, exist_ok=True)
        readline.write_history_file(history)
        history.chmod(0o600)  # what investors' questions were typed is as private as the log
