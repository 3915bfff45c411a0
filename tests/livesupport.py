"""Real components for end-to-end tests: a local SMTP server, a migrated database of its own, and
the app served by gunicorn."""
from __future__ import annotations

import email
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages: list[Message] = []

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, to: str, timeout: float = 10.0) -> Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.messages):
                if to.lower() in message["To"].lower():
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no mail to {to} within {timeout}s; got {[m['To'] for m in self.messages]}")


class SMTPServer:
    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def body_of(message: Message) -> str:
    if message.is_multipart():
        return "".join(part.get_payload(decode=True).decode() for part in message.walk() if not part.is_multipart())
    return message.get_payload(decode=True).decode()


class LiveServer:
    """``gunicorn wsgi:app`` on a free port, configured through environment variables only."""

    def __init__(self, database_url: str, instance_path: Path, workers: int = 2, extra_env: dict | None = None,
                 migrate_url: str | None = None, target: str = "wsgi:app", ready_path: str = "/readyz"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "RAPPORT_DATABASE_URL": database_url,
            "RAPPORT_MIGRATE_DATABASE_URL": migrate_url or database_url,
            "RAPPORT_INSTANCE_PATH": str(instance_path),
            "RAPPORT_SECRET_KEY": uuid.uuid4().hex * 2,
            "RAPPORT_BASE_URL": self.url,
            **(extra_env or {}),
        }
        self.workers = workers
        self.target, self.ready_path = target, ready_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "LiveServer":
        log = open(Path(self.env["RAPPORT_INSTANCE_PATH"]) / "gunicorn.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
             "--graceful-timeout", "2", self.target],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not become ready; see {self.env['RAPPORT_INSTANCE_PATH']}/gunicorn.log")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
