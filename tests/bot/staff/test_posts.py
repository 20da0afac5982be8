"""Staff posts as data: who asked, the nearest entries, the full question."""

from __future__ import annotations

from bot.knowledge.model import KnowledgeBase
from bot.matching.matcher import Matcher
from bot.staff import posts
from bot.storage import Store


async def test_staff_post_for_item_reads_the_profile(store: Store, mini_kb: KnowledgeBase, matcher: Matcher) -> None:
    item_id = await store.add_unanswered(question_id=None, user_id=5, chat_id=5, lang="zh", text="亦庄生物企业有多少")
    await store.remember_user(5, "王", None)
    post = await posts.staff_post_for_item(store, item_id, mini_kb, matcher)
    assert post is not None and post.who == "王, id 5" and post.lang == "zh"
    assert post.nearest and post.nearest[0].entry_id == "companies"
    assert post.nearest[0].headline == "亦庄有多少家生物医药企业？"  # headlines in the question's language
    assert await posts.staff_post_for_item(store, 999, mini_kb, matcher) is None
