"""Telling small talk and messages with nothing to answer from questions (``bot.matching.smalltalk``)."""

from __future__ import annotations

import pytest

from bot.config import PACKAGED_FAQ_DIR
from bot.knowledge.load import load_knowledge_base
from bot.knowledge.model import ChatKind, SmallTalk
from bot.matching.matcher import Matcher
from bot.matching.smalltalk import ChatVerdict, SmallTalkMatcher, has_words, mash_shaped, units

TALK = SmallTalk(
    kinds=(
        ChatKind("identity", {"en": ("who are you",), "zh": ("你是谁",)}, {"en": "I am a bot"}),
        ChatKind("thanks", {"en": ("thanks", "ok"), "zh": ("谢谢", "行")}, {"en": "Welcome"}, wraps_questions=True),
        ChatKind(
            "greeting", {"en": ("hello", "hi"), "zh": ("你好",)}, {"en": "Hello"}, topics=True, wraps_questions=True
        ),
    ),
    fillers={"en": ("hmm", "what", "is", "the"), "zh": ("嗯", "啊")},
    unclear={"en": "Rephrase"},
)


@pytest.fixture(scope="module")
def talk() -> SmallTalkMatcher:
    return SmallTalkMatcher(TALK)


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("hello", "greeting"),
        ("HELLO!!!", "greeting"),
        ("hiiii 👋", "greeting"),  # repeats and emoji
        ("helo", "greeting"),  # a typo of a one-word phrase
        ("hi 你好", "greeting"),
        ("你好啊", "greeting"),  # with a filler
        ("謝謝", "thanks"),  # Traditional characters
        ("ok thanks", "thanks"),
        ("hi, thanks!", "thanks"),  # two kinds: the first listed wins
        ("hello, who are you?", "identity"),
    ],
)
def test_small_talk(talk: SmallTalkMatcher, message: str, kind: str) -> None:
    assert talk.classify(message) == ChatVerdict("smalltalk", kind)


@pytest.mark.parametrize(
    "message", ["?", "...", "？？", "7", "2024", "😂😂", "  ", "hmm", "嗯嗯", "啊啊啊", "hmm what"]
)
def test_unclear(talk: SmallTalkMatcher, message: str) -> None:
    assert talk.classify(message) == ChatVerdict("unclear")


@pytest.mark.parametrize(
    "message",
    ["hello, what is the GDP?", "what is the gdp", "你好，经开区GDP是多少", "thanks, and housing?", "hi 2024", "hint"],
)
def test_anything_else_is_a_question(talk: SmallTalkMatcher, message: str) -> None:
    assert talk.classify(message) is None


@pytest.mark.parametrize(
    ("message", "matched"),
    [
        ("Hello! Which CGT companies are in BDA?", "which cgt companies are in bda"),
        ("你好，亦庄有哪些细胞治疗企业？", "亦庄有哪些细胞治疗企业"),
        ("GDP in 2022? thanks", "gdp in 2022"),
        ("hi, thanks! what about housing", "what about housing"),
        # Not stripped: a phrase glued to a Chinese word ("行" opens 行动计划), a kind that does not wrap
        # questions ("who are you ..."), fillers, and a message with nothing else.
        ("行动计划的目标", "行动计划的目标"),
        ("who are you able to help", "who are you able to help"),
        ("what is the GDP", "what is the GDP"),
        ("hello", "hello"),
    ],
)
def test_greetings_and_thanks_around_a_question_are_left_out(
    talk: SmallTalkMatcher, message: str, matched: str
) -> None:
    assert talk.strip(message) == matched


def test_units_and_words() -> None:
    assert units("Hiii 你好！！ THANKS") == ("hi", "你", "好", "thanks")
    assert units("你是AI吗") == ("你", "是", "ai", "吗")
    assert has_words("a?") and has_words("亦庄") and not has_words("7 ?! 😀")


@pytest.mark.parametrize("word", ["asdkjh", "qwe", "sdfsdf", "zxcv", "kjhg", "cgt", "abab"])
def test_mash_shapes(word: str) -> None:
    assert mash_shaped(word)


@pytest.mark.parametrize("word", ["suzhou", "wuxi", "hengrui", "zhangjiang", "a", "亦庄", "x1"])
def test_words_that_are_not_mash_shaped(word: str) -> None:
    assert not mash_shaped(word)


@pytest.fixture(scope="module")
def shipped() -> Matcher:
    kb = load_knowledge_base(PACKAGED_FAQ_DIR).kb
    assert kb is not None
    return Matcher.from_knowledge_base(kb)


@pytest.mark.parametrize(
    ("message", "status", "kind"),
    [
        ("hello", "smalltalk", "greeting"),
        ("你好", "smalltalk", "greeting"),
        ("thanks", "smalltalk", "thanks"),
        ("?", "unclear", None),
        ("7", "unclear", None),
        ("asdkjh qwe", "unclear", None),  # keyboard mash: no dictionary or entry knows either word
    ],
)
def test_the_issue_examples_are_no_questions(shipped: Matcher, message: str, status: str, kind: str | None) -> None:
    # issue 15: each of these was "passed to staff", six of thirteen staff items in one short session
    match = shipped.match(message)
    assert (match.status, match.kind, match.entry_id, match.candidates) == (status, kind, None, ())


def test_mash_like_words_an_entry_knows_are_a_question(shipped: Matcher) -> None:
    assert shipped.chat("cgt") is None and shipped.chat("cgtt") is None  # "cgtt": a typo of a known word
    assert shipped.chat("nmpa") is None


def test_a_greeting_does_not_cost_a_question_its_answer(shipped: Matcher) -> None:
    bare = shipped.match("which cell and gene therapy companies are in BDA?")
    greeted = shipped.match("Hello! Which cell and gene therapy companies are in BDA?")
    assert greeted.status == bare.status == "answered" and greeted.entry_id == bare.entry_id == "cgt-companies"
    assert greeted.score == bare.score
