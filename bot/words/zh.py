"""The bot's words to investors in Chinese: the Telegram chat, the console (``etown-bot shell``)
and the labels around answers.

Messages are plain-text templates, some with bold or italic spans (bot/words/styled.py;
``handlers.render.say`` lays them out in Telegram HTML and escapes their fields); button labels and the
console's words are plain text.
"""

from __future__ import annotations

from types import MappingProxyType

from bot.words.styled import bold, italic
from bot.words.types import AnswerWords, ShellWords, Words

ZH = Words(
    language="简体中文",
    start=(
        "您好{name}！我解答投资者关于",
        bold("北京经济技术开发区"),
        "（经开区、亦庄）及其生物医药产业的问题："
        "政策与奖励、基金、人才、园区、企业、临床试验、活动和统计数据。\n\n"
        "可以用中文或英文随意提问。每个数字都附有来源和日期。"
        "没有可靠来源的问题，我会转给工作人员，他们会在这里回复您。\n\n"
        "按主题浏览：",
    ),
    help=(
        bold("使用说明"),
        "\n• 直接输入问题，例如",
        italic("经开区有多少家生物医药企业？"),
        "或 ",
        italic("What funds are in BDA?"),
        "\n"
        "• 如果我不确定，会给出几个“您是不是想问”选项；选“都不是”会把问题转给工作人员。\n"
        "• /topics：按主题浏览问题\n"
        "• /lang：按提问的语言回答（默认），或固定用 English、简体中文或繁體中文回答\n"
        "• /help：本说明\n"
        "在群组中，请@我或回复我的消息。",
    ),
    topics="请选择主题：",
    topic_questions=(bold("{title}"), "：请选择问题："),
    back="« 主题",
    lang_prompt="请选择语言：",
    lang_set="今后我将用简体中文回答。",
    lang_auto="自动：按提问的语言回答",
    lang_auto_set="今后我将按每个问题的语言回答：English、简体中文或繁體中文。",
    lang_auto_set_unsaved="今后我将按每个问题的语言回答（未能保存此设置，重启前有效）。",
    period_handed="我已将您的问题转给工作人员，请他们补充您所问年份的数据，他们会在这里回复您。",
    rephrase="抱歉，我没看懂您的问题，能换个说法再问一次吗？也可以发送 /topics 按主题浏览。",
    lang_set_unsaved="我将用简体中文回答（未能保存此设置，重启后失效）。",
    did_you_mean="我不太确定您的意思。您是不是想问：",
    none_of_these="都不是",
    handed_over=("谢谢！您的问题已转给工作人员，他们会在这里回复您。\n\n", italic("{question}")),
    already_handed_over="您的问题已在工作人员处。",
    unanswered="这个问题我暂时没有可靠来源的答案，所以不做猜测。已转给工作人员，他们会在这里回复您。",
    not_logged="这个问题我暂时没有可靠来源的答案，而且暂时无法记录您的问题。请过几分钟再试。",
    helpful="👍 有帮助",
    not_helpful="👎 没帮助",
    thanks_feedback="感谢您的反馈！",
    related="相关：{title}",
    expired="此按钮已失效。请重新提问或使用 /topics。",
    slow_down="您的提问太快了，请约{seconds}秒后再试。",
    text_only="我只能阅读文字消息，请输入您的问题。",
    empty="请在@我之后输入您的问题。",
    unknown_command="没有这个命令。请试试 /help。",
    error="抱歉，我这边出了点问题，请稍后再试。",
    forget_done=(
        "已删除：{questions}个问题、{feedback}条评价和您的语言设置。"
        "仍在等待工作人员处理的{anonymised}个问题保留文字，但不再记录提问人，工作人员将无法回复。"
    ),
    forget_failed="抱歉，暂时无法删除您的数据，请过几分钟再试。",
    start_name="，{name}",
    reply_title="北京经开区团队的回复",
    reply_asked="您的问题：",
    commands=(
        ("start", "介绍与主题"),
        ("topics", "按主题浏览问题"),
        ("lang", "回答语言：自动 / English / 简体 / 繁體"),
        ("help", "使用说明"),
        ("forget", "删除我的提问和数据"),
    ),
    answer=AnswerWords(
        qualifiers=MappingProxyType(
            {
                "exact": "{}",
                "more_than": "超过{}",
                "nearly": "近{}",
                "about": "约{}",
                "up_to": "最高{}",
                "at_least": "至少{}",
            }
        ),
        source="来源",
        sources="来源",
        published="发布于",
        unverified="转载来源，工作人员尚未核实",
        earlier="此前数据",
        newest="最新数据",
        fallback="（暂无中文答案，以下为英文答案。）",
        period_found="{years}的数据：{figures}。",
        period_missing="我们的资料中没有{years}的数据。最接近的数据：{figures}。",
        year="{year}年",
        years_and="和",
    ),
    shell=ShellWords(
        welcome="北京经济技术开发区（亦庄）投资咨询助手。可用中文或英文询问政策、激励措施、数据、园区和企业。\n"
        "命令：/topics 主题，/lang 切换语言，/why 查看上一个问题的匹配过程，/help 帮助，/quit 退出",
        did_you_mean="您是不是想问：",
        none="0. 都不是（将问题转给工作人员）",
        pick="请输入编号选择。",
        unanswered="暂时没有可引用来源的答案。问题已进入工作人员队列（etown-bot unanswered list），"
        "并标明来自控制台：控制台里无人能回复。",
        queued="问题已进入工作人员队列，并标明来自控制台：这里无人能回复。",
        topics="主题：",
        lang="语言已切换为简体中文。",
        unknown="未知命令。可用 /topics、/lang、/why、/help 或 /quit。",
        empty_topic="该主题暂无问题。",
        no_answer="（无答案：将转给工作人员）",
        no_choice="没有选项{number}：请输入列表中的编号（{choices}），或直接提问。",
        why_nothing="请先提问；之后 /why 会显示匹配过程。",
        why="上一个问题：{question!r}\n状态：{status}；最佳条目：{entry}（置信度 {score:.2f}）\n排序：",
        why_candidate="  {rank}. {entry}  {score:.3f}  {phrasing}",
        bye="再见。",
    ),
)
