"""The command line as users and scripts call it (in process via main(), and once as a real process)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import MINI_KB

ASK_KEYS = {"question", "lang", "status", "entry_id", "score", "answer", "best", "suggestions"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _no_local_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)


def test_ask_json_interface(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ask", "--faq", str(MINI_KB), "--json", "how many biotech companies in BDA?")
    assert code == 0
    data = json.loads(out)
    assert set(data) == ASK_KEYS
    assert data["status"] == "answered"
    assert data["entry_id"] == "companies"
    assert data["best"] == {"entry_id": "companies", "score": data["score"]}
    assert "more than 5,000" in data["answer"]
    assert data["lang"] == "en"


def test_ask_unanswered_json(capsys: pytest.CaptureFixture[str]) -> None:
    _code, out, _ = run(capsys, "ask", "--faq", str(MINI_KB), "--json", "weather forecast for paris tomorrow")
    data = json.loads(out)
    assert (data["status"], data["entry_id"], data["answer"], data["suggestions"]) == ("unanswered", None, None, [])


@pytest.mark.parametrize(("message", "status"), [("hello!", "smalltalk"), ("谢谢", "smalltalk"), ("???", "unclear")])
def test_ask_json_small_talk_and_unclear(capsys: pytest.CaptureFixture[str], message: str, status: str) -> None:
    # issue 15: the two statuses, with the reply text in "answer" and every other key as for a question
    _code, out, _ = run(capsys, "ask", "--json", message)
    data = json.loads(out)
    assert set(data) == ASK_KEYS
    assert (data["status"], data["entry_id"], data["score"], data["best"], data["suggestions"]) == (
        status,
        None,
        0.0,
        None,
        [],
    )
    assert isinstance(data["answer"], str) and data["answer"]


def test_ask_json_traditional_question(capsys: pytest.CaptureFixture[str]) -> None:
    _code, out, _ = run(capsys, "ask", "--faq", str(MINI_KB), "--json", "亦莊有多少家生物醫藥企業？")
    data = json.loads(out)
    assert (data["lang"], data["status"], data["entry_id"]) == ("zh-Hant", "answered", "companies")
    assert "超過5000家企業" in data["answer"]


def test_ask_text_small_talk(capsys: pytest.CaptureFixture[str]) -> None:
    _code, out, _ = run(capsys, "ask", "good morning")
    assert out.startswith("Hello! I answer questions about Beijing E-Town")


def test_ask_streams_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("亦庄有多少生物企业\n\nsupport policy list\n"))
    code, out, _ = run(capsys, "ask", "--faq", str(MINI_KB), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 2
    assert lines[0]["lang"] == "zh"
    assert all(set(line) == ASK_KEYS for line in lines)


def test_global_config_option_before_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "strict.yaml"
    config.write_text(f"faq_dir: {MINI_KB}\nmatching: {{answer_threshold: 1.0, suggest_threshold: 1.0}}\n")
    code, out, _ = run(capsys, "--config", str(config), "ask", "--json", "how many biotech companies in BDA?")
    assert code == 0
    assert json.loads(out)["status"] == "unanswered"


def test_bad_config_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("matching: {margin: lots}\n")
    code, _out, err = run(capsys, "--config", str(config), "check")
    assert code == 2
    assert err.strip().count("\n") == 0 and "matching.margin" in err


def test_check_ok_prints_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--faq", str(MINI_KB))
    assert code == 0
    assert "OK" in out and "overview" in out and "total" in out


def test_check_reports_errors_exit_1(capsys: pytest.CaptureFixture[str], kb_copy: Path) -> None:
    (kb_copy / "bad.yaml").write_text("- id: x\n  questions: {en: [a b c]}\n")
    code, _, err = run(capsys, "check", "--faq", str(kb_copy))
    assert code == 1
    assert "faq/bad.yaml:1: x: missing field 'answer'" in err
    assert "Traceback" not in err


def test_ask_with_broken_kb_fails_cleanly(capsys: pytest.CaptureFixture[str], kb_copy: Path) -> None:
    (kb_copy / "bad.yaml").write_text("- id: [unclosed\n")
    code, _, err = run(capsys, "ask", "--faq", str(kb_copy), "hello")
    assert code == 1
    assert "YAML syntax error" in err and "Traceback" not in err


def test_eval_json_and_tune(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- {q: 'how many biotech firms in bda', expect: companies}\n"
        "- {q: 'bda support policies list', expect: policy-list}\n"
        "- {q: 'weather in paris tomorrow', expect: null}\n"
    )
    code, out, _ = run(capsys, "eval", "--cases", str(cases), "--faq", str(MINI_KB), "--tune", "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("in_scope_accuracy", "out_of_scope_recall", "suggest_rate", "top3", "cases", "tuned"):
        assert key in data
    assert data["cases"] == 3
    assert set(data["tuned"]) == {"answer_threshold", "suggest_threshold", "margin", "calibration"}
    assert data["in_scope_accuracy"] == 1.0 and data["out_of_scope_recall"] == 1.0


def test_eval_unknown_expected_id(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("- {q: x, expect: no-such-entry}\n")
    code, _, err = run(capsys, "eval", "--cases", str(cases), "--faq", str(MINI_KB))
    assert code == 1 and "no-such-entry" in err


def test_shell_logs_to_database(tmp_path: Path) -> None:
    """The real console script, as `make run` starts it without a token."""
    config = tmp_path / "config.yaml"
    config.write_text(
        f"faq_dir: {MINI_KB}\ndatabase: {tmp_path / 'db' / 'log.sqlite3'}\n"
        "matching: {answer_threshold: 0.5, suggest_threshold: 0.45, margin: 0.05}\n"
    )
    stdin = "how many biotech companies in BDA?\nwhat are office rents\n/topics\n1\n1\n/lang zh\n/bogus\n/quit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "shell"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "more than 5,000 companies" in out
    assert "nobody can reply in the console" in out  # queued, and honest about who will answer (issue 17)
    assert "Overview" in out  # topics listed
    assert "语言已切换为简体中文" in out
    assert "未知命令" in out
    import sqlite3

    with sqlite3.connect(tmp_path / "db" / "log.sqlite3") as db:
        statuses = [row[0] for row in db.execute("SELECT status FROM questions ORDER BY id")]
        queued = db.execute("SELECT text, user_id, chat_id FROM unanswered").fetchall()
    assert statuses == ["answered", "unanswered"]
    assert queued == [("what are office rents", None, 0)]  # the console chat, not a forgotten investor


def test_staff_commands_are_wired_in(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {tmp_path / 'log.sqlite3'}\n", encoding="utf-8")
    code, out, _ = run(capsys, "--config", str(config), "unanswered", "list")
    assert code == 0 and "No open questions" in out
    code, out, _ = run(capsys, "--config", str(config), "stats", "--json")
    assert code == 0 and json.loads(out)["open_items"] == 0


# --- secrets: no command prints the token (real processes, DEBUG logging, the stand-in Bot API)

SECRET_TOKEN = "5555555555:AASecretCliToken_abcdefghijklmnopqrstuv"
SECRET = SECRET_TOKEN.partition(":")[2]  # what must never appear (the part before ':' is the public bot id)
INVESTOR = 4242
STAFF_CHAT = -1_001_000_000_777


def _queue_item(database: Path) -> int:
    import asyncio

    from bot.storage import Store

    async def go() -> int:
        store = await Store.open(database)
        try:
            qid = await store.log_question(
                user_id=INVESTOR,
                chat_id=INVESTOR,
                lang="en",
                text="rents?",
                status="unanswered",
                entry_id=None,
                score=0,
            )
            return await store.add_unanswered(
                question_id=qid, user_id=INVESTOR, chat_id=INVESTOR, lang="en", text="rents?"
            )
        finally:
            await store.close()

    return asyncio.run(go())


def _etown(tmp_path: Path, base_url: str, *argv: str, token: str = SECRET_TOKEN) -> tuple[int, str]:
    """The real console script with DEBUG logging; returns the exit code and stdout + stderr."""
    import os

    config = tmp_path / "config.yaml"
    config.write_text(
        f"database: {tmp_path / 'log.sqlite3'}\nfaq_dir: {MINI_KB}\nlog_level: DEBUG\n"
        f"staff: {{admins: [1], chat_id: {STAFF_CHAT}}}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": base_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), *argv],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:  # a bot that got through after all: stopped, and its output scanned too
        process.terminate()
        out, err = process.communicate(timeout=30)
    return process.returncode, out + err


def test_no_command_prints_the_token(tmp_path: Path) -> None:
    """Every command that talks to Telegram, on success and on each kind of failure, at DEBUG."""
    from tests.botapi_server import FakeBotAPI

    database = tmp_path / "log.sqlite3"
    leaks: list[str] = []
    outputs: dict[str, tuple[int, str]] = {}

    def check(name: str, code: int, output: str, secret: str = SECRET) -> None:
        outputs[name] = (code, output)
        # In any case: python-telegram-bot lower-cases most of an error description.
        if secret.lower() in output.lower():
            line = next(line for line in output.splitlines() if secret.lower() in line.lower())
            leaks.append(f"{name}: {line[:300]}")

    with FakeBotAPI(expected_token=SECRET_TOKEN) as api:
        quoting = f"the server quotes the URL {api.base_url}{SECRET_TOKEN}/sendMessage"
        # Delivered; the staff-chat confirmation is refused with a message quoting the token.
        api.block_chat(STAFF_CHAT, description=f"Forbidden: {quoting}")
        item = _queue_item(database)
        check("answer, delivered", *_etown(tmp_path, api.base_url, "unanswered", "answer", str(item), "Hello"))
        api.unblock_chat(STAFF_CHAT)
        # Refused with such a message: printed, stored as the delivery error, shown by `show`.
        item = _queue_item(database)
        api.fail_next("sendMessage", status=400, description=f"Bad Request: {quoting}")
        check("answer, refused", *_etown(tmp_path, api.base_url, "unanswered", "answer", str(item), "Hello"))
        check("show", *_etown(tmp_path, api.base_url, "unanswered", "show", str(item)))
        api.fail_next("getMe", status=500, description=f"Internal Server Error: {quoting}")
        check("answer, server error", *_etown(tmp_path, api.base_url, "unanswered", "answer", str(item), "Hello"))
        api.drop_next("sendMessage")
        check("answer, dropped", *_etown(tmp_path, api.base_url, "unanswered", "answer", str(item), "Hello"))
        wrong = SECRET_TOKEN[:-1] + "X"  # refused (401): that token must not show either
        code, output = _etown(tmp_path, api.base_url, "unanswered", "answer", str(item), "Hello", token=wrong)
        check("answer, token refused", code, output, secret=wrong.partition(":")[2])
        # Every time: the bot's requests retry a 5xx.
        api.fail_next("getMe", status=500, times=1000, description=f"Internal Server Error: {quoting}")
        check("run, server error", *_etown(tmp_path, api.base_url, "run"))
        base_url = api.base_url
    # Stopped: connections are refused.
    check("answer, unreachable", *_etown(tmp_path, base_url, "unanswered", "answer", str(item), "Hello"))
    check("run, unreachable", *_etown(tmp_path, base_url, "run"))

    assert leaks == []
    # The commands did run as intended (the scan is not vacuous).
    assert outputs["answer, delivered"][0] == 0 and "marked answered" in outputs["answer, delivered"][1]
    assert "could not confirm in the staff chat" in outputs["answer, delivered"][1]
    assert "DEBUG" in outputs["answer, delivered"][1] and "<redacted>" in outputs["answer, delivered"][1]
    assert outputs["answer, refused"][0] == 1 and "Telegram refused the reply" in outputs["answer, refused"][1]
    assert "Last reply not delivered" in outputs["show"][1] and "<redacted>" in outputs["show"][1]
    for name in ("answer, server error", "answer, dropped", "answer, unreachable", "run, unreachable"):
        assert outputs[name][0] == 1, (name, outputs[name][1][-2000:])
    assert outputs["answer, token refused"][0] == 2
    assert outputs["run, server error"][0] == 1


def test_an_unexpected_error_is_printed_without_the_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import staff as staff_cli

    def broken(*_args: object) -> int:
        raise RuntimeError(f"unexpected: https://api.telegram.org/bot{SECRET_TOKEN}/getMe")

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", SECRET_TOKEN)
    monkeypatch.setattr(staff_cli, "dispatch", broken)
    code, out, err = run(capsys, "stats")
    # What Python prints for an uncaught exception (and its exit code 1), with the token redacted.
    assert (
        code == 1 and "Traceback" in err and "RuntimeError: unexpected: https://api.telegram.org/bot<redacted>" in err
    )
    assert SECRET.lower() not in (out + err).lower()
