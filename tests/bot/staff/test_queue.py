"""Grouping the open questions and paging through the groups."""

from __future__ import annotations

import pytest

from bot.matching.matcher import Matcher
from bot.staff import queue
from bot.storage import Store
from tests.bot.staff.items import item


def test_similar_questions_are_grouped_and_the_biggest_group_comes_first(matcher: Matcher) -> None:
    items = [
        item(1, "What are office rents in E-Town?", "2026-11-20T10:00:00+00:00"),
        item(2, "what are the office rents in etown", "2026-11-21T10:00:00+00:00"),
        item(3, "What are land prices in E-Town?", "2026-11-24T10:00:00+00:00"),
        item(4, "What are office rents in E-Town?", "2026-11-22T10:00:00+00:00"),
        item(5, "亦庄办公室租金多少", "2026-11-23T10:00:00+00:00", lang="zh"),
        item(6, "亦庄辦公室租金多少？", "2026-11-23T11:00:00+00:00", lang="zh"),  # Traditional, same question
        item(7, "Is there a shuttle bus to the airport?", "2026-11-25T09:00:00+00:00"),
    ]
    groups = queue.group_items(items, matcher.normalizer)
    as_sets = [set(g.item_ids) for g in groups]
    assert as_sets == [{1, 2, 4}, {7}, {5, 6}, {3}] or as_sets == [{1, 2, 4}, {5, 6}, {7}, {3}]
    rents = groups[0]
    assert rents.count == 3
    assert rents.item_ids == (4, 2, 1)  # newest first
    assert rents.newest == "2026-11-22T10:00:00+00:00" and rents.newest_day == "2026-11-22"
    assert rents.representative == "What are office rents in E-Town?"  # the most frequent wording
    assert rents.texts == ("What are office rents in E-Town?", "what are the office rents in etown")
    zh = next(g for g in groups if 5 in g.item_ids)
    assert zh.langs == ("zh",) and zh.representative == "亦庄辦公室租金多少？"
    # Among groups of one, the most recent comes first.
    singles = [g for g in groups if g.count == 1]
    assert [g.item_ids for g in singles] == [(7,), (3,)]


def test_grouping_threshold_and_empty_input(matcher: Matcher) -> None:
    items = [item(1, "office rents in etown", "2026-11-01"), item(2, "office rent etown?", "2026-11-02")]
    assert len(queue.group_items(items, matcher.normalizer)) == 1
    assert len(queue.group_items(items, matcher.normalizer, similarity=100)) == 2
    assert queue.group_items([], matcher.normalizer) == []
    # Emoji-only or punctuation-only questions still form groups instead of vanishing.
    odd = queue.group_items([item(1, "🙂", "2026-11-01"), item(2, "?!", "2026-11-02")])
    assert sorted(i for g in odd for i in g.item_ids) == [1, 2]


def test_pagination_clamps_and_counts() -> None:
    groups = [
        queue.Group(f"q{n}", tuple(range(n * 10, n * 10 + n + 1)), (f"q{n}",), ("en",), "2026-11-01") for n in range(23)
    ]
    first = queue.paginate(groups, 1, per_page=10)
    assert (first.number, first.pages, first.total_groups) == (1, 3, 23)
    assert first.total_items == sum(n + 1 for n in range(23))
    assert [g.representative for g in first.groups] == [f"q{n}" for n in range(10)]
    last = queue.paginate(groups, 3, per_page=10)
    assert [g.representative for g in last.groups] == ["q20", "q21", "q22"]
    assert queue.paginate(groups, 99, per_page=10).number == 3
    assert queue.paginate(groups, -5, per_page=10).number == 1
    empty = queue.paginate([], 2)
    assert (empty.number, empty.pages, empty.groups, empty.total_items) == (1, 1, (), 0)
    with pytest.raises(ValueError):
        queue.paginate(groups, 1, per_page=0)


async def test_open_groups_reads_only_open_items(store: Store, matcher: Matcher) -> None:
    a = await store.add_unanswered(question_id=None, user_id=1, chat_id=1, lang="en", text="office rents?")
    b = await store.add_unanswered(question_id=None, user_id=2, chat_id=2, lang="en", text="Office rents")
    c = await store.add_unanswered(question_id=None, user_id=3, chat_id=3, lang="en", text="office rents!")
    await store.dismiss_unanswered(c, by=1)
    groups = await queue.open_groups(store, matcher.normalizer)
    assert [sorted(g.item_ids) for g in groups] == [[a, b]]


def test_paraphrases_sharing_their_key_words_are_grouped(matcher: Matcher) -> None:
    # issue 17: two English questions on one thing in other words were not grouped (token_sort_ratio < 80)
    items = [
        item(1, "What is the corporate tax rate in BDA?", "2026-11-20T10:00:00+00:00"),
        item(2, "corporate tax rate e-town high tech", "2026-11-21T10:00:00+00:00"),
        item(3, "亦庄写字楼租金多少", "2026-11-22T10:00:00+00:00", lang="zh"),
        item(4, "经开区写字楼月租金大概多少", "2026-11-23T10:00:00+00:00", lang="zh"),
        item(5, "What's Hengrui's share price today?", "2026-11-24T10:00:00+00:00"),
        item(6, "恒瑞总部项目在经开区投资多少？", "2026-11-25T10:00:00+00:00", lang="zh"),
    ]
    groups = {frozenset(g.item_ids) for g in queue.group_items(items, matcher.normalizer)}
    assert frozenset({1, 2}) in groups and frozenset({3, 4}) in groups
    # One shared name is a company, not a question: its share price and its investment stay apart.
    assert frozenset({5}) in groups and frozenset({6}) in groups
