"""Background work on Huey: mail and its retries, lead processing, scheduled jobs.

One Huey instance for the process. :func:`init_app` picks its storage from the configuration:
Redis when ``RAPPORT_REDIS_URL`` is set (several web workers and consumers share it), else an SQLite
file in the instance folder (the embedded default), or none at all with ``TASKS_IMMEDIATE`` (tests,
scripts: a task runs inside the call that enqueues it). ``rapport tasks worker`` runs the consumer
and its scheduler; ``make run`` starts it beside the web server.

Declare a job with :func:`task` or :func:`periodic_task`: the job runs inside an app context, and a
job whose first argument is a tenant id runs with that tenant active (``tenant_task``).
"""
from __future__ import annotations

import functools
import logging
import uuid
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import Huey, crontab  # noqa: F401  (crontab re-exported for periodic tasks)
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from . import tenancy

QUEUE_NAME = "rapport"
log = logging.getLogger(__name__)

huey = Huey(QUEUE_NAME, results=False, storage_class=MemoryStorage, utc=True)
_app: Flask | None = None


def init_app(app: Flask) -> None:
    """Point the queue at this app's storage; jobs run in this app's context."""
    global _app
    _app = app
    if app.config.get("TASKS_IMMEDIATE"):
        huey._immediate = True
        huey.storage = MemoryStorage(QUEUE_NAME)
    elif app.config.get("REDIS_URL"):
        huey._immediate = False
        huey.storage = RedisStorage(QUEUE_NAME, url=app.config["REDIS_URL"])
    else:
        huey._immediate = False
        huey.storage = SqliteStorage(QUEUE_NAME, filename=str(Path(app.instance_path) / "tasks.db"))
    app.extensions["rapport.tasks"] = huey


def _in_app_context(func):
    @functools.wraps(func)
    def run(*args, **kwargs):
        if has_app_context():  # immediate mode, inside the request or command that enqueued it
            return _rolling_back(func, *args, **kwargs)
        if _app is None:
            raise RuntimeError("rapport.tasks.init_app was not called")
        with _app.app_context():
            return _rolling_back(func, *args, **kwargs)

    return run


def _rolling_back(func, *args, **kwargs):
    # A failed job must not leave its transaction open for whatever runs next on this session.
    from .db import db

    try:
        return func(*args, **kwargs)
    except Exception:
        db.session.rollback()
        raise


def task(**options):
    """A background job (Huey's ``task`` options: ``retries``, ``retry_delay``, ...)."""

    def decorator(func):
        # Huey names a job "<module>.<name>": the wrapper keeps the function's module (functools.wraps).
        return huey.task(name=func.__name__, **options)(_in_app_context(func))

    return decorator


def tenant_task(**options):
    """A background job of one tenant: its first argument is the tenant id (a string, so that it
    serialises plainly), and it runs with that tenant active."""

    def decorator(func):
        @functools.wraps(func)
        def scoped(tenant_id: str, *args, **kwargs):
            with tenancy.tenant_scope(uuid.UUID(str(tenant_id))):
                return func(tenant_id, *args, **kwargs)

        return task(**options)(scoped)

    return decorator


def periodic_task(schedule, **options):
    """A job the consumer's scheduler runs on ``schedule`` (a ``crontab``)."""

    def decorator(func):
        wrapped = _in_app_context(func)
        return huey.periodic_task(schedule, name=func.__name__, **options)(wrapped)

    return decorator


def enqueue(job, *args, **kwargs) -> bool:
    """Queue ``job``; answer whether the queue took it. A caller that has already stored its work
    durably (a submission, a pending mail) relies on a periodic sweep when the queue is down."""
    try:
        job(*args, **kwargs)
        return True
    except Exception:  # the queue's storage is unreachable, or an immediate job failed
        log.exception("could not run or queue %s", getattr(job, "name", job))
        return False


def run_worker(workers: int = 2) -> None:
    """The consumer with its scheduler, in this process (``rapport tasks worker``)."""
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                    check_worker_health=True)
    consumer.run()


def current_queue() -> Huey:
    return current_app.extensions["rapport.tasks"]
