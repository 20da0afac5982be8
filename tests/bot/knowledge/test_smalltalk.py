"""``smalltalk.yaml``: read into ``SmallTalk``, every problem named with its file, line and kind."""

from __future__ import annotations

from pathlib import Path

from bot.config import PACKAGED_FAQ_DIR
from bot.knowledge.load import load_knowledge_base
from tests.bot.knowledge.files import add, issues_of
from tests.conftest import TODAY

GOOD = """\
kinds:
  - id: thanks
    wraps_questions: true
    phrases:
      en: [thanks, thank you]
      zh: [谢谢]
    reply: {en: You're welcome!, zh: 不客气！}
  - id: greeting
    topics: true
    phrases:
      en: [hello, hi]
    reply: {en: Hello!, zh: 您好！}
unclear:
  fillers:
    en: [hmm, "no"]
    zh: [嗯]
  reply: {en: Please rephrase., zh: 请换个说法。}
"""


def test_a_good_file_is_read_in_priority_order(kb_copy: Path) -> None:
    add(kb_copy, "smalltalk.yaml", GOOD)
    result = load_knowledge_base(kb_copy, today=TODAY)
    assert result.kb is not None, [str(i) for i in result.issues]
    talk = result.kb.smalltalk
    assert [k.id for k in talk.kinds] == ["thanks", "greeting"]
    thanks, greeting = talk.kinds
    assert thanks.phrases == {"en": ("thanks", "thank you"), "zh": ("谢谢",)}
    assert thanks.wraps_questions and not thanks.topics
    assert greeting.topics and not greeting.wraps_questions and greeting.line == 8
    assert talk.fillers == {"en": ("hmm", "no"), "zh": ("嗯",)}
    assert talk.unclear == {"en": "Please rephrase.", "zh": "请换个说法。"}
    assert talk.kind("greeting") is greeting and talk.kind("nope") is None


def test_without_the_file_there_is_no_small_talk(mini_kb: object) -> None:
    from bot.knowledge.model import KnowledgeBase, SmallTalk

    assert isinstance(mini_kb, KnowledgeBase)
    assert mini_kb.smalltalk == SmallTalk()


def test_mistakes_are_named_with_file_line_and_kind(kb_copy: Path) -> None:
    add(
        kb_copy,
        "smalltalk.yaml",
        """\
kinds:
  - id: thanks
    phrases:
      en: [thanks, "!!!"]
      fr: [merci]
    reply: {en: You're welcome!}
    colour: blue
  - id: thanks
    phrases: {en: [cheers]}
    reply: {en: Cheers, zh: 干杯}
  - id: Greeting
    phrases: {en: [Thanks]}
    reply: {en: Hi, zh: 嗨}
unclear:
  fillers:
    en: [hmm, yes]
  reply: {en: Rephrase, zh: 换个说法}
""",
    )
    assert [i for i in issues_of(kb_copy) if i.startswith("faq/smalltalk.yaml")] == [
        "faq/smalltalk.yaml:4: thanks: '!!!' has no words to match (letters or Chinese)",
        "faq/smalltalk.yaml:5: thanks: 'phrases' has unknown language 'fr' (use en, zh)",
        "faq/smalltalk.yaml:6: thanks: 'reply' needs a text in zh",
        "faq/smalltalk.yaml:7: thanks: unknown key 'colour' (allowed: id, phrases, reply, topics, wraps_questions)",
        "faq/smalltalk.yaml:8: thanks: small-talk kind 'thanks' is given twice",
        "faq/smalltalk.yaml:11: Greeting: id must be lower-case letters, digits and '-'",
        "faq/smalltalk.yaml:12: Greeting: 'Thanks' is already in kind 'thanks' (line 2)",
        "faq/smalltalk.yaml:16: -: 'fillers.en': put yes, no, on and off in quotes (YAML reads them as true/false)",
    ]
    assert load_knowledge_base(kb_copy, today=TODAY).kb is None  # refused whole: the serving version stays


def test_the_file_must_be_a_mapping(kb_copy: Path) -> None:
    add(kb_copy, "smalltalk.yaml", "- hello\n- hi\n")
    assert "faq/smalltalk.yaml:1: -: smalltalk.yaml must be a mapping with 'kinds' and 'unclear'" in issues_of(kb_copy)


def test_a_phrase_that_is_also_an_entrys_question_is_a_warning(kb_copy: Path) -> None:
    add(kb_copy, "smalltalk.yaml", GOOD.replace("[hello, hi]", "[hello, hi, number of biotech firms in BDA]"))
    result = load_knowledge_base(kb_copy, today=TODAY)
    assert result.kb is not None
    assert (
        "faq/smalltalk.yaml:8: greeting: warning: 'number of biotech firms in BDA' is also a question of entry "
        "'companies': it gets the small-talk reply, not the entry"
    ) in [str(i) for i in result.issues]


def test_reserved_entry_ids(kb_copy: Path) -> None:
    add(kb_copy, "reserved.yaml", "- id: smalltalk\n  questions: {en: [q one, q two, q three]}\n  answer: A\n")
    assert "faq/reserved.yaml:1: smalltalk: id 'smalltalk' is reserved (evaluation cases use it)" in issues_of(kb_copy)


def test_the_shipped_file_is_valid_and_complete() -> None:
    result = load_knowledge_base(PACKAGED_FAQ_DIR)
    assert result.kb is not None
    talk = result.kb.smalltalk
    assert {"greeting", "thanks", "goodbye", "identity"} <= {k.id for k in talk.kinds}
    for kind in talk.kinds:
        assert set(kind.reply) == {"en", "zh"} and all(kind.phrases.values()), kind.id
    assert set(talk.unclear) == {"en", "zh"}
    assert not [i for i in result.issues if i.file.endswith("smalltalk.yaml")]
