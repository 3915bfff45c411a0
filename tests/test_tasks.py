"""The background queue: jobs run by a real Huey consumer from SQLite (the embedded default) or
Redis storage, inline in immediate mode, and mail that fails is retried rather than lost."""
from __future__ import annotations

import time

import pytest
import redis

from rapport import mail, tasks
from tests.conftest import make_test_app
from tests.livesupport import SMTPServer, body_of, free_port


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


def _queued_app(database, tmp_path, **config):
    return make_test_app(database, tmp_path / "queued", TASKS_IMMEDIATE=False, **config)


def _run_consumer_until(predicate, timeout: float = 15.0) -> None:
    """Run a real consumer (two worker threads, no scheduler) until ``predicate()`` holds."""
    consumer = tasks.huey.create_consumer(workers=2, worker_type="thread", periodic=False)
    consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "the consumer did not finish the job in time"
            time.sleep(0.05)
    finally:
        consumer.stop(graceful=True)


def test_immediate_mode_delivers_inside_the_call(app, smtp):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    assert mail.queue("ada@example.test", "Hello", "Body 你好") is True
    assert "Body 你好" in body_of(smtp.inbox.wait_for("ada@example.test", timeout=2))


def test_a_consumer_runs_jobs_queued_in_sqlite(database, tmp_path, smtp):
    app = _queued_app(database, tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    assert type(tasks.huey.storage).__name__ == "SqliteStorage"
    with app.app_context():
        mail.queue("bo@example.test", "Queued", "from sqlite")
    assert smtp.inbox.messages == []  # stored, not sent, until a worker takes it
    assert len(tasks.huey) == 1
    _run_consumer_until(lambda: smtp.inbox.messages)
    assert smtp.inbox.wait_for("bo@example.test")["Subject"] == "Queued"
    assert len(tasks.huey) == 0


def test_a_consumer_runs_jobs_queued_in_redis(database, tmp_path, smtp, redis_url):
    redis.Redis.from_url(redis_url).flushdb()
    app = _queued_app(database, tmp_path, REDIS_URL=redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    assert type(tasks.huey.storage).__name__ == "RedisStorage"
    with app.app_context():
        mail.queue("cy@example.test", "Queued", "from redis")
    assert len(tasks.huey) == 1
    _run_consumer_until(lambda: smtp.inbox.messages)
    assert "from redis" in body_of(smtp.inbox.wait_for("cy@example.test"))


def test_mail_that_fails_is_scheduled_again_and_delivered_later(app):
    down = free_port()  # nothing listens here
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=down)
    mail.queue("di@example.test", "Retry me", "later")
    scheduled = tasks.huey.scheduled()
    assert [t.name for t in scheduled] == [mail.deliver.name]
    assert scheduled[0].retries == mail.MAIL_RETRIES - 1
    with SMTPServer() as smtp:
        app.config.update(MAIL_PORT=smtp.port)
        tasks.huey.execute(scheduled[0], timestamp=scheduled[0].eta)
        assert smtp.inbox.wait_for("di@example.test")["Subject"] == "Retry me"


def test_the_worker_command_is_registered(runner):
    result = runner.invoke(args=["tasks", "--help"])
    assert result.exit_code == 0 and "worker" in result.output


@pytest.mark.parametrize("args, expected", [([], 19), (["--nice", "0"], None), (["--nice", "10"], 10)])
def test_the_worker_lowers_its_cpu_priority_below_the_web_workers(runner, monkeypatch, args, expected):
    calls, started = [], []
    monkeypatch.setattr("os.nice", lambda n: calls.append(n) or 0)
    monkeypatch.setattr(tasks, "run_worker", lambda workers: started.append(workers))
    result = runner.invoke(args=["tasks", "worker", "--workers", "3", *args])
    assert result.exit_code == 0, result.output
    assert started == [3]
    assert [n for n in calls if n] == ([expected] if expected else [])


def test_the_worker_refuses_a_priority_out_of_range(runner):
    result = runner.invoke(args=["tasks", "worker", "--nice", "25"])
    assert result.exit_code != 0 and "--nice" in result.output
