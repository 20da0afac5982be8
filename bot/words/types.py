"""The shape of the bot's words: one ``Words`` per language (bot/words/en.py, zh.py) and ``StaffWords``
for the staff, who work in English (bot/words/staff.py).

Templates name their fields (``{title}``) and hold no markup: a message with emphasis is a ``Template``
of plain pieces and styled spans (bot/words/styled.py); handlers/render.py lays it out in Telegram HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.words.styled import Template


@dataclass(frozen=True)
class ShellWords:
    """The console chat (``etown-bot shell``), plain text."""

    welcome: str
    did_you_mean: str
    none: str
    pick: str
    unanswered: str
    queued: str
    topics: str
    lang: str
    unknown: str
    empty_topic: str
    bye: str
    no_answer: str  # ``etown-bot ask`` for a question it would pass to staff
    no_choice: str  # a number with nothing to choose, or out of range
    why_nothing: str  # /why before any question
    why: str  # /why: the last question, its status and best entry
    why_candidate: str  # /why: one ranked entry


@dataclass(frozen=True)
class AnswerWords:
    """The labels around an answer (bot/render.py), plain text."""

    qualifiers: Mapping[str, str]  # by Figure.qualifier: "about {}" around the figure's text
    source: str
    sources: str
    published: str
    unverified: str
    earlier: str
    newest: str  # before the newer figure of a fact kept as history (``superseded_by``)
    fallback: str  # an answer shown in the other language
    period_found: str  # {years}, {figures}: the figures for the years a question asks, before the answer
    period_missing: str  # {years}, {figures}: the sources have none for them; the nearest
    year: str  # {year}: one year as the text reads it ("2023" / "2023年")
    years_and: str  # between years: " and " / "和"


@dataclass(frozen=True)
class Words:
    """What investors read in one language. Messages are templates, plain or with styled spans (``start``,
    ``help``, ``topic_questions``, ``handed_over``); button labels (``back``, ``none_of_these``, ``helpful``,
    ``not_helpful``, ``related``) and ``commands`` are plain text."""

    language: str  # the language's own name, on the /lang buttons
    start: Template
    help: Template
    topics: str
    topic_questions: Template
    back: str
    lang_prompt: str
    lang_set: str
    lang_auto: str  # the /lang button: reply in the language of each question
    lang_auto_set: str
    lang_auto_set_unsaved: str
    rephrase: str  # a message with nothing to answer, when faq/smalltalk.yaml gives no reply for it
    period_handed: str  # after the nearest figures to a year the sources do not cover: queued for staff
    lang_set_unsaved: str
    did_you_mean: str
    none_of_these: str
    handed_over: Template
    already_handed_over: str
    unanswered: str
    not_logged: str
    helpful: str
    not_helpful: str
    thanks_feedback: str
    related: str
    expired: str
    slow_down: str
    text_only: str
    empty: str
    unknown_command: str
    error: str
    forget_done: str  # /forget
    forget_failed: str
    start_name: str  # ", {name}" after "Hello" in ``start`` when Telegram gives the investor's first name
    reply_title: str  # above a staff reply (plain text)
    reply_asked: str
    commands: tuple[tuple[str, str], ...]  # the public command menu: (command, description)
    answer: AnswerWords
    shell: ShellWords


@dataclass(frozen=True)
class CliWords:
    """What the command line (``etown-bot unanswered ...``, ``check``, ``backup``, ``eval``, ...) says to staff
    and operators, plain text."""

    no_open: str
    page_heading: str
    next_page: str
    no_item: str
    already_closed: str
    not_configured: str
    forgotten: str
    blocked: str
    refused: str
    closed_meanwhile: str
    delivered: str
    credentials_refused: str
    unreachable: str
    confirm_failed: str
    not_open: str
    dismissed: str
    exported: str
    exported_to: str
    bad_page: str
    no_such_page: str
    chart_written: str
    list_columns: tuple[str, str, str, str]  # asked, newest, items, question
    show_heading: str
    show_language: str
    show_question: str
    show_closed: str
    show_closed_by: str
    show_reply: str
    show_undelivered: str
    no_nearest: str  # the knowledge base did not load
    no_synonyms: str
    kb_invalid: str
    # etown-bot check, backup, restore, eval, ask
    check_failed: str
    check_ok: str
    check_columns: tuple[str, str, str, str]  # topic, entries, en, zh
    check_total: str
    size_bytes: str
    size_mb: str
    backup_written: str
    restored: str
    previous_kept: str
    bad_folds: str
    cross_validation: str
    tuned: str
    not_a_number: str
    not_a_fraction: str
    # etown-bot run, refusing to start
    bot_unset: str
    malformed_credentials: str
    webhook_not_https: str
    webhook_unprotected: str
    webhook_check_chars: str
    run_refused: str
    api_unreachable: str


@dataclass(frozen=True)
class EvalWords:
    """The report of ``etown-bot eval``, plain text; the padding inside the lines aligns their figures."""

    cases: str
    accuracy: str
    wrong: str
    rejection: str
    suggest_rate: str
    top3: str
    chat: str
    questions_as_chat: str
    by_language: str
    by_topic: str
    group: str
    misses: str
    miss: str
    more_misses: str


@dataclass(frozen=True)
class StatsWords:
    """The statistics (``/stats``, ``etown-bot stats``): a monospace plain-text table, and the chart."""

    heading: str
    columns: tuple[str, str, str, str, str]  # window, total, answered, suggested, unanswered
    chat_columns: tuple[str, str]  # small talk, unclear: messages that were no question, not in the total
    helpful: str
    no_ratings: str
    top_entries: str
    none: str
    open_questions: str
    undelivered: str
    quarantined: str
    chart_title: str
    chart_answered: str
    chart_not_answered: str
    chart_picked: str
    chart_suggested: str
    chart_to_staff: str
    chart_chat: str
    picked_column: str
    columns_note: str


@dataclass(frozen=True)
class SuggestWords:
    """The comments in the YAML of ``etown-bot unanswered suggest`` (each line follows "# ")."""

    heading: str
    instructions: tuple[str, ...]
    add_under: str
    phrasing_note: str
    picked_note: str
    new_entry_note: str
    nearest_too_far: str
    skipped_heading: str  # questions left out, each with why
    skipped_gap: str
    skipped_uncovered: str
    skipped_staff_only: str
    skipped_long: str
    skipped_names_entry: str


@dataclass(frozen=True)
class StaffWords:
    """What staff read: in Telegram (templates, a few with styled spans) and on the command line (``cli``)."""

    # staff posts
    post_titles: Mapping[str, str]  # by PostReason
    post_from: str
    post_language: str
    post_nearest: str
    post_nearest_none: str
    post_how_to_answer: str
    more_characters: str
    identity_removed: str
    from_console: str  # who asked, for a question of the console chat
    who: str  # who asked: a name (and @username) with the Telegram id
    who_id: str  # the id alone, when Telegram gave no name
    post_removed: str  # a post whose item /forget deleted
    # replies to investors
    reply_empty: str
    reply_too_long: str
    blocked_note: str  # noted on an item whose reply the investor's block stopped
    # the staff chat
    not_available: str
    button_expired: str
    button_dismiss: str
    button_answer_with: str
    no_item: str
    already_closed: str
    earlier: str
    forgotten: str
    console_item: str
    invalid: str
    blocked: str
    refused: str
    closed_meanwhile: str
    delivered: str
    dismissed: str
    not_open: str
    dismissed_note: str
    group_dismissed: str
    entry_gone: str
    entry_forgotten: str
    entry_blocked: str
    answered_with_note: str
    phrasing_snippet: str
    answered_and_learned: Template
    answered_not_learned: Template
    button_unlearn: str
    answered_with_entry_only: str
    unlearned: str
    answered_with_entry: Template
    # the /unanswered pages
    queue_empty: str
    queue_heading: Template
    queue_line: str
    queue_hint: str
    button_open: str
    button_dismiss_group: str
    button_newer: str
    button_older: str
    # the outbox's summary of many waiting posts
    summary_heading: Template
    summary_hint: str
    # admin commands
    admin_commands: tuple[tuple[str, str], ...]  # the admins' command menu: (command, description)
    usage: Mapping[str, str]
    dismissed_by: str
    not_an_open_question: str
    chart_caption: str
    export_caption: str
    not_a_date: str  # /export and etown-bot unanswered export
    day_out_of_range: str
    days_reversed: str
    reload_refused: str
    reload_more_errors: str
    reloaded: str
    reload_unchanged: str
    reload_standing: str
    reload_failed: str
    faq_changed: str
    # the command line's note in the staff chat
    cli_answered: str
    cli_answered_by: str
    cli: CliWords
    stats: StatsWords
    eval: EvalWords
    suggest: SuggestWords
    # left in the staff chat by the bot itself
    update_set_aside: str  # an update Telegram sent that the bot cannot read
    answered_with_entry_reply: str  # stored as the item's reply when answered with an entry's answer
