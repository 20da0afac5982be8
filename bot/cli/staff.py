"""The staff tools on the command line: ``etown-bot unanswered ...`` and ``etown-bot stats``.

``bot.cli`` wires these in with ``add_parsers(commands)`` and, for a command in ``COMMANDS``,
``dispatch(config, args)``. ``unanswered answer`` sends the reply through the bot's token exactly as
a staff reply in Telegram does, and marks the item answered only once Telegram accepted it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.exitcodes import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from bot.knowledge.errors import KnowledgeBaseInvalid
from bot.redact import RedactSecrets, config_secrets
from bot.staff import queue  # light: for GROUPS_PER_PAGE; it imports rapidfuzz and the store lazily
from bot.words import STAFF

# The rest is imported by the command that uses it (python -X importtime, issue 13): the assistant and the
# matcher's modules cost ~90 ms, the store ~25 ms, asyncio ~40 ms (the messenger imports the store), which
# `etown-bot --help` need not pay.
if TYPE_CHECKING:
    from bot.assistant import Knowledge
    from bot.config import Config
    from bot.matching.text import Normalizer
    from bot.messenger import Messenger
    from bot.storage import Store, UnansweredItem

    _Handler = Callable[[Config, argparse.Namespace, Store], Awaitable[int]]

log = logging.getLogger(__name__)

COMMANDS: frozenset[str] = frozenset({"unanswered", "stats"})
MAX_LISTED_IDS = 5


class _Usage(Exception):
    """A usage problem found after parsing (exit code 2); the message is for the user."""


def _day(text: str) -> dt.date:
    from bot.staff import export

    try:
        return export.parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _faq_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--faq", type=Path, metavar="DIR", help="knowledge-base folder (for nearest entries)")


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``unanswered`` and ``stats`` to the ``etown-bot`` subcommands."""
    unanswered = commands.add_parser("unanswered", help="the staff queue of questions the bot could not answer")
    actions = unanswered.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="open questions grouped by similarity")
    listing.add_argument("--page", type=int, help="page number (default 1; with --json: every group)")
    listing.add_argument("--json", action="store_true", help="one JSON object per group and line")
    listing.add_argument("--per-page", type=int, default=queue.GROUPS_PER_PAGE, help=argparse.SUPPRESS)
    _faq_option(listing)

    show = actions.add_parser("show", help="one item with who asked and the nearest entries")
    show.add_argument("id", type=int, help="item id")
    _faq_option(show)

    answer = actions.add_parser("answer", help="send a reply to the investor (through the bot) and close the item")
    answer.add_argument("id", type=int, help="item id")
    answer.add_argument("text", nargs="*", help="the reply (quote it, or the words are joined with spaces)")
    answer.add_argument("--entry", metavar="ENTRY_ID", help="send this entry's answer instead of a text")
    answer.add_argument("--learn", action="store_true", help="with --entry: also add the question as its phrasing")
    answer.add_argument("--by", type=int, metavar="USER_ID", help="Telegram id of the staff member answering")
    _faq_option(answer)

    learn = actions.add_parser("learn", help="add the item's question as a phrasing of an entry (sends nothing)")
    learn.add_argument("id", type=int, help="item id")
    learn.add_argument("entry", metavar="ENTRY_ID", help="the entry that answers it")
    learn.add_argument("--by", type=int, metavar="USER_ID", help="Telegram id of the staff member")
    _faq_option(learn)

    unlearn = actions.add_parser("unlearn", help="undo 'learn': remove the phrasing learned from an item")
    unlearn.add_argument("id", type=int, help="item id")
    _faq_option(unlearn)

    dismiss = actions.add_parser("dismiss", help="close an item without a reply")
    dismiss.add_argument("id", type=int, help="item id")
    dismiss.add_argument("--by", type=int, metavar="USER_ID", help="Telegram id of the staff member")

    export = actions.add_parser(
        "export", help="the staff queue as CSV: #ids, status, group, answer, who, when (safe in a spreadsheet)"
    )
    export.add_argument("--log", action="store_true", help="the whole question log instead of the queue")
    export.add_argument("--from", dest="first", type=_day, metavar="DATE", help="first day, YYYY-MM-DD (UTC)")
    export.add_argument("--to", dest="last", type=_day, metavar="DATE", help="last day, YYYY-MM-DD (UTC, included)")
    export.add_argument("--output", type=Path, metavar="FILE", help="write here (default: standard output)")

    suggest = actions.add_parser("suggest", help="YAML to paste into faq/: new phrasings or new entries")
    suggest.add_argument("--min-score", type=float, metavar="X", help="nearest-entry score needed for a phrasing")
    _faq_option(suggest)

    stats = commands.add_parser("stats", help="question statistics of the last 24 h / 7 d / 30 d")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.add_argument("--chart", type=Path, metavar="FILE", help="also write a PNG chart of the last 30 days")
    _faq_option(stats)


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser with just these commands (for tests and scripts)."""
    parser = argparse.ArgumentParser(prog="etown-bot")
    add_parsers(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    return parser


def _err(message: str) -> None:
    print(f"etown-bot: {message}", file=sys.stderr, flush=True)


def dispatch(config: Config, args: argparse.Namespace) -> int:
    """Run a command of ``COMMANDS``; returns the exit code (0 ok, 1 problems, 2 usage)."""
    import asyncio

    from bot.storage import StoreError

    if getattr(args, "faq", None) is not None:
        config = replace(config, faq_dir=args.faq)
    handlers: dict[str, _Handler] = {
        "list": _list,
        "show": _show,
        "answer": _answer,
        "learn": _learn,
        "unlearn": _unlearn,
        "dismiss": _dismiss,
        "export": _export,
        "suggest": _suggest,
    }
    handler: _Handler
    if args.command == "stats":
        handler = _stats
    elif args.command == "unanswered":
        handler = handlers[args.action]
    else:
        raise ValueError(f"not a staff command: {args.command}")
    try:
        return asyncio.run(_with_store(config, args, handler))
    except _Usage as exc:
        _err(str(exc))
        return EXIT_USAGE
    except StoreError as exc:
        _err(str(exc))
        return EXIT_PROBLEMS
    except KnowledgeBaseInvalid as exc:
        for issue in exc.result.errors:
            print(issue, file=sys.stderr)
        _err(STAFF.cli.kb_invalid.format(problem=exc, command=exc.check_command))
        return EXIT_PROBLEMS


async def _with_store(config: Config, args: argparse.Namespace, handler: _Handler) -> int:
    from bot.storage import Store

    store = await Store.open(config.database)
    try:
        return await handler(config, args, store)
    finally:
        await store.close()


def _knowledge(config: Config) -> Knowledge:
    from bot.assistant import Knowledge

    knowledge = Knowledge(config.knowledge_dir, config.matching, config.cache_dir)
    knowledge.load()
    return knowledge


def _normalizer(config: Config) -> Normalizer:
    """The live knowledge base's normalizer (it knows the synonyms); a plain one if faq/ does not load."""
    from bot.knowledge.synonyms import load_normalizer
    from bot.matching.text import Normalizer

    try:
        # The normaliser alone: building the matcher would import scikit-learn and fit TF-IDF (~1 s) just
        # to group a few questions; its synonyms come from the cache beside the database when faq/ has not
        # changed since it last loaded cleanly (benchmarks/README.md, "command-line start").
        return load_normalizer(config.knowledge_dir, config.cache_dir)
    except KnowledgeBaseInvalid as exc:
        _err(STAFF.cli.no_synonyms.format(problem=exc))
        return Normalizer()


