from __future__ import annotations

from bot.knowledge.model import KnowledgeBase
from bot.render import render_answer
from bot.words import STAFF
from handlers.render import fill_html, format_html, say


def test_html_escapes_everything(mini_kb: KnowledgeBase) -> None:
    answer = render_answer(mini_kb, mini_kb.entries["policy-list"], "en")
    hostile = answer.__class__(answer.entry_id, "en", "en", "<script>", "a < b & c", (answer.sources[0],))
    html = format_html(hostile)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "a &lt; b &amp; c" in html
    assert '<a href="http://subsites.chinadaily.com.cn' in html


def test_styled_words_render_as_the_html_they_were() -> None:
    # The words hold no markup since issue 13; Telegram still gets exactly the HTML they used to be.
    assert say("en", "topic_questions", title="A & B") == "<b>A &amp; B</b>: choose a question:"
    assert say("zh", "topic_questions", title="政策") == "<b>政策</b>：请选择问题："
    assert say("en", "handed_over", question="Is <x> 'ok'?") == (
        "Thank you. I've passed your question to our staff; they will reply here.\n\n"
        "<i>Is &lt;x&gt; &#x27;ok&#x27;?</i>"
    )
    assert (
        say("zh", "handed_over", question="问题") == "谢谢！您的问题已转给工作人员，他们会在这里回复您。\n\n<i>问题</i>"
    )
    assert say("en", "start", name=", Li").startswith(
        "Hello, Li! I answer investors' questions about <b>Beijing E-Town</b> (BDA, Yizhuang) and its "
    )
    assert say("zh", "start", name="，李").startswith(
        "您好，李！我解答投资者关于<b>北京经济技术开发区</b>（经开区、亦庄）"
    )
    assert say("en", "help").startswith(
        "<b>How to use this bot</b>\n"
        "• Type a question, e.g. <i>How many biotech companies are in BDA?</i> or <i>亦庄有哪些产业基金？</i>\n"
        '• If I\'m not sure, I offer a few "Did you mean" choices;'
    )
    assert say("zh", "help").startswith(
        "<b>使用说明</b>\n• 直接输入问题，例如<i>经开区有多少家生物医药企业？</i>或 <i>What funds are in BDA?</i>\n"
    )
    assert fill_html(STAFF.answered_with_entry, item=7, entry="a&b", snippet="- q: <x>") == (
        "✓ #7: the investor has the answer of <code>a&amp;b</code>. "
        "To match this wording next time, add it to the knowledge base:\n<pre>- q: &lt;x&gt;</pre>"
    )
    assert fill_html(STAFF.queue_heading, items=3, groups=2, page=1, pages=1) == (
        "<b>Open questions</b>: 3 in 2 group(s), page 1/1"
    )
    assert fill_html(STAFF.summary_heading, count=4) == (
        "<b>4 new item(s) for staff</b>, listed together (they arrived faster than one post each):"
    )
