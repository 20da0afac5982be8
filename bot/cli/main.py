"""The ``etown-bot`` command line. Names, options and JSON keys here are an interface: keep them."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import redact
from bot.cli import kb as kb_cli
from bot.cli import staff as staff_cli
from bot.config import ConfigError, load_config
from bot.exitcodes import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from bot.knowledge.errors import KnowledgeBaseInvalid
from bot.words import STAFF, words

# The rest is imported by the commands that use it: at the top, the assistant, the renderer, the loader and
# the store and asyncio made every command, `--help` too, import ~130 ms of modules (python -X importtime).
if TYPE_CHECKING:
    from bot.assistant import Knowledge, Reply
    from bot.config import Config
    from bot.knowledge.model import LoadResult


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="etown-bot",
        description="Beijing E-Town investor assistant: knowledge base, matcher and Telegram bot.",
    )
    parser.add_argument("--config", type=Path, metavar="PATH", help="config file (default: ./config.yaml if present)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ask = commands.add_parser("ask", help="answer one question, or one per stdin line")
    ask.add_argument("question", nargs="?", help="the question; omit to read one per line from stdin")
    ask.add_argument("--faq", type=Path, metavar="DIR", help="knowledge-base folder")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument(
        "--conversation",
        action="store_true",
        help="stdin lines are the turns of one conversation: follow-ups ('and in 2021?') use the last answer",
    )

    check = commands.add_parser("check", help="validate the knowledge base")
    check.add_argument("--faq", type=Path, metavar="DIR", help="knowledge-base folder")

    commands.add_parser("run", help="start the Telegram bot (long polling, or a webhook if configured)")
    shell = commands.add_parser("shell", help="chat with the assistant in the terminal (logged like the bot)")
    shell.add_argument("--faq", type=Path, metavar="DIR", help="knowledge-base folder (chat against a draft)")
    # Used by `make run` to choose between the Telegram bot and the console chat.
    commands.add_parser("has-token", help="exit 0 when a Telegram token is configured, else 1")

    staff_cli.add_parsers(commands)
    kb_cli.add_parsers(commands)

    copy = commands.add_parser("backup", help="write a consistent copy of the database (safe while the bot runs)")
    copy.add_argument("path", type=Path, metavar="PATH", help="the copy's file name")
    copy.add_argument("--force", action="store_true", help="replace PATH if it exists")
    restore = commands.add_parser("restore", help="replace the database with a backup (stop the bot first)")
    restore.add_argument("path", type=Path, metavar="PATH", help="a file written by 'etown-bot backup'")

    evaluate = commands.add_parser("eval", help="measure the matcher on labelled questions")
    evaluate.add_argument("--cases", type=Path, required=True, metavar="FILE", help="YAML list of {q, expect}")
    evaluate.add_argument("--faq", type=Path, metavar="DIR", help="knowledge-base folder")
    evaluate.add_argument("--tune", action="store_true", help="fit the calibration and thresholds on these cases")
    evaluate.add_argument(
        "--max-oos-answered",
        type=_fraction,
        default=0.05,
        metavar="X",
        help="with --tune or --folds: the most out-of-scope questions answered, as a share (default 0.05)",
    )
    evaluate.add_argument(
        "--folds",
        type=int,
        metavar="K",
        help="k-fold cross-validation: each fold decided by what --tune fits on the others",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _err(message: str) -> None:
    print(f"etown-bot: {message}", file=sys.stderr, flush=True)


def _knowledge(config: Config, faq: Path | None) -> Knowledge:
    from bot.assistant import Knowledge

    knowledge = Knowledge(faq or config.knowledge_dir, config.matching, config.cache_dir)
    knowledge.load()
    return knowledge


def _print_issues(result: LoadResult) -> None:
    for issue in result.issues:
        print(issue, file=sys.stderr if issue.severity == "error" else sys.stdout, flush=True)


def reply_json(reply: Reply) -> dict[str, Any]:
    """The ``ask --json`` object (keys are an interface other tools rely on)."""
    from bot.render import format_text

    match = reply.match
    best = match.best
    return {
        "question": reply.question,
        "lang": reply.lang,
        "status": match.status,
        "entry_id": match.entry_id,
        "score": round(match.score, 4),
        # small talk and unclear messages: the reply text (``smalltalk.yaml``)
        "answer": format_text(reply.answer) if reply.answer is not None else reply.text,
        "best": {"entry_id": best.entry_id, "score": round(best.score, 4)} if best else None,
        "suggestions": [
            {"entry_id": s.entry_id, "question": s.question, "score": round(s.score, 4)} for s in reply.suggestions
        ],
    }


def reply_text(reply: Reply) -> str:
    from bot.render import format_text

    if reply.answer is not None:
        note = f"\n{words(reply.lang).shell.no_answer}" if reply.period_gap else ""
        return format_text(reply.answer) + note
    if reply.text is not None:
        return reply.text
    if reply.suggestions:
        lines = [words(reply.lang).shell.did_you_mean]
        lines += [f"  {n}. {s.question}  [{s.entry_id} {s.score:.2f}]" for n, s in enumerate(reply.suggestions, 1)]
        return "\n".join(lines)
    return words(reply.lang).shell.no_answer


def cmd_ask(config: Config, args: argparse.Namespace) -> int:
    from bot.assistant import Assistant
    from bot.conversation import Turn

    assistant = Assistant(_knowledge(config, args.faq))
    last: list[Turn | None] = [None]  # the conversation's last answer, with --conversation

    def answer(question: str) -> None:
        reply = assistant.resolve(question, context=last[0] if args.conversation else None)
        if reply.turn is not None:
            last[0] = reply.turn
        if args.json:
            print(json.dumps(reply_json(reply), ensure_ascii=False), flush=True)
        else:
            print(reply_text(reply), flush=True)

    if args.question is not None:
        answer(args.question)
        return EXIT_OK
    for line in sys.stdin:  # streams: one answer per line as it arrives
        if line.strip():
            answer(line.rstrip("\n"))
    return EXIT_OK


def cmd_check(config: Config, args: argparse.Namespace) -> int:
    from bot.knowledge.load import load_knowledge_base
    from bot.knowledge.model import LANGS

    directory = args.faq or config.knowledge_dir
    result = load_knowledge_base(directory)
    _print_issues(result)
    if result.kb is None:
        print(
            STAFF.cli.check_failed.format(
                errors=len(result.errors), warnings=len(result.warnings), directory=directory
            ),
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    kb = result.kb
    phrasings: Counter[tuple[str, str]] = Counter()
    entries: Counter[str] = Counter()
    facts = 0
    for entry in kb.entries.values():
        facts += entry.kind == "fact"
        if not any(entry.questions.values()):
            continue
        topic = entry.topic or "-"
        entries[topic] += 1
        for lang in LANGS:
            phrasings[(topic, lang)] += len(entry.questions.get(lang, ()))
    print(
        STAFF.cli.check_ok.format(
            directory=directory,
            entries=len(kb.entries),
            facts=facts,
            sources=len(kb.sources),
            synonyms=len(kb.synonyms),
            warnings=len(result.warnings),
        )
    )
    order = [t.id for t in kb.topics] + sorted(set(entries) - {t.id for t in kb.topics})
    topic_column, entries_column, en_column, zh_column = STAFF.cli.check_columns
    print(f"{topic_column:<14}{entries_column:>8}{en_column:>6}{zh_column:>6}")
    for topic in order:
        if entries[topic]:
            print(f"{topic:<14}{entries[topic]:>8}{phrasings[(topic, 'en')]:>6}{phrasings[(topic, 'zh')]:>6}")
    total_en = sum(v for (_, lang), v in phrasings.items() if lang == "en")
    total_zh = sum(v for (_, lang), v in phrasings.items() if lang == "zh")
    print(f"{STAFF.cli.check_total:<14}{sum(entries.values()):>8}{total_en:>6}{total_zh:>6}")
    return EXIT_OK


def _size(size: int) -> str:
    return (
        STAFF.cli.size_bytes.format(size=size) if size < 10_000 else STAFF.cli.size_mb.format(mb=size / 1e6, size=size)
    )


def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    from bot import backup  # like evaluate and the shell: imported by the command that needs it

    try:
        info = backup.backup(config.database, args.path, force=args.force)
    except backup.BackupError as exc:
        _err(str(exc))
        return EXIT_PROBLEMS
    print(STAFF.cli.backup_written.format(path=info.path, size=_size(info.size), version=info.schema_version))
    return EXIT_OK


def cmd_restore(config: Config, args: argparse.Namespace) -> int:
    from bot import backup

    try:
        done = backup.restore(config.database, args.path)
    except backup.BackupError as exc:
        _err(str(exc))
        return EXIT_PROBLEMS
    info = done.database
    print(
        STAFF.cli.restored.format(backup=args.path, path=info.path, size=_size(info.size), version=info.schema_version)
    )
    if done.previous is not None:
        print(STAFF.cli.previous_kept.format(path=done.previous))
    return EXIT_OK


async def _shell(config: Config) -> int:
    from bot.assistant import Assistant
    from bot.shell import run_shell
    from bot.storage import Store

    knowledge = _knowledge(config, None)
    store = await Store.open(config.database)
    try:
        assistant = Assistant(knowledge, store, config.limits.max_logged_chars, config.limits.max_question_chars)
        await run_shell(assistant, history=config.cache_dir / "shell_history")
    finally:
        await store.close()
    return EXIT_OK


def cmd_eval(config: Config, args: argparse.Namespace) -> int:
    from bot.matching.evaluate import (
        CasesError,
        cross_validate,
        format_report,
        load_cases,
        rank_all,
        report,
        rescored,
        synthetic_cases,
        tune,
    )

    knowledge = _knowledge(config, args.faq)
    kb = knowledge.kb
    try:
        cases = load_cases(args.cases, {e.id for e in kb.matchable()})
    except CasesError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        return EXIT_PROBLEMS
    if args.folds is not None and not 2 <= args.folds <= len(cases):
        _err(STAFF.cli.bad_folds.format(cases=len(cases)))
        return EXIT_USAGE
    ranked = rank_all(knowledge.matcher, cases)
    background = (
        rank_all(knowledge.matcher, synthetic_cases(knowledge.matcher), chat=False) if args.tune or args.folds else []
    )
    topics = {e.id: e.topic for e in kb.entries.values()}
    if args.folds is not None:
        figures = cross_validate(ranked, args.folds, args.max_oos_answered, topics, background)
    else:
        settings = tune(ranked, args.max_oos_answered, background) if args.tune else config.matching
        figures = report(rescored(ranked, settings.calibration), settings, topics)
    if args.json:
        out = {
            key: figures[key] for key in ("in_scope_accuracy", "out_of_scope_recall", "suggest_rate", "top3", "cases")
        }
        out.update({key: value for key, value in figures.items() if key not in out})
        if args.tune:
            out["tuned"] = figures["settings"]
        print(json.dumps(out, ensure_ascii=False))
        return EXIT_OK
    if args.folds is not None:
        print(STAFF.cli.cross_validation.format(folds=args.folds))
    print(format_report(figures))
    if args.tune:
        import yaml

        print(STAFF.cli.tuned)
        print(yaml.safe_dump({"matching": figures["settings"]}, sort_keys=False).rstrip())
    return EXIT_OK


def _fraction(text: str) -> float:
    """argparse type: a share between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(STAFF.cli.not_a_number.format(text=text)) from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(STAFF.cli.not_a_fraction.format(text=text))
    return value


