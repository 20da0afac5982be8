"""Measuring follow-ups: labelled conversations asked turn by turn, with and without the chat's context.

A dialogues file is a YAML list of ``{kind: period|pronoun|aspect|new|oos, turns: [{q, expect}, ...]}``
(``expect``: an entry id, or null when no entry may answer). Every turn is asked twice: in the
conversation (``Assistant.resolve`` with the last answer as context) and alone. The report counts later
turns right, wrong and not answered by kind, and the turns the context made worse than alone (the
promise is none).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.knowledge.model import Issue
from bot.knowledge.reader import LineDict, read_yaml

if TYPE_CHECKING:
    from bot.assistant import Assistant, Reply
    from bot.conversation import Turn


@dataclass(frozen=True)
class DialogueTurn:
    q: str
    expect: str | None


@dataclass(frozen=True)
class Dialogue:
    kind: str
    turns: tuple[DialogueTurn, ...]
    line: int


class DialoguesError(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


def load_dialogues(path: Path, known_ids: set[str] | None = None) -> list[Dialogue]:
    """Read and check a dialogues file; unknown entry ids are errors when ``known_ids`` is given."""
    data, issues = read_yaml(path, str(path))
    if issues:
        raise DialoguesError(list(issues))
    if not isinstance(data, list):
        raise DialoguesError([Issue(str(path), 1, None, "dialogues must be a list of {kind, turns}")])
    out: list[Dialogue] = []
    problems: list[Issue] = []
    for item in data:
        line = getattr(item, "line", 0)
        turns = item.get("turns") if isinstance(item, LineDict) else None
        if not isinstance(turns, list) or len(turns) < 2:
            problems.append(Issue(str(path), line, None, "a dialogue needs 'turns': two or more {q, expect}"))
            continue
        parsed: list[DialogueTurn] = []
        for turn in turns:
            if not isinstance(turn, dict) or not isinstance(turn.get("q"), str) or "expect" not in turn:
                problems.append(Issue(str(path), line, None, "a turn needs 'q' (text) and 'expect' (an id or null)"))
                break
            expect = turn["expect"]
            if expect is not None and known_ids is not None and expect not in known_ids:
                problems.append(Issue(str(path), line, str(expect), "no entry with this id in the knowledge base"))
                break
            parsed.append(DialogueTurn(turn["q"], expect))
        else:
            out.append(Dialogue(str(item.get("kind") or "-"), tuple(parsed), line))
    if problems:
        raise DialoguesError(problems)
    return out


def _outcome(reply: Reply, expect: str | None) -> str:
    # The sources having no figure for the year asked, said with the expected entry's nearest figures and a
    # hand-off to staff, is that entry's honest answer (``bot.periods``).
    answered = reply.answer.entry_id if reply.answer is not None and reply.status == "answered" else None
    if reply.period_gap and reply.answer is not None and expect is not None and reply.answer.entry_id == expect:
        return "right"
    if expect is None:
        return "right" if answered is None else "wrong"
    if answered is None:
        return "not_answered"
    return "right" if answered == expect else "wrong"


_RANK = {"right": 2, "not_answered": 1, "wrong": 0}


def evaluate_dialogues(assistant: Assistant, dialogues: list[Dialogue]) -> dict[str, Any]:
    """The figures: first turns and later turns (by kind) right / wrong / not answered, in the conversation
    and alone, and ``worse``: later turns whose outcome in the conversation is worse than alone."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    worse: list[dict[str, Any]] = []
    for dialogue in dialogues:
        context: Turn | None = None
        for index, turn in enumerate(dialogue.turns):
            with_context = assistant.resolve(turn.q, context=context)
            if with_context.turn is not None:
                context = with_context.turn
            outcome = _outcome(with_context, turn.expect)
            for name in ("later", dialogue.kind) if index else ("first",):
                counts[name]["turns"] += 1
                counts[name][outcome] += 1
            if index:
                alone = _outcome(assistant.resolve(turn.q), turn.expect)
                counts["later"][f"alone_{alone}"] += 1
                counts[dialogue.kind][f"alone_{alone}"] += 1
                if _RANK[outcome] < _RANK[alone]:
                    worse.append({"line": dialogue.line, "q": turn.q, "expect": turn.expect, "alone": alone})
    out: dict[str, Any] = {}
    for name, tally in sorted(counts.items()):
        turns = tally["turns"]
        out[name] = {
            "turns": turns,
            **{key: round(tally[key] / turns, 4) for key in ("right", "wrong", "not_answered")},
            **{f"alone_{key}": round(tally[f"alone_{key}"] / turns, 4) for key in ("right", "wrong", "not_answered")},
        }
    out["worse"] = worse
    return out
