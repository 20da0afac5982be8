"""README.md's commands work as printed, in a fresh shell (no venv activated, ``.venv/bin`` not on PATH)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# Programs a reader might type; the first word of a line or `span` that is one of these is a command.
PROGRAMS = {"etown-bot", "python", "python3", "pytest", "pip", "ruff", "mypy", "make", "litestream", "sudo"}
PROGRAMS |= {"systemctl", "crontab", "cd", "find", "export", ".", "source"}
# What works in a fresh shell from the repository root: make (which builds .venv), the venv's own
# programs by path, activating the venv, and tools that are not ours (installed system-wide).
FRESH_SHELL_OK = {"make", "cd", "find", "litestream", "systemctl", "crontab", "export"}
CRON = re.compile(r"^(?:[0-9*/,-]+\s+){5}(?P<command>.+)$")
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=\S*$")
# A template, not a command to run as printed: <command>, [--page N], ID, FILE, YYYY-MM-DD, ...
PLACEHOLDER = re.compile(r"<[a-z]+>|\[|\b(?:ID|N|FILE|PATH|DIR|YYYY-MM-DD)\b|FILE\.png")


def readme_parts(text: str) -> tuple[list[str], str]:
    """The code blocks' lines (indented or fenced) and the prose (everything else)."""
    code: list[str] = []
    prose: list[str] = []
    fenced = indented = False
    previous_blank = True
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced:
            code.append(line)
        elif line.startswith("    ") and (indented or previous_blank):
            indented = True
            code.append(line[4:])
        elif not line.strip():
            prose.append(line)
        else:
            indented = False
            prose.append(line)
        previous_blank = not line.strip()
    return code, "\n".join(prose)


def _words(command: str) -> list[str]:
    words = command.split()
    while words and ASSIGNMENT.match(words[0]):
        words = words[1:]  # VAR=value before a command
    return words


def _is_command(words: list[str]) -> bool:
    return bool(words) and (words[0] in PROGRAMS or words[0].startswith((".venv/", "./")))


def block_commands(code: list[str]) -> list[str]:
    """Shell commands in code blocks: lines starting with a program (a cron line's command part),
    split at ``&&``, without trailing comments."""
    commands = []
    for raw in code:
        line = re.sub(r"\s+#.*$", "", raw).strip()
        cron = CRON.match(line)
        if cron:
            line = cron["command"]
        for part in line.split("&&"):
            if _is_command(_words(part)):
                commands.append(part.strip())
    return commands


def inline_commands(prose: str) -> list[str]:
    """`Spans` in the prose that are commands with arguments (a lone `etown-bot` is the program's name)."""
    spans = re.findall(r"`([^`]+)`", prose)
    return [" ".join(s.split()) for s in spans if len(_words(s)) >= 2 and _is_command(_words(s))]


def works_in_a_fresh_shell(command: str) -> bool:
    words = _words(command)
    if words[0] == "sudo":
        words = words[1:]
    program = words[0]
    if program in {".", "source"}:
        return words[1:] == [".venv/bin/activate"]
    if program.startswith(".venv/bin/"):
        return (ROOT / program).is_file()  # and it is one the venv really has
    return program in FRESH_SHELL_OK


def test_the_parser_finds_what_a_reader_would_type() -> None:
    sample = (
        "Intro `make run` and `etown-bot` and `TOKEN=1 etown-bot run` and `telegram.token`.\n\n"
        "    etown-bot check      # validate\n"
        "    15 3 * * * cd /srv && python -m bot backup x\n"
        "    telegram:\n"
        "      token: abc\n"
        "\nMore prose.\n"
    )
    code, prose = readme_parts(sample)
    assert block_commands(code) == ["etown-bot check", "cd /srv", "python -m bot backup x"]
    assert inline_commands(prose) == ["make run", "TOKEN=1 etown-bot run"]
    assert not works_in_a_fresh_shell("etown-bot run")
    assert not works_in_a_fresh_shell("python -m pytest")
    assert not works_in_a_fresh_shell(".venv/bin/no-such-program run")
    assert works_in_a_fresh_shell("TOKEN=1 .venv/bin/etown-bot run")
    assert works_in_a_fresh_shell(". .venv/bin/activate") and works_in_a_fresh_shell("make test")


def test_every_command_shown_works_in_a_fresh_shell() -> None:
    code, prose = readme_parts(README.read_text(encoding="utf-8"))
    commands = block_commands(code) + inline_commands(prose)
    assert len(commands) > 20  # the README's commands were found
    assert any(c.startswith(".venv/bin/etown-bot run") for c in commands)
    wrong = [c for c in commands if not works_in_a_fresh_shell(c)]
    assert wrong == [], "not runnable as printed (etown-bot is not on PATH until the venv is activated)"


# How the README's runnable commands end in a scratch copy of the repository root with no token and no
# database yet: the bot refuses to start without a token, a restore of a file that is not there says so.
EXPECTED_FAILURES = {
    ".venv/bin/etown-bot run": (2, "no Telegram token"),
    ".venv/bin/etown-bot restore": (1, "no such file"),
}


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "etown-bot").exists(), reason="needs the venv (make test)")
def test_the_readme_commands_run_as_printed(tmp_path: Path) -> None:
    """Every ``.venv/bin/etown-bot`` line of a code block without placeholders, through ``bash -c`` with a
    clean environment, in README order. The scratch root has the real ``.venv`` and ``tests`` (so
    relative paths are the repository's) but its own ``data/``, so the shared tree is not written to."""
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    (tmp_path / "questions.txt").write_text("how many biotech companies in BDA?\n", encoding="utf-8")
    (tmp_path / "turns.txt").write_text("how many biotech companies in BDA?\nand in 2023?\n", encoding="utf-8")
    code, _ = readme_parts(README.read_text(encoding="utf-8"))
    runnable = [c for c in block_commands(code) if c.startswith(".venv/bin/etown-bot ") and not PLACEHOLDER.search(c)]
    assert len(runnable) >= 8
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    problems = []
    for command in runnable:
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        expected = next(
            (v for prefix, v in EXPECTED_FAILURES.items() if shlex.split(command)[:2] == shlex.split(prefix)[:2]),
            (0, ""),
        )
        if result.returncode != expected[0] or expected[1] not in result.stderr:
            problems.append(f"{command}: exit {result.returncode}: {result.stderr.strip()[-300:]}")
    assert problems == []
