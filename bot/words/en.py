"""The bot's words to investors in English: the Telegram chat, the console (``etown-bot shell``)
and the labels around answers.

Messages are plain-text templates, some with bold or italic spans (bot/words/styled.py;
``handlers.render.say`` lays them out in Telegram HTML and escapes their fields); button labels and the
console's words are plain text.
"""

from __future__ import annotations

from types import MappingProxyType

from bot.words.styled import bold, italic
from bot.words.types import AnswerWords, ShellWords, Words

EN = Words(
    language="English",
    start=(
        "Hello{name}! I answer investors' questions about ",
        bold("Beijing E-Town"),
        " (BDA, Yizhuang) and its "
        "biopharmaceutical industry: policies and incentives, funds, talent, parks, companies, clinical "
        "trials, events and statistics.\n\n"
        "Ask in English or Chinese, in your own words. Every figure comes with its source and date. "
        "When I don't have a sourced answer, I pass your question to our staff, who reply here.\n\n"
        "Browse by topic:",
    ),
    help=(
        bold("How to use this bot"),
        "\n• Type a question, e.g. ",
        italic("How many biotech companies are in BDA?"),
        " or ",
        italic("亦庄有哪些产业基金？"),
        "\n"
        '• If I\'m not sure, I offer a few "Did you mean" choices; "None of these" sends your '
        "question to staff.\n"
        "• /topics: browse questions by topic\n"
        "• /lang: answer in the language you write in (the default), or always in English, 简体中文 or 繁體中文\n"
        "• /help: this message\n"
        "In a group, mention me or reply to my message.",
    ),
    topics="Choose a topic:",
    topic_questions=(bold("{title}"), ": choose a question:"),
    back="« Topics",
    lang_prompt="Choose your language:",
    lang_set="I'll answer in English from now on.",
    lang_auto="Auto: the language you write in",
    lang_auto_set="I'll answer in the language of each question: English, 简体中文 or 繁體中文.",
    lang_auto_set_unsaved=(
        "I'll answer in the language of each question (I couldn't save this choice; it lasts until the bot restarts)."
    ),
    period_handed="I've passed your question to our staff for the figure you asked about; they will reply here.",
    rephrase="Sorry, I couldn't find a question in that. Could you rephrase it? Type /topics to browse.",
    lang_set_unsaved="I'll answer in English (I couldn't save this choice; it lasts until the bot restarts).",
    did_you_mean="I'm not sure I understood. Did you mean:",
    none_of_these="None of these",
    handed_over=("Thank you. I've passed your question to our staff; they will reply here.\n\n", italic("{question}")),
    already_handed_over="Your question is already with our staff.",
    unanswered=(
        "I don't have a sourced answer to that yet, so I won't guess. I've passed your question to our "
        "staff; they will reply here."
    ),
    not_logged=(
        "I don't have a sourced answer to that yet, and I couldn't record your question just now. "
        "Please try again in a few minutes."
    ),
    helpful="👍 Helpful",
    not_helpful="👎 Not helpful",
    thanks_feedback="Thank you for the feedback!",
    related="Related: {title}",
    expired="This button has expired. Please ask again or use /topics.",
    slow_down="You're sending questions faster than I can take them. Please wait about {seconds} seconds.",
    text_only="I can only read text messages. Please type your question.",
    empty="Please type your question after mentioning me.",
    unknown_command="I don't know that command. Try /help.",
    error="Sorry, something went wrong on my side. Please try again in a moment.",
    forget_done=(
        "Done: I deleted {questions} question(s), {feedback} rating(s) and your language setting. "
        "{anonymised} question(s) still waiting for staff keep their text but no longer say who asked, "
        "so staff cannot reply to them."
    ),
    forget_failed="Sorry, I couldn't delete your data just now. Please try again in a few minutes.",
    start_name=", {name}",
    reply_title="Answer from the Beijing E-Town team",
    reply_asked="You asked:",
    commands=(
        ("start", "What this bot answers, by topic"),
        ("topics", "Browse questions by topic"),
        ("lang", "Auto / English / 简体中文 / 繁體中文"),
        ("help", "How to ask"),
        ("forget", "Delete my questions and data"),
    ),
    answer=AnswerWords(
        qualifiers=MappingProxyType(
            {
                "exact": "{}",
                "more_than": "more than {}",
                "nearly": "nearly {}",
                "about": "about {}",
                "up_to": "up to {}",
                "at_least": "at least {}",
            }
        ),
        source="Source",
        sources="Sources",
        published="published",
        unverified="from a reprint, not yet verified by staff",
        earlier="Earlier figures",
        newest="The newest figure",
        fallback="(No answer in English yet; here is the Chinese one.)",
        period_found="For {years}, our sources give: {figures}.",
        period_missing="Our sources have no figure for {years}. The nearest they give: {figures}.",
        year="{year}",
        years_and=" and ",
    ),
    shell=ShellWords(
        welcome="Beijing E-Town investor assistant. Ask about policies, incentives, figures, parks and companies "
        "in English or Chinese.\nCommands: /topics, /lang, /why (how the last question was matched), /help, /quit",
        did_you_mean="Did you mean:",
        none="0. None of these (pass my question to staff)",
        pick="Type a number to choose.",
        unanswered="I don't have a sourced answer to that yet. Your question is in the staff queue "
        "(etown-bot unanswered list), marked as asked here: nobody can reply in the console.",
        queued="Your question is in the staff queue, marked as asked in the console: nobody can reply here.",
        topics="Topics:",
        lang="Language set to English.",
        unknown="Unknown command. Try /topics, /lang, /why, /help or /quit.",
        empty_topic="No questions in this topic yet.",
        no_answer="(no answer: this question would be passed to staff)",
        no_choice="There is no choice {number}: type a number from the list ({choices}), or ask a question.",
        why_nothing="Ask a question first; /why then shows how it was matched.",
        why="Last question: {question!r}\nStatus: {status}; best entry: {entry} (confidence {score:.2f})\nRanked:",
        why_candidate="  {rank}. {entry}  {score:.3f}  {phrasing}",
        bye="Goodbye.",
    ),
)
