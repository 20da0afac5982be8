"""Quality with the shipped knowledge base and defaults: on the labelled dev set (tests/data/eval.yaml, which
the shipped calibration and thresholds were fitted on) and on held-out questions nothing was fitted on
(tests/data/eval_heldout.yaml).

The floors are the figures reached when they were last raised (see benchmarks/README.md): quality may
only go up. Raise them when the knowledge base or matcher improves. The dev set grew from 332 to 633
cases in session 6 (301 blind paraphrases): its floors were reset to what the new matcher reaches there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import PACKAGED_FAQ_DIR, MatchingConfig
from bot.knowledge.load import load_knowledge_base
from bot.matching.evaluate import load_cases, rank_all, report
from bot.matching.matcher import Matcher
from tests.conftest import DATA

EVAL = DATA / "eval.yaml"
HELD_OUT = DATA / "eval_heldout.yaml"


def _figures(path: Path) -> dict[str, Any]:
    kb = load_knowledge_base(PACKAGED_FAQ_DIR).kb
    assert kb is not None
    cases = load_cases(path, set(kb.entries))
    return report(rank_all(Matcher.from_knowledge_base(kb), cases), MatchingConfig())


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    return _figures(EVAL)


def test_held_out_floors() -> None:
    # Session 6, shipped defaults: 79.3% right, 0 wrong, 8.3% of out-of-scope answered (5 of 60, all naming
    # another place or period); the matcher before the calibration answered 31.7% of them (19 of 60) at
    # 81.0% right. Session 8, the defaults refitted: 80.4% right, 0 wrong, 8.3% answered; fitted with
    # synthetic near misses too: 83.2% right, 0 wrong, none of the 60 answered. Session 9, with 384 more
    # phrasings (written from the entries, never from these cases) and the defaults refitted: 90.2% right,
    # 1 of 184 wrong (a keyword query given the neighbouring R&D-centre award), none of the 60 answered.
    held_out = _figures(HELD_OUT)
    assert held_out["in_scope"] >= 180 and held_out["out_of_scope"] >= 60
    assert held_out["in_scope_accuracy"] >= 0.90
    assert held_out["in_scope_wrong"] <= 0.01
    assert held_out["out_of_scope_answered"] <= 0.02


def test_dev_set_size_and_languages(figures: dict[str, Any]) -> None:
    assert figures["in_scope"] >= 500
    assert figures["out_of_scope"] >= 120
    by_language = figures["by_language"]
    assert isinstance(by_language, dict)
    assert set(by_language) == {"en", "zh-Hans", "zh-Hant"}


def test_quality_floors(figures: dict[str, Any]) -> None:
    # Session 6, shipped defaults on the 633 cases: 83.1% right, 0 wrong, 3.9% of out-of-scope answered
    # (the matcher before: 86.7% right but 15.5% of out-of-scope answered). Issue 14's targets (>= 95%
    # right, <= 1% wrong, <= 3% out-of-scope answered, cross-validated) are not reached yet. Session 8, the
    # defaults refitted (the same --tune, since the SVM fit is deterministic): 85.1%, 0 wrong, 3.9% answered;
    # with synthetic near misses in the fit: 85.5%, 0 wrong, 3.1% answered. Session 9, 384 more phrasings
    # and the defaults refitted: 91.1%, 0 wrong, 3.1% answered.
    assert figures["in_scope_accuracy"] >= 0.91
    assert figures["in_scope_wrong"] <= 0.005
    assert figures["out_of_scope_answered"] <= 0.035
    assert figures["top3"] >= 0.99


def test_quality_per_language(figures: dict[str, Any]) -> None:
    by_language = figures["by_language"]
    for language in ("en", "zh-Hans", "zh-Hant"):
        # session 8: 84.3 / 86.0 / 88.4%; session 9: 90.5 / 90.2 / 94.2%
        assert by_language[language]["in_scope_accuracy"] >= 0.90, language


@pytest.mark.parametrize("question", ["no", "why", "hi", "ok thanks", "好的", "明白了"])
def test_questions_of_only_common_words_are_not_answered(question: str) -> None:
    kb = load_knowledge_base(PACKAGED_FAQ_DIR).kb
    assert kb is not None
    assert Matcher.from_knowledge_base(kb).match(question).status != "answered"


def test_bare_topics_get_a_did_you_mean_not_a_hand_off() -> None:
    # tests/data/eval_keywords.yaml: 134 keyword-style questions ("talent", "人才", "gdp", "visa"), written
    # blind from entry ids and headlines (session 8). Shipped defaults: 77 of 98 in scope answered with an
    # acceptable entry, 0 wrongly; with the topic did-you-mean (Matcher.topic_entries) 19 more are offered
    # an acceptable entry and 2 go to staff; of 36 out of scope, none answered, 2 offered. Session 9, 384
    # more phrasings and the defaults refitted: 80 answered acceptably, 16 offered, 2 to staff; 0 and 2.
    import yaml

    kb = load_knowledge_base(PACKAGED_FAQ_DIR).kb
    assert kb is not None
    matcher = Matcher.from_knowledge_base(kb)
    cases = yaml.safe_load((DATA / "eval_keywords.yaml").read_text(encoding="utf-8"))
    in_scope = [c for c in cases if c["expect"]]
    out_of_scope = [c for c in cases if not c["expect"]]
    assert len(in_scope) >= 90 and len(out_of_scope) >= 30
    wrong = to_staff = offered_wrong = 0
    for case in in_scope:
        acceptable = set(case.get("acceptable") or [case["expect"]])
        match = matcher.match(case["q"])
        if match.status == "answered":
            wrong += match.entry_id not in acceptable
        elif match.status == "suggested":
            offered_wrong += not acceptable & {s.entry_id for s in match.suggestions}
        else:
            to_staff += 1
    outcomes = [matcher.match(case["q"]).status for case in out_of_scope]
    assert wrong == 0 and offered_wrong == 0
    assert to_staff / len(in_scope) <= 0.03
    assert outcomes.count("answered") == 0
    assert outcomes.count("suggested") / len(out_of_scope) <= 0.06


def test_near_misses_floors() -> None:
    # tests/data/eval_nearmiss.yaml: 87 near misses (an entry's question with its period, place or subject
    # changed) and 47 paraphrases, written blind from entry ids and headlines (session 8). Shipped defaults:
    # 18 near misses answered (0 of the 27 period ones since periods are compared; 2 before), 41 of 47
    # paraphrases right, 0 wrong. With synthetic near misses in the calibration fit: 10 answered (places
    # 8 -> 0, subjects 10 -> 10), 42 of 47 right. Session 9, 384 more phrasings and the defaults refitted:
    # 10 answered, 44 of 47 right; with gaps in the sources handed to staff (Candidate.gap): 9 answered.
    figures = _figures(DATA / "eval_nearmiss.yaml")
    assert figures["in_scope"] >= 45 and figures["out_of_scope"] >= 85
    assert figures["in_scope_accuracy"] >= 0.93
    assert figures["in_scope_wrong"] == 0
    assert figures["out_of_scope_answered"] <= 0.104  # 9 / 87, as rounded in the report


CHAT_DEV = DATA / "eval_chat.yaml"
CHAT_HELD_OUT = DATA / "eval_chat_heldout.yaml"


def test_small_talk_and_unclear_messages_are_told_from_questions() -> None:
    # Session 10 (issue 15): two sets written blind by helpers from the statuses alone, 137 and 154 cases,
    # in English, Simplified and Traditional Chinese, with greetings around real questions. The dev set's 4
    # small-talk misses were read and fixed with phrases in faq/smalltalk.yaml; the held-out set was then
    # measured once: 65 of 68 small talk, 39 of 40 unclear, no question taken for either, 39 of 41 in-scope
    # questions answered right and none wrongly.
    dev = _figures(CHAT_DEV)
    assert dev["smalltalk"] >= 60 and dev["unclear"] >= 40
    assert dev["smalltalk_right"] == 1.0 and dev["unclear_right"] == 1.0
    assert dev["questions_as_chat"] == 0.0 and dev["in_scope_wrong"] == 0.0
    held_out = _figures(CHAT_HELD_OUT)
    assert held_out["smalltalk"] >= 60 and held_out["unclear"] >= 40
    assert held_out["smalltalk_right"] >= 0.95
    assert held_out["unclear_right"] >= 0.97
    assert held_out["questions_as_chat"] == 0.0
    assert held_out["in_scope_accuracy"] >= 0.95 and held_out["in_scope_wrong"] == 0.0
    assert held_out["out_of_scope_answered"] == 0.0


def test_traditional_questions_are_answered_in_traditional_characters() -> None:
    # issue 15: every Traditional question of the dev and held-out sets that is answered gets the answer
    # in Traditional characters (title and body: converting them again changes nothing), figures unchanged.
    from bot.assistant import Assistant, Knowledge
    from bot.languages import to_traditional
    from bot.matching.evaluate import Case

    knowledge = Knowledge(PACKAGED_FAQ_DIR, MatchingConfig())
    knowledge.load()
    assistant = Assistant(knowledge)
    cases: list[Case] = [c for path in (EVAL, HELD_OUT) for c in load_cases(path) if c.language == "zh-Hant"]
    answered = 0
    for case in cases:
        reply = assistant.resolve(case.q)
        assert reply.lang == "zh-Hant", case.q
        if reply.answer is not None:
            answered += 1
            body = reply.answer.body
            assert to_traditional(body) == body and to_traditional(reply.answer.title) == reply.answer.title
            simplified = assistant.resolve(case.q, lang="zh").answer  # the same reply in Simplified
            assert simplified is not None
            assert [c for c in body if c.isdigit()] == [c for c in simplified.body if c.isdigit()]
    # session 10: 132 Traditional questions (out-of-scope ones among them), 103 answered, all in Traditional
    assert len(cases) >= 130 and answered >= 100


def test_follow_ups_in_conversations() -> None:
    # issue 15: two sets of 2-3-turn conversations written blind by helpers from entry ids and headlines.
    # Dev (52, the rules' misses read once; first measurement later turns 78.3% right / 13.3% wrong with the
    # context, 68.3% / 10.0% alone): later turns 76.7% right / 8.3% wrong, none worse than alone. Held out
    # (38, measured once): 81.4% / 2.3% with the context, 74.4% / 2.3% alone, none worse.
    from bot.assistant import Assistant, Knowledge
    from bot.dialogues import evaluate_dialogues, load_dialogues

    knowledge = Knowledge(PACKAGED_FAQ_DIR, MatchingConfig())
    knowledge.load()
    assistant = Assistant(knowledge)
    ids = set(knowledge.kb.entries)
    dev = evaluate_dialogues(assistant, load_dialogues(DATA / "dialogues.yaml", ids))
    held_out = evaluate_dialogues(assistant, load_dialogues(DATA / "dialogues_heldout.yaml", ids))
    for figures, right, wrong in ((dev, 0.76, 0.09), (held_out, 0.81, 0.03)):
        later = figures["later"]
        assert later["turns"] >= 40
        assert later["right"] >= right and later["wrong"] <= wrong
        assert later["right"] > later["alone_right"]  # the context helps ...
        assert figures["worse"] == []  # ... and never makes a turn worse than asked alone
        assert figures["new"]["right"] >= figures["new"]["alone_right"]