def quiet_scheduler() -> None:
    """The JobQueue's scheduler (APScheduler) logs two INFO lines per job run: the faq/ watcher alone, every
    5 s, made about 35,000 lines a day. They show at DEBUG only; its warnings (a missed run) still show."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``etown-bot`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        _err(str(exc))
        return EXIT_USAGE
    # From here on nothing printed or logged shows the token, whatever the command (the staff tools
    # talk to Telegram too, and python-telegram-bot logs its URLs at DEBUG).
    with redact.protected_output(config):
        logging.basicConfig(
            level=getattr(logging, config.log_level), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        redact.protect_logs(config)
        quiet_scheduler()
        try:
            code = _command(config, args)
        except Exception:
            # What Python would print for an uncaught exception, and its exit code, but through the
            # redacting stderr: the interpreter prints after main returns, when the streams are back.
            traceback.print_exc()
            code = EXIT_PROBLEMS
    return code


def _command(config: Config, args: argparse.Namespace) -> int:
    from bot.storage import StoreError  # for the except clause below; the commands import the store themselves

    try:
        if getattr(args, "faq", None) is not None:
            config = replace(config, faq_dir=args.faq)
        if args.command == "ask":
            return cmd_ask(config, args)
        if args.command == "check":
            return cmd_check(config, args)
        if args.command == "run":
            from handlers.app import run  # imports python-telegram-bot only when the bot runs

            return run(config)
        if args.command == "shell":
            import asyncio  # lazy: ~40 ms (python -X importtime); the staff commands import it in dispatch

            return asyncio.run(_shell(config))
        if args.command == "eval":
            return cmd_eval(config, args)
        if args.command in kb_cli.COMMANDS:
            return kb_cli.dispatch(config, args)
        if args.command in staff_cli.COMMANDS:
            return staff_cli.dispatch(config, args)
        if args.command == "backup":
            return cmd_backup(config, args)
        if args.command == "restore":
            return cmd_restore(config, args)
        if args.command == "has-token":
            return EXIT_OK if config.telegram.token else EXIT_PROBLEMS
        raise AssertionError(args.command)
    except ConfigError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except KnowledgeBaseInvalid as exc:
        _print_issues(exc.result)
        _err(STAFF.cli.kb_invalid.format(problem=exc, command=exc.check_command))
        return EXIT_PROBLEMS
    except StoreError as exc:
        _err(str(exc))
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
