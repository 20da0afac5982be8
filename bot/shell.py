"""``etown-bot shell``: the investor's chat in a terminal, logged to the database like the bot."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from bot.assistant import Assistant, Reply
from bot.matching.text import detect_language
from bot.render import format_text

MESSAGES = {
    "en": {
        "welcome": "Beijing E-Town investor assistant. Ask about policies, incentives, figures, parks and companies "
        "in English or Chinese.\nCommands: /topics, /lang, /help, /quit",
        "did_you_mean": "Did you mean:",
        "none": "0. None of these (pass my question to staff)",
        "pick": "Type a number to choose.",
        "unanswered": "I don't have a sourced answer to that yet. I have passed your question to the "
        "investment-promotion staff, who will follow up.",
        "queued": "Thank you. Your question has been passed to staff, who will follow up.",
        "topics": "Topics:",
        "lang": "Language set to English.",
        "unknown": "Unknown command. Try /topics, /lang, /help or /quit.",
        "empty_topic": "No questions in this topic yet.",
        "bye": "Goodbye.",
    },
    "zh": {
        "welcome": "北京经济技术开发区（亦庄）投资咨询助手。可用中文或英文询问政策、激励措施、数据、园区和企业。\n"
        "命令：/topics 主题，/lang 切换语言，/help 帮助，/quit 退出",
        "did_you_mean": "您是不是想问：",
        "none": "0. 都不是（将问题转给工作人员）",
        "pick": "请输入编号选择。",
        "unanswered": "暂时没有可引用来源的答案。您的问题已转给投资促进工作人员，他们会跟进回复。",
        "queued": "谢谢。您的问题已转给工作人员，他们会跟进回复。",
        "topics": "主题：",
        "lang": "语言已切换为中文。",
        "unknown": "未知命令。可用 /topics、/lang、/help 或 /quit。",
        "empty_topic": "该主题暂无问题。",
        "bye": "再见。",
    },
}


@dataclass
class _Choice:
    """What a number typed next means: an entry to show, a topic to open, or 'none of these'."""

    entries: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    reply: Reply | None = None


class Shell:
    """A console conversation; ``reader``/``out`` are injectable for tests."""

    def __init__(self, assistant: Assistant, out: TextIO = sys.stdout, lang: str | None = None) -> None:
        self.assistant = assistant
        self.out = out
        self.lang = lang  # None: follow each question's language
        self.choice = _Choice()

    def ui_lang(self, text: str = "") -> str:
        return self.lang or (detect_language(text) if text else "en")

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
        reply = await self.assistant.ask(text, user_id=None, chat_id=None, lang=self.lang)
        self.show(reply)
        return True

    async def command(self, text: str) -> bool:
        name = text.split()[0].lower()
        lang = self.ui_lang()
        if name in ("/quit", "/exit"):
            self.say(MESSAGES[lang]["bye"])
            return False
        if name in ("/help", "/start"):
            self.say(MESSAGES[lang]["welcome"])
        elif name == "/lang":
            self.lang = "zh" if self.ui_lang() == "en" else "en"
            self.say(MESSAGES[self.lang]["lang"])
        elif name == "/topics":
            self.show_topics()
        else:
            self.say(MESSAGES[lang]["unknown"])
        return True

    def show_topics(self) -> None:
        lang = self.ui_lang()
        kb = self.assistant.knowledge.kb
        topics = [t for t in kb.topics if kb.topic_entries(t.id)]
        self.say(MESSAGES[lang]["topics"])
        for number, topic in enumerate(topics, 1):
            self.say(f"{number}. {topic.title.get(lang) or next(iter(topic.title.values()))}")
        self.say(MESSAGES[lang]["pick"])
        self.choice = _Choice(topics=[t.id for t in topics])

    async def pick(self, number: int) -> None:
        choice, lang = self.choice, self.ui_lang()
        if choice.topics:
            if 1 <= number <= len(choice.topics):
                entries = self.assistant.knowledge.kb.topic_entries(choice.topics[number - 1])
                if not entries:
                    self.say(MESSAGES[lang]["empty_topic"])
                    return
                for index, entry in enumerate(entries, 1):
                    self.say(f"{index}. {entry.headline(lang)}")
                self.say(MESSAGES[lang]["pick"])
                self.choice = _Choice(entries=[e.id for e in entries])
            return
        if number == 0 and choice.reply is not None:
            reply = choice.reply
            await self.assistant.none_of_these(
                reply.question_id, user_id=None, chat_id=None, lang=reply.lang, text=reply.question
            )
            self.say(MESSAGES[reply.lang]["queued"])
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
            self.choice = _Choice()
        elif reply.suggestions:
            self.say(MESSAGES[lang]["did_you_mean"])
            for number, suggestion in enumerate(reply.suggestions, 1):
                self.say(f"{number}. {suggestion.question}")
            self.say(MESSAGES[lang]["none"])
            self.choice = _Choice(entries=[s.entry_id for s in reply.suggestions], reply=reply)
        else:
            self.say(MESSAGES[lang]["unanswered"])
            self.choice = _Choice()


async def run_shell(assistant: Assistant, read: Callable[[], str] | None = None, out: TextIO = sys.stdout) -> None:
    """Read lines until end of input or /quit; blocking reads run in a thread."""
    shell = Shell(assistant, out)
    shell.say(MESSAGES["en"]["welcome"])
    reader = read or (lambda: input("> "))
    while True:
        try:
            line = await asyncio.to_thread(reader)
        except (EOFError, KeyboardInterrupt):
            shell.say("")
            return
        if not await shell.handle(line):
            return