def _keep_segmentations(normalizer: Normalizer) -> None:
    """Keep the segmentations of this grouping for the next run (see bot.matching.segmentations)."""
    if normalizer.segmentations is not None:
        normalizer.segmentations.save()


# --- unanswered list | show


async def _list(config: Config, args: argparse.Namespace, store: Store) -> int:
    if (args.page is not None and args.page < 1) or args.per_page < 1:
        raise _Usage(STAFF.cli.bad_page)
    normalizer = _normalizer(config)
    groups = await queue.open_groups(store, normalizer)
    _keep_segmentations(normalizer)
    if args.json:
        # The interface scripts rely on (issue 17): id, question, status, asked, count, one group per line.
        shown = groups if args.page is None else queue.paginate(groups, args.page, args.per_page).groups
        for group in shown:
            record = {
                "id": group.item_ids[-1],
                "ids": list(group.item_ids),
                "question": group.representative,
                "status": "new",
                "asked": group.newest,
                "count": group.count,
                "langs": list(group.langs),
                "texts": list(group.texts),
            }
            print(json.dumps(record, ensure_ascii=False))
        return EXIT_OK
    if not groups:
        print(STAFF.cli.no_open)
        return EXIT_OK
    page = queue.paginate(groups, args.page or 1, args.per_page)
    if args.page is not None and args.page > page.pages:
        raise _Usage(STAFF.cli.no_such_page.format(page=args.page, pages=page.pages))
    print(
        STAFF.cli.page_heading.format(
            items=page.total_items, groups=page.total_groups, page=page.number, pages=page.pages
        )
    )
    asked, newest, items, question = STAFF.cli.list_columns
    print(f"{asked:>5}  {newest:<10}  {items:<24}  {question}")
    for group in page.groups:
        ids = " ".join(f"#{i}" for i in group.item_ids[:MAX_LISTED_IDS])
        if group.count > MAX_LISTED_IDS:
            ids += f" +{group.count - MAX_LISTED_IDS}"
        print(f"{group.count:>5}  {group.newest_day:<10}  {ids:<24}  {group.representative[:200]}")
    if page.number < page.pages:
        print(STAFF.cli.next_page.format(page=page.number + 1))
    return EXIT_OK


