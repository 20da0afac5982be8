"""``etown-bot shell``: the investor's chat in a terminal, logged to the database like the bot."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from bot.assistant import Assistant, Reply
from bot.conversation import Turn
from bot.languages import AUTO, REPLY_LANGS, reply_lang
from bot.render import format_text
from bot.words import words


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
        if text.isdigit() and (self.choice.entries or self.choice.topics or self.choice.reply):
            await self.pick(int(text))
            return True
        reply = await self.assistant.ask(text, user_id=None, chat_id=None, lang=self.lang, context=self.turn)
        if reply.turn is not None:
            self.turn = reply.turn
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
        else:
            self.say(words(lang).shell.unknown)
        return True

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
                reply.question_id, user_id=None, chat_id=None, lang=reply.lang, text=reply.question
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


async def run_shell(assistant: Assistant, read: Callable[[], str] | None = None, out: TextIO = sys.stdout) -> None:
    """Read lines until end of input or /quit; blocking reads run in a thread."""
    shell = Shell(assistant, out)
    shell.say(words("en").shell.welcome)
    reader = read or (lambda: input("> "))
    while True:
        try:
            line = await asyncio.to_thread(reader)
        except (EOFError, KeyboardInterrupt):
            shell.say("")
            return
        if not await shell.handle(line):
            return
