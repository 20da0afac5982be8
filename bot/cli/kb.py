"""What the bot knows, from the command line: ``etown-bot kb list|show|diff|import|export``.

``bot.cli`` wires these in with ``add_parsers(commands)`` and runs ``dispatch(config, args)`` for
``kb``. None of them needs the database or Telegram.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.exitcodes import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE

if TYPE_CHECKING:
    from bot.config import Config
    from bot.knowledge.model import Entry, KnowledgeBase, LoadResult

COMMANDS: frozenset[str] = frozenset({"kb"})


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kb = commands.add_parser("kb", help="what the knowledge base holds: list, show, diff, import, export")
    actions = kb.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="every entry: id, kind, topic, phrasings per language, headline")
    listing.add_argument("--topic", metavar="T", help="only this topic")
    listing.add_argument("--json", action="store_true", help="one JSON object per entry")
    _faq_option(listing)

    show = actions.add_parser("show", help="one entry: phrasings, answers in both languages, sources, related")
    show.add_argument("id", help="entry id")
    _faq_option(show)

    diff = actions.add_parser("diff", help="what a reload of DIR would change against the live knowledge base")
    diff.add_argument("dir", type=Path, metavar="DIR", help="the draft folder")
    _faq_option(diff, "the version to compare with (default: the live knowledge base)")

    importing = actions.add_parser("import", help="entries from a QnA Maker TSV or a question/answer CSV")
    importing.add_argument("file", type=Path, metavar="FILE", help="the .tsv or .csv file")
    importing.add_argument("--into", type=Path, metavar="DIR", required=True, help="knowledge-base folder to write to")

    export = actions.add_parser("export", help="the knowledge base as a QnA Maker style TSV")
    export.add_argument("--format", choices=["tsv"], default="tsv", help="file format (tsv)")
    export.add_argument("--output", type=Path, metavar="FILE", help="write here (default: standard output)")
    _faq_option(export)


def _faq_option(parser: argparse.ArgumentParser, help: str = "knowledge-base folder") -> None:
    parser.add_argument("--faq", type=Path, metavar="DIR", help=help)


def dispatch(config: Config, args: argparse.Namespace) -> int:
    """Run ``kb ACTION``; returns the exit code (0 ok, 1 problems, 2 usage)."""
    handlers = {"list": _list, "show": _show, "diff": _diff, "import": _import, "export": _export}
    return handlers[args.action](config, args)


def _err(message: str) -> None:
    print(f"etown-bot: {message}", file=sys.stderr, flush=True)


def _load(directory: Path) -> LoadResult:
    from bot.knowledge.load import load_knowledge_base

    return load_knowledge_base(directory)


def _valid(directory: Path) -> KnowledgeBase | None:
    """The knowledge base in ``directory``, or None with its errors printed."""
    result = _load(directory)
    if result.kb is None:
        for issue in result.errors:
            print(issue, file=sys.stderr)
        _err(f"{len(result.errors)} error(s) in {directory}; run 'etown-bot check --faq {directory}' for details")
    return result.kb


def _counts(entry: Entry) -> str:
    return " ".join(f"{lang} {len(entry.questions.get(lang, ()))}" for lang in ("en", "zh"))


def _list(config: Config, args: argparse.Namespace) -> int:
    kb = _valid(config.knowledge_dir)
    if kb is None:
        return EXIT_PROBLEMS
    topics = {t.id for t in kb.topics}
    if args.topic is not None and args.topic not in topics:
        _err(f"no topic '{args.topic}' (topics: {', '.join(t.id for t in kb.topics) or 'none'})")
        return EXIT_USAGE
    order = {t.id: t.order for t in kb.topics}
    entries = sorted(
        (e for e in kb.entries.values() if args.topic is None or e.topic == args.topic),
        key=lambda e: (order.get(e.topic or "", 10**6), e.topic or "", e.kind != "faq", e.id),
    )
    for entry in entries:
        if args.json:
            record = {
                "id": entry.id,
                "kind": entry.kind,
                "topic": entry.topic,
                "phrasings": {lang: len(entry.questions.get(lang, ())) for lang in ("en", "zh")},
                "headline": entry.headline("en"),
                "file": entry.file,
                "line": entry.line,
            }
            print(json.dumps(record, ensure_ascii=False))
        else:
            reach = _counts(entry) if any(entry.questions.values()) else "shown through {{" + entry.id + "}} only"
            print(f"{entry.id:<40} {entry.kind:<4} {entry.topic or '-':<10} {reach:<14} {entry.headline('en')}")
    if not args.json:
        print(f"{len(entries)} entries", file=sys.stderr)
    return EXIT_OK


def _show(config: Config, args: argparse.Namespace) -> int:
    from bot.render import format_text, render_answer

    kb = _valid(config.knowledge_dir)
    if kb is None:
        return EXIT_PROBLEMS
    entry = kb.entries.get(args.id)
    if entry is None:
        import difflib

        near = difflib.get_close_matches(args.id, list(kb.entries), n=3)
        _err(f"no entry '{args.id}'" + (f"; did you mean: {', '.join(near)}?" if near else ""))
        return EXIT_USAGE
    print(f"{entry.id} ({entry.kind}, topic {entry.topic or '-'}) at {entry.file}:{entry.line}")
    for lang in ("en", "zh"):
        questions = entry.questions.get(lang, ())
        print(f"\nphrasings, {lang} ({len(questions)}):")
        for question in questions:
            print(f"  - {question}")
    if entry.keywords:
        print(f"\nkeywords: {', '.join(entry.keywords)}")
    for lang in ("en", "zh"):
        if lang in entry.languages:
            print(f"\nanswer, {lang}:")
            print(format_text(render_answer(kb, entry, lang)))
    own = entry.figure.sources if entry.figure is not None else entry.sources
    if own:
        print("\nsources:")
        for source in own:
            reprint = " (reprint)" if source.reprint else ""
            print(f"  - {source.id or '(inline)'}: {source.title}, {source.published}{reprint}")
            print(f"    {source.url}")
    if entry.reviewed is not None:
        print(f"\nreviewed: {entry.reviewed.isoformat()}")
    if entry.superseded_by:
        print(f"superseded by: {entry.superseded_by}")
    if entry.related:
        print(f"\nrelated: {', '.join(entry.related)}")
    used_by = sorted(
        e.id for e in kb.entries.values() if "{{" + entry.id + "}}" in " ".join(e.answer.values()).replace(" ", "")
    )
    if used_by:
        print(f"shown in: {', '.join(used_by)}")
    return EXIT_OK


def _diff(config: Config, args: argparse.Namespace) -> int:
    from bot.knowledge.diff import compare, describe, new_issues

    base_dir = config.knowledge_dir
    draft = _load(args.dir)
    base = _load(base_dir)
    print(f"{args.dir} against {base_dir}:")
    problems = new_issues(base.issues, draft.issues)
    if draft.kb is None:
        print(f"a reload would be refused: {len(draft.errors)} error(s); the live version would stay")
        for issue in draft.errors:
            print(f"  {issue}")
        return EXIT_PROBLEMS
    diff = compare(base.kb, draft.kb)
    lines = describe(diff, limit=10**6)
    print("\n".join(f"  {line}" for line in lines) if lines else "  no entry would change")
    warnings = [issue for issue in problems if issue.severity == "warning"]
    if warnings:
        print(f"new warning(s): {len(warnings)}")
        for issue in warnings:
            print(f"  {issue}")
    return EXIT_OK


def _import(config: Config, args: argparse.Namespace) -> int:
    from bot.knowledge import interchange

    target: Path = args.into
    if target.exists() and not target.is_dir():
        _err(f"{target} is not a folder")
        return EXIT_USAGE
    existing = None
    topics: list[str] = []
    if target.is_dir() and any(target.glob("*.yaml")):
        result = _load(target)
        if result.kb is None:
            for issue in result.errors:
                print(issue, file=sys.stderr)
            _err(f"{target} has errors; fix them first (etown-bot check --faq {target})")
            return EXIT_PROBLEMS
        existing = result.kb
        topics = [t.id for t in existing.topics]
    try:
        rows = interchange.read_rows(args.file)
    except (OSError, interchange.ImportProblem) as exc:
        _err(str(exc))
        return EXIT_PROBLEMS
    imported = interchange.build(rows, existing, topics)
    for warning in imported.warnings:
        print(f"{args.file}: warning: {warning}", file=sys.stderr)
    if not imported.entries:
        _err(f"{args.file}: no row with a question and an answer")
        return EXIT_PROBLEMS
    out = target / f"{_slug(args.file.stem)}.yaml"
    if out.exists():
        _err(f"{out} exists: import into another folder, or rename the file to import")
        return EXIT_USAGE
    target.mkdir(parents=True, exist_ok=True)
    out.write_text(interchange.to_yaml(imported, args.file.name), encoding="utf-8")
    check = _load(target)
    questions = sum(len(q) for e in imported.entries for q in e.questions.values())
    print(f"wrote {out}: {len(imported.entries)} entries, {questions} phrasings from {imported.rows} rows")
    if check.kb is None:  # cannot happen for a valid folder: the import writes only what check accepts
        out.unlink()
        for issue in check.errors:
            print(issue, file=sys.stderr)
        _err(f"the imported entries do not pass check; {out} was not kept")
        return EXIT_PROBLEMS
    print(f"etown-bot check --faq {target}: 0 errors, {len(check.warnings)} warning(s)")
    return EXIT_OK


def _slug(stem: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "imported"


def _export(config: Config, args: argparse.Namespace) -> int:
    from bot.knowledge.interchange import to_tsv

    kb = _valid(config.knowledge_dir)
    if kb is None:
        return EXIT_PROBLEMS
    text = to_tsv(kb)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: {text.count(chr(10)) - 1} rows", file=sys.stderr)
    return EXIT_OK