async def _item(store: Store, item_id: int) -> UnansweredItem | None:
    """Queue item ``item_id``, or None with the "no such item" message printed."""
    item = await store.get_unanswered(item_id)
    if item is None:
        _err(STAFF.cli.no_item.format(item=item_id))
    return item


async def _show(config: Config, args: argparse.Namespace, store: Store) -> int:
    from bot.staff import display, suggest

    item = await _item(store, args.id)
    if item is None:
        return EXIT_PROBLEMS
    profile = await store.get_user(item.user_id) if item.user_id is not None else None
    print(STAFF.cli.show_heading.format(item=item.id, status=item.status, asked=display.format_utc(item.created_at)))
    print(STAFF.post_from.format(who=display.describe_user(item.user_id, profile, item.chat_id)))
    print(STAFF.cli.show_language.format(lang=item.lang))
    print(STAFF.cli.show_question)
    print("  " + "\n  ".join(item.text.splitlines() or [""]))
    try:
        knowledge = _knowledge(config)
    except KnowledgeBaseInvalid as exc:
        _err(STAFF.cli.no_nearest.format(problem=exc))
    else:
        nearest = suggest.nearest_entries(item.text, knowledge.kb, knowledge.matcher, item.lang)
        print(STAFF.post_nearest if nearest else STAFF.post_nearest_none)
        for n, candidate in enumerate(nearest, 1):
            print(f"  {n}. {candidate.entry_id}  {candidate.score:.2f}  {candidate.headline}")
    if item.status != "new":
        by = STAFF.cli.show_closed_by.format(by=item.replied_by) if item.replied_by is not None else ""
        print(
            STAFF.cli.show_closed.format(
                status=item.status.capitalize(), by=by, time=display.format_utc(item.replied_at or "")
            )
        )
    if item.reply:
        print(STAFF.cli.show_reply)
        print("  " + "\n  ".join(item.reply.splitlines()))
    if item.delivery_error and item.status == "new":
        failed_at = display.format_utc(item.delivery_failed_at or "")
        print(STAFF.cli.show_undelivered.format(time=failed_at, error=item.delivery_error))
    return EXIT_OK


# --- unanswered answer | dismiss


def _closed_message(item: UnansweredItem) -> str:
    return STAFF.cli.already_closed.format(item=item.id, status=item.status)


def _detail(config: Config, exc: Exception) -> str:
    """An error's message without the secrets: one that quotes a URL quotes the token."""
    return RedactSecrets(config_secrets(config)).clean(str(exc))


