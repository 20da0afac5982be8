"""The real ``etown-bot run`` process on a private copy of the mini knowledge base, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from shutil import copytree

from tests.botapi_server import DEFAULT_SUPERGROUP_ID, DEFAULT_TOKEN, FakeBotAPI

MINI_KB = Path(__file__).parent / "data" / "mini_kb"
ADMIN = 6900
STAFF = DEFAULT_SUPERGROUP_ID
TIMEOUT = 30.0


def spawn_bot(config: Path, cwd: Path, base_url: str, log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``etown-bot run`` with the test token against ``base_url``; its output goes to ``log_path``."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_BASE_URL": base_url,
        "PYTHONUNBUFFERED": "1",
    }
    with log_path.open("w", encoding="utf-8") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


class Bot:
    """Starts and stops the real bot process on one config."""

    def __init__(self, api: FakeBotAPI, tmp_path: Path) -> None:
        self.api = api
        self.tmp_path = tmp_path
        self.faq = tmp_path / "faq"
        copytree(MINI_KB, self.faq)
        self.database = tmp_path / "log.sqlite3"
        self.config = tmp_path / "config.yaml"
        self.config.write_text(
            f"database: {self.database}\nfaq_dir: {self.faq}\nstaff:\n  admins: [{ADMIN}]\n  chat_id: {STAFF}\n",
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []

    def start(self) -> None:
        log = self.tmp_path / f"bot-{len(self.logs)}.log"
        self.logs.append(log)
        mark = self.api.mark()
        self.process = spawn_bot(self.config, self.tmp_path, self.api.base_url, log)
        self.api.wait_for("getUpdates", timeout=TIMEOUT, since=mark)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=TIMEOUT)
        self.process = None
        return code

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (for the webhook server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post_update(url: str, body: dict[str, object], secret: str | None) -> int:
    """POST an update to the bot's webhook as Telegram does; returns the HTTP status."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def post_first_update(url: str, body: dict[str, object], secret: str | None, timeout: float = TIMEOUT) -> int:
    """``post_update``, waiting for the webhook server to listen (it starts around setWebhook)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return post_update(url, body, secret)
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
