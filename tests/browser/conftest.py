"""Browser tests: Playwright drives Debian's chromium against gunicorn serving the app on a database
of its own. They skip when no chromium is configured, and CI forces them on."""
from __future__ import annotations

import os
import shutil
import uuid

import pytest

from rapport.migrate import upgrade
from tests.conftest import create_postgres_database, drop_postgres_database, postgres_server_url
from tests.livesupport import LiveServer, SMTPServer

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    path = os.environ.get("RAPPORT_TEST_CHROMIUM") or shutil.which("chromium")
    if path:
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI requires chromium for the browser tests (apt-get install chromium)")
    return None


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if not path:
        pytest.skip("no chromium: set RAPPORT_TEST_CHROMIUM or apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, smtp):
    """gunicorn with two workers on a fresh database (PostgreSQL when configured, else SQLite)."""
    instance = tmp_path_factory.mktemp("live-instance")
    server_url = postgres_server_url()
    name = f"rapport_live_{uuid.uuid4().hex[:8]}"
    if server_url:
        owner_url, app_url = create_postgres_database(server_url, name)
    else:
        owner_url = app_url = f"sqlite:///{instance / 'live.db'}"
        upgrade(owner_url)
    server = LiveServer(app_url, instance, migrate_url=owner_url, extra_env={
        "RAPPORT_MAIL_SERVER": "127.0.0.1", "RAPPORT_MAIL_PORT": str(smtp.port),
    }).start()
    yield server
    server.stop()
    if server_url:
        drop_postgres_database(server_url, name)


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