def _messenger(config: Config) -> Messenger:
    # The composition root's one way to Telegram, imported only by the command that sends.
    from handlers.messenger import TelegramMessenger

    return TelegramMessenger.for_token(config.telegram.token, config.telegram.api_base_url)


async def _answer(config: Config, args: argparse.Namespace, store: Store) -> int:
    from bot.messenger import CredentialsRefused, Unreachable
    from bot.staff import desk
    from bot.staff.desk import Outcome

    reply = " ".join(args.text).strip()
    if args.entry is not None and reply:
        raise _Usage("give a reply text or --entry ENTRY_ID, not both")
    if args.entry is None and not reply:
        raise _Usage("give the reply text, or --entry ENTRY_ID to send an entry's answer")
    if args.learn and args.entry is None:
        raise _Usage("--learn needs --entry ENTRY_ID")
    if not config.telegram.token:
        raise _Usage(STAFF.cli.not_configured)
    if args.entry is not None:
        from bot.render import format_text, render_answer

        waiting = await _item(store, args.id)
        if waiting is None:
            return EXIT_PROBLEMS
        kb = _knowledge(config).kb
        if args.entry not in kb.entries:
            raise _Usage(f"there is no entry '{args.entry}' (etown-bot kb list)")
        reply = format_text(render_answer(kb, kb.entries[args.entry], waiting.lang))
    prepared = await desk.prepare_reply(store, args.id, reply)
    item = prepared.item
    if prepared.outcome is Outcome.NOT_FOUND or item is None:
        _err(STAFF.cli.no_item.format(item=args.id))
        return EXIT_PROBLEMS
    if prepared.outcome is Outcome.INVALID:
        raise _Usage(prepared.detail)
    if prepared.outcome is Outcome.ALREADY_CLOSED:
        _err(_closed_message(item))
        return EXIT_PROBLEMS
    if prepared.outcome is Outcome.FORGOTTEN:
        _err(STAFF.cli.forgotten.format(item=item.id))
        return EXIT_PROBLEMS
    if prepared.outcome is Outcome.CONSOLE:
        _err(STAFF.console_item.format(item=item.id))
        return EXIT_PROBLEMS
    try:
        async with _messenger(config) as messenger:
            done = await desk.send_reply(
                store, messenger, prepared, reply, args.by, clean=RedactSecrets(config_secrets(config)).clean
            )
            if done.outcome is Outcome.BLOCKED:
                _err(STAFF.cli.blocked.format(item=item.id))
                return EXIT_PROBLEMS
            if done.outcome is Outcome.REFUSED:  # shown by `show` and to staff: never the token
                _err(STAFF.cli.refused.format(detail=done.detail, item=item.id))
                return EXIT_PROBLEMS
            if done.outcome is Outcome.CLOSED_MEANWHILE:
                # Someone closed it in Telegram while we were sending: the investor got both replies.
                _err(STAFF.cli.closed_meanwhile.format(item=item.id))
                return EXIT_PROBLEMS
            print(STAFF.cli.delivered.format(item=item.id))
            await _confirm_in_staff_chat(config, store, messenger, item.id, reply, args.by)
    except CredentialsRefused as exc:
        raise _Usage(STAFF.cli.credentials_refused.format(detail=_detail(config, exc))) from None
    except Unreachable as exc:  # the connection itself (getMe while starting up)
        _err(STAFF.cli.unreachable.format(detail=_detail(config, exc), item=item.id))
        return EXIT_PROBLEMS
    if args.learn and args.entry is not None:
        return _learned(config, item, args.entry, args.by)
    return EXIT_OK


def _learned(config: Config, item: UnansweredItem, entry_id: str, by: int | None) -> int:
    """Add ``item``'s question to ``entry_id``'s phrasings (faq/learned.yaml), and say what happened."""
    from bot.knowledge.learned import learn

    outcome = learn(config.knowledge_dir, entry_id, item.text, item.lang, item=item.id, by=by)
    if not outcome.ok:
        _err(f"#{item.id}: {outcome.message}")
        return EXIT_PROBLEMS
    undo = f"etown-bot unanswered unlearn {item.id}"
    print(f"#{item.id}: {outcome.message}; a running bot uses it within seconds; undo: {undo}")
    return EXIT_OK


