"""What the bot says to staff (in English): staff posts, the staff chat and the admin commands."""

from __future__ import annotations

from types import MappingProxyType

from bot.words.styled import bold, code, pre
from bot.words.types import CliWords, EvalWords, StaffWords, StatsWords, SuggestWords

STAFF = StaffWords(
    post_titles=MappingProxyType(
        {
            "unanswered": "Unanswered question",
            "none_of_these": "No suggestion fitted (investor chose “None of these”)",
            # The bot had an answer, but Telegram refused or lost the reply even after retries.
            "undelivered": "Reply not delivered (Telegram error): please follow up",
            # An entry with ``hand_off: true`` answered it ("I want to talk to a person"): they wait for you.
            "asked_for_staff": "Investor asked for a person",
        }
    ),
    post_from="From: {who}",
    post_language="Language: {lang} · {asked}",
    post_nearest="Nearest entries:",
    post_nearest_none="Nearest entries: none",
    post_how_to_answer="Admins: reply to this message to answer the investor.",
    more_characters="… ({count} more characters)",
    identity_removed="identity removed (the investor used /forget)",
    from_console="the console chat (etown-bot shell): nobody to reply to",
    who="{name}, id {id}",
    who_id="id {id}",
    post_removed="(removed: the investor deleted their data)",
    reply_empty="the reply is empty",
    reply_too_long=(
        "the reply is too long: Telegram counts {units} characters (an emoji counts 2), at most {limit} fit one message"
    ),
    blocked_note="the investor has blocked the bot",
    not_available="This command is not available.",
    button_expired="This button has expired.",
    button_dismiss="Dismiss",
    button_answer_with="Answer with {entry} + add phrasing",
    no_item="There is no queued question #{item}.",
    already_closed="#{item} is already {status} ({when}); nothing sent.",
    earlier="earlier",
    forgotten="#{item}: the investor deleted their data (/forget); the reply cannot be delivered.",
    console_item=(
        "#{item} was asked in the console chat (etown-bot shell): there is nobody to send a reply to; dismiss it."
    ),
    invalid="#{item}: {detail}; nothing sent.",
    blocked="#{item}: the investor has blocked the bot, so the reply was not delivered. The item stays open.",
    refused="#{item}: Telegram refused the reply ({detail}). The item stays open.",
    closed_meanwhile="#{item}: delivered, but someone closed the item meanwhile.",
    delivered="✓ #{item} answered by {name} at {time}; the investor has the reply.",
    dismissed="#{item} dismissed.",
    not_open="#{item} was not open.",
    dismissed_note="Dismissed by {name} at {time}",
    group_dismissed="{count} question(s) dismissed.",
    entry_gone="#{item} is not open, or entry {entry} no longer exists.",
    entry_forgotten="#{item}: the investor deleted their data; nothing sent.",
    entry_blocked="#{item}: the investor has blocked the bot; the item stays open.",
    answered_with_note="Answered with {entry} by {name} at {time}",
    phrasing_snippet="# {file}, entry '{entry}' (line {line}): add under questions.{lang}:\n    - {question}",
    answered_and_learned=(
        "✓ #{item}: the investor has the answer of ",
        code("{entry}"),
        '. "{question}" is now one of its phrasings (faq/learned.yaml): the next investor who asks it this '
        "way gets the answer without staff, once the bot reloads (within seconds).",
    ),
    answered_not_learned=(
        "✓ #{item}: the investor has the answer of ",
        code("{entry}"),
        ". The question was not added as a phrasing ({reason}). To add it by hand:\n",
        pre("{snippet}"),
    ),
    button_unlearn="Undo: forget this phrasing",
    answered_with_entry_only="✓ #{item}: the investor has the answer of {entry}.",
    unlearned="#{item}: the phrasing learned from it is removed (faq/learned.yaml); the bot reloads within seconds.",
    answered_with_entry=(
        "✓ #{item}: the investor has the answer of ",
        code("{entry}"),
        ". To match this wording next time, add it to the knowledge base:\n",
        pre("{snippet}"),
    ),
    queue_empty="No open questions. 🎉",
    queue_heading=(bold("Open questions"), ": {items} in {groups} group(s), page {page}/{pages}"),
    queue_line="{n}. “{question}” · asked {count}× · newest {newest} · #{first}",
    queue_hint="Open a question to see its details; reply to it to answer the investor.",
    button_open="{n}. Open / answer #{first}",
    button_dismiss_group="Dismiss ({count})",
    button_newer="« Newer",
    button_older="Older »",
    summary_heading=(
        bold("{count} new item(s) for staff"),
        ", listed together (they arrived faster than one post each):",
    ),
    summary_hint="Open them with /unanswered (or /answer ID text).",
    admin_commands=(
        ("unanswered", "Open questions, grouped"),
        ("answer", "ID text: reply to an investor"),
        ("dismiss", "ID: close a question without reply"),
        ("stats", "Usage figures and a 30-day chart"),
        ("export", "[from] [to]: the question log as CSV"),
        ("reload", "Reload faq/ (validated)"),
    ),
    usage=MappingProxyType(
        {
            "unanswered": "Usage: /unanswered [PAGE]",
            "answer": "Usage: /answer ID your reply to the investor, or /answer ID --entry ENTRY_ID [--learn]",
            "dismiss": "Usage: /dismiss ID",
            "export": "Usage: /export [YYYY-MM-DD] [YYYY-MM-DD]",
        }
    ),
    dismissed_by="#{item} dismissed by {name}.",
    not_an_open_question="#{item} is not an open question.",
    chart_caption="Last 30 days (UTC)",
    export_caption="Question log (CSV, UTF-8)",
    not_a_date="{text!r} is not a date (use YYYY-MM-DD)",
    day_out_of_range="{text} is outside {first} to {last} (leave a date out for no limit)",
    days_reversed="the start date {first} is after the end date {last}",
    reload_refused="❌ Reload refused: {count} error(s). Still answering from the last good version.",
    reload_more_errors="... and {count} more (run etown-bot check)",
    reloaded="✅ Knowledge base reloaded: {entries} entries, {warnings} new warning(s).",
    reload_standing="({count} earlier warning(s) not repeated: etown-bot check lists them all.)",
    reload_unchanged="No entry changed.",
    reload_failed=(
        "❌ Reload failed ({reason}). Still answering from the last good version; "
        "details are in the bot's log, and etown-bot check shows what it finds."
    ),
    faq_changed="faq/ changed on disk. ",
    cli_answered="✅ #{item} answered from the command line{who}:",
    cli_answered_by=" by {by}",
    cli=CliWords(
        no_open="No open questions.",
        page_heading="{items} open question(s) in {groups} group(s); page {page} of {pages}",
        next_page="(next: etown-bot unanswered list --page {page})",
        no_item="no item #{item}",
        already_closed="item #{item} is already {status}; nothing sent",
        not_configured=(
            "no Telegram bot token configured (telegram.token in config.yaml or TELEGRAM_BOT_TOKEN); "
            "the reply can only reach the investor through the bot, so nothing was sent"
        ),
        forgotten=(
            "item #{item} has no chat to reply to (the investor deleted their data with /forget); "
            "dismiss it, or answer it in the knowledge base"
        ),
        blocked="the investor has blocked the bot; the reply was not delivered, #{item} stays open",
        refused="Telegram refused the reply ({detail}); #{item} stays open",
        closed_meanwhile="#{item} was closed by someone else meanwhile; the reply was still delivered",
        delivered="Reply delivered; #{item} marked answered.",
        credentials_refused="Telegram refused the bot token ({detail}); nothing was sent",
        unreachable="could not reach Telegram ({detail}); nothing was sent and #{item} stays open",
        confirm_failed="warning: could not confirm in the staff chat: {detail}",
        not_open="item #{item} is already closed",
        dismissed="#{item} dismissed.",
        exported="exported {count} row(s){where}",
        exported_to=" to {path}",
        bad_page="--page must be 1 or more",
        no_such_page="there is no page {page}: the queue has {pages} page(s)",
        chart_written="chart of the last 30 days written to {path}",
        list_columns=("asked", "newest", "items", "question"),
        show_heading="#{item}  {status}  asked {asked}",
        show_language="Language: {lang}",
        show_question="Question:",
        show_closed="{status}{by} at {time}",
        show_closed_by=" by {by}",
        show_reply="Reply:",
        show_undelivered="Last reply not delivered ({time}): {error}",
        no_nearest="{problem}; nearest entries not shown",
        no_synonyms="{problem}; grouping without its synonyms",
        kb_invalid="{problem}; run '{command}' for details",
        check_failed="{errors} error(s), {warnings} warning(s) in {directory}",
        check_ok=(
            "{directory}: OK: {entries} entries ({facts} facts), {sources} sources, "
            "{synonyms} synonym groups, {warnings} warning(s)"
        ),
        check_columns=("topic", "entries", "en", "zh"),
        check_total="total",
        size_bytes="{size:,} bytes",
        size_mb="{mb:.1f} MB ({size:,} bytes)",
        backup_written="wrote {path}: {size}, schema version {version}, owner-only (0600)",
        restored="restored {backup} into {path}: {size}, schema version {version}",
        previous_kept="the replaced database is kept as {path}",
        bad_folds="--folds must be between 2 and the number of cases ({cases})",
        cross_validation="{folds}-fold cross-validation (each fold decided by what --tune fits on the other folds)",
        tuned="\ntuned calibration and thresholds (paste into config.yaml):",
        not_a_number="not a number: {text!r}",
        not_a_fraction="must be between 0 and 1: {text}",
        bot_unset="no Telegram token: set TELEGRAM_BOT_TOKEN or telegram.token (create a bot with @BotFather)",
        malformed_credentials=(
            "telegram.token: not a bot token (expected <bot id>:<secret>, as @BotFather gives it; "
            "check TELEGRAM_BOT_TOKEN / config.yaml)"
        ),
        webhook_not_https="telegram.webhook.url: Telegram only delivers webhooks to https:// URLs",
        webhook_unprotected="telegram.webhook.secret_token: required when telegram.webhook.url is set",
        webhook_check_chars="telegram.webhook.secret_token: 1-256 characters from A-Z, a-z, 0-9, _ and -",
        run_refused="Telegram refused the token (check TELEGRAM_BOT_TOKEN / telegram.token with @BotFather)",
        api_unreachable="could not reach the Telegram Bot API: {detail}",
    ),
    stats=StatsWords(
        heading="Questions (as of {time})",
        columns=("window", "total", "answered", "suggested", "unanswered"),
        chat_columns=("small talk", "unclear"),
        picked_column="picked",
        columns_note=(
            "answered: by the bot; picked: from a did-you-mean; suggested: a did-you-mean nothing was picked from; "
            "unanswered: handed to staff"
        ),
        helpful="Helpful (30 d): {percent} of {count} rating(s)",
        no_ratings="Helpful (30 d): no ratings",
        top_entries="Top entries (30 d):",
        none="none",
        open_questions="Open questions: {count}",
        undelivered="Replies not delivered (30 d): {count}",
        quarantined="Updates set aside as unreadable: {count}",
        chart_title="Questions per day, last 30 days (UTC)",
        chart_answered="answered",
        chart_not_answered="not answered",
        chart_picked="picked from did-you-mean",
        chart_suggested="did-you-mean, none picked",
        chart_to_staff="handed to staff",
        chart_chat="small talk / unclear",
    ),
    eval=EvalWords(
        cases="cases: {cases} ({in_scope} in scope, {out_of_scope} out of scope)",
        accuracy="in-scope accuracy (answered with the right entry): {value:.1%}",
        wrong="in-scope answered wrongly:                         {value:.1%}",
        rejection=(
            "out-of-scope rejection (not answered):             {value:.1%}"
            "  (handed straight to staff: {unanswered:.1%})"
        ),
        suggest_rate="suggest rate (did-you-mean, all cases):            {value:.1%}",
        top3="top-3 hit rate (in scope):                         {value:.1%}",
        chat=(
            "small talk recognised: {smalltalk_right:.1%} of {smalltalk}; "
            "unclear recognised: {unclear_right:.1%} of {unclear}"
        ),
        questions_as_chat="questions taken for small talk or unclear:        {value:.1%}",
        by_language="by language",
        by_topic="by topic",
        group=(
            "{name:<12} n={cases:<4} accuracy {accuracy:.1%}  wrong {wrong:.1%}  oos rejected {rejected}  "
            "top-3 {top3:.1%}"
        ),
        misses="misses ({count}):",
        miss="line {line}: {q!r}: expected {expect}, got {status} (best {best} {score:.3f})",
        more_misses="... and {count} more (use --json for all)",
    ),
    suggest=SuggestWords(
        heading="etown-bot unanswered suggest: {groups} open group(s)",
        instructions=(
            "Review before pasting, then run `etown-bot check`.",
            "phrasings: new ways investors asked an existing entry; add each list under that entry's `questions:`.",
            "new_entries: questions no entry answers; paste into an entries file, write the answer (and a source).",
            "  Their answers are empty on purpose: `check` refuses them until you write one.",
        ),
        add_under="{entry} ({file}:{line}): add under its questions:",
        phrasing_note="asked {count}x, newest {newest}, score {score:.2f}",
        picked_note="picked from a did-you-mean by {count} investors",
        new_entry_note="asked {count}x, newest {newest}",
        nearest_too_far="; nearest: {entry} {score:.2f} (too far)",
        skipped_heading="Left out (answer these in the queue; they are no phrasing or entry to add):",
        skipped_gap="{question!r}: asks what {entry} says the sources do not give: for staff",
        skipped_uncovered="{question!r}: {entry} does not know its word {word!r}: not the same question",
        skipped_staff_only="{question!r}: names {word!r}, a topic faq/README.md says goes to staff",
        skipped_long="a message of {length:,} characters (#{item}): too long to be a phrasing",
        skipped_names_entry="{question!r}: names entry {entry}, which does not answer it: extend that entry",
    ),
    update_set_aside=(
        "Telegram sent update {update_id} in a shape the bot cannot read ({reason}); it is kept aside, "
        "unhandled. Kept aside so far: {total}."
    ),
    answered_with_entry_reply="[answered with entry {entry}]",
)