async def _learn(config: Config, args: argparse.Namespace, store: Store) -> int:
    item = await _item(store, args.id)
    if item is None:
        return EXIT_PROBLEMS
    return _learned(config, item, args.entry, args.by)


async def _unlearn(config: Config, args: argparse.Namespace, store: Store) -> int:
    from bot.knowledge.learned import unlearn

    outcome = unlearn(config.knowledge_dir, item=args.id)
    if not outcome.ok:
        _err(outcome.message)
        return EXIT_PROBLEMS
    print(outcome.message)
    return EXIT_OK


async def _confirm_in_staff_chat(
    config: Config, store: Store, messenger: Messenger, item_id: int, reply: str, by: int | None
) -> None:
    """Tell the staff chat (under the item's post when there is one), as a reply in Telegram would.

    Best effort: the investor already has the answer, so a failure here is only reported.
    """
    from bot.messenger import DeliveryError
    from bot.staff.reply import CliAnswered

    chat_id = config.staff.chat_id
    if chat_id is None:
        return
    post = next((m for c, m in await store.staff_messages_for_item(item_id) if c == chat_id), None)
    try:
        await messenger.send(chat_id, CliAnswered(item_id, reply, by), reply_to=post)
    except DeliveryError as exc:
        _err(STAFF.cli.confirm_failed.format(detail=_detail(config, exc)))


async def _dismiss(config: Config, args: argparse.Namespace, store: Store) -> int:
    item = await _item(store, args.id)
    if item is None:
        return EXIT_PROBLEMS
    if item.status != "new" or not await store.dismiss_unanswered(item.id, by=args.by, only_open=True):
        _err(STAFF.cli.not_open.format(item=item.id))
        return EXIT_PROBLEMS
    print(STAFF.cli.dismissed.format(item=item.id))
    return EXIT_OK


# --- unanswered export | suggest, stats


def _open_private(path: Path) -> TextIO:
    # The log names investors: the file is owner-only from the first byte, like the database.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return open(descriptor, "w", encoding="utf-8-sig", newline="")  # BOM: spreadsheets then read Chinese right


async def _export(config: Config, args: argparse.Namespace, store: Store) -> int:
    from bot.staff import export

    try:
        export.day_bounds(args.first, args.last)
    except ValueError as exc:
        raise _Usage(str(exc)) from None
    write = export.export_csv if args.log else export.export_queue_csv
    if args.output is None:
        count = await write(store, sys.stdout, args.first, args.last)
        sys.stdout.flush()
    else:
        try:
            with _open_private(args.output) as out:
                count = await write(store, out, args.first, args.last)
        except OSError as exc:
            _err(f"{args.output}: {exc.strerror or exc}")
            return EXIT_PROBLEMS
    where = STAFF.cli.exported_to.format(path=args.output) if args.output else ""
    print(STAFF.cli.exported.format(count=count, where=where), file=sys.stderr)
    return EXIT_OK


async def _suggest(config: Config, args: argparse.Namespace, store: Store) -> int:
    from bot.staff import suggest

    knowledge = _knowledge(config)
    groups = await queue.open_groups(store, knowledge.matcher.normalizer)
    picks = await store.picks()
    text = suggest.suggest_yaml(groups, knowledge.kb, knowledge.matcher, min_score=args.min_score, picks=picks)
    print(text, end="")
    return EXIT_OK


async def _stats(config: Config, args: argparse.Namespace, store: Store) -> int:
    from bot.staff import chart, stats

    normalizer = _normalizer(config)
    summary = await stats.collect_stats(store, normalizer=normalizer)
    _keep_segmentations(normalizer)
    if args.json:
        print(json.dumps(stats.stats_dict(summary), ensure_ascii=False))
    else:
        print(stats.format_stats(summary))
    if args.chart is not None:
        try:
            args.chart.write_bytes(chart.render_chart(summary.daily))
        except OSError as exc:
            _err(f"{args.chart}: {exc.strerror or exc}")
            return EXIT_PROBLEMS
        print(STAFF.cli.chart_written.format(path=args.chart.resolve()), file=sys.stderr)
    return EXIT_OK
