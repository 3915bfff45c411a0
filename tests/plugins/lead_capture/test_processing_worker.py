"""A real Huey consumer (``rapport tasks worker`` in its own process) takes a queued submission from
the queue's storage (SQLite in the instance folder, or Redis), makes the lead and mails the owner.

The test owns its database (committed rows, seen by another process), so it does not use the
rolled-back ``app`` fixture."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from plugins.lead_capture import assignment, processing
from plugins.lead_capture.models import LeadForm, Submission
from rapport import tasks, tenancy
from rapport.db import db, utcnow
from rapport.migrate import upgrade
from rapport.models import Lead
from tests.conftest import PASSWORD, create_postgres_database, drop_postgres_database, make_test_app, postgres_server_url
from tests.livesupport import ROOT, SMTPServer, body_of

RAPPORT = Path(sys.executable).with_name("rapport")


@pytest.fixture
def own_database(database, tmp_path):
    """A migrated database of this test's own, on the suite's engine (SQLite or PostgreSQL)."""
    if database["dialect"] == "postgresql":
        server, name = postgres_server_url(), f"rapport_worker_{uuid.uuid4().hex[:8]}"
        owner, app_url = create_postgres_database(server, name)
        yield {"url": app_url, "owner_url": owner, "dialect": "postgresql"}
        drop_postgres_database(server, name)
    else:
        url = f"sqlite:///{tmp_path / 'worker.db'}"
        upgrade(url)
        yield {"url": url, "owner_url": url, "dialect": "sqlite"}


def seed(agents: int = 1, emails=("queued@example.com",)) -> tuple:
    """A tenant with the plugin on, ``agents`` agents in a round-robin form, and one stored submission
    per email: ``(tenant, members, submissions)``."""
    from rapport.models import Membership, Role, User
    from rapport.plugin_host import current_host, set_plugin_enabled
    from rapport.provisioning import create_tenant
    from rapport.security import hash_password

    tenant = create_tenant("queued", "Queued Ltd", "owner@queued.test", PASSWORD)
    db.session.commit()
    with tenancy.tenant_scope(tenant.id):
        set_plugin_enabled(current_host(), tenant, "lead_capture", True)
        role = db.session.scalar(select(Role).where(Role.key == "agent"))
        members = []
        for i in range(agents):
            user = User(email=f"agent{i}@queued.test", password_hash=hash_password(PASSWORD))
            db.session.add(user)
            db.session.flush()
            members.append(Membership(user_id=user.id, role_id=role.id, status="active"))
            db.session.add(members[-1])
        db.session.flush()
        form = LeadForm(slug="demo", name="Demo request", fields=[{"key": "email", "label": None, "required": True}],
                        published=True, assignment_mode="round_robin", assignees=[str(m.id) for m in members])
        db.session.add(form)
        db.session.flush()
        submissions = [Submission(form_id=form.id, dedupe_key=f"k{i}", status="received",
                                  data={"name": f"Visitor {i}", "email": email}) for i, email in enumerate(emails)]
        db.session.add_all(submissions)
        db.session.commit()
    return tenant, members, submissions


def wait_until_all_notified(tenant, deadline: float) -> list[Submission]:
    while True:
        with tenancy.tenant_scope(tenant.id):
            db.session.rollback()  # a new transaction sees the worker's commits
            rows = list(db.session.scalars(select(Submission).execution_options(populate_existing=True)))
        if all(r.status == "processed" and r.notified_at is not None for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"not done: {[(r.status, r.notified_at) for r in rows]}")
        time.sleep(0.2)


def start_worker(database_url: str, instance: Path, smtp_port: int, redis: str | None, workers: int) -> subprocess.Popen:
    env = {**os.environ, "RAPPORT_DATABASE_URL": database_url, "RAPPORT_INSTANCE_PATH": str(instance),
           "RAPPORT_SECRET_KEY": uuid.uuid4().hex * 2, "RAPPORT_MAIL_SERVER": "127.0.0.1",
           "RAPPORT_MAIL_PORT": str(smtp_port), "RAPPORT_TASKS_IMMEDIATE": "0"}
    env.pop("RAPPORT_REDIS_URL", None)
    if redis:
        env["RAPPORT_REDIS_URL"] = redis
    log = open(instance / "worker.log", "ab")
    return subprocess.Popen([str(RAPPORT), "tasks", "worker", "--workers", str(workers)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


@contextlib.contextmanager
def worker_app(own_database, tmp_path, redis: str | None, workers: int):
    """The test's app (queueing, not running jobs) and a worker process on the same storage."""
    instance = tmp_path / "instance"
    with SMTPServer() as smtp:
        app = make_test_app(own_database, instance, TASKS_IMMEDIATE=False, REDIS_URL=redis,
                            MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
        worker = None
        try:
            with app.app_context():
                def start():
                    nonlocal worker
                    worker = start_worker(own_database["url"], instance, smtp.port, redis, workers)
                yield smtp, start
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=20)
            db.session.remove()
            db.engine.dispose()


def enqueue_all(tenant, submissions) -> None:
    with tenancy.tenant_scope(tenant.id):
        for submission in submissions:
            assert tasks.enqueue(processing.process_submission, str(tenant.id), str(submission.id))
        db.session.rollback()
        assert {s.status for s in db.session.scalars(select(Submission))} == {"received"}  # queued, not run


def run_through_worker(own_database, tmp_path, redis: str | None = None):
    with worker_app(own_database, tmp_path, redis, workers=2) as (smtp, start_worker_process):
        tenant, [member], [submission] = seed()
        enqueue_all(tenant, [submission])
        start_worker_process()
        [done] = wait_until_all_notified(tenant, time.monotonic() + 60)
        message = smtp.inbox.wait_for("agent0@queued.test", timeout=30)
        with tenancy.tenant_scope(tenant.id):
            lead = db.session.get(Lead, (tenant.id, done.lead_id))
            assert lead.owner_id == member.id and lead.email == "queued@example.com"
        assert f"/t/queued/leads/{lead.id}" in body_of(message)


def test_a_worker_on_the_sqlite_queue_processes_a_queued_submission(own_database, tmp_path):
    run_through_worker(own_database, tmp_path)


@pytest.mark.redis
def test_a_worker_on_the_redis_queue_processes_a_queued_submission(own_database, tmp_path, redis_url):
    run_through_worker(own_database, tmp_path, redis=redis_url)


def test_concurrent_workers_keep_the_rotation_fair_and_dedupe(own_database, tmp_path):
    """Four worker threads on one form: the form's row lock hands out each turn once, and two
    submissions of one new person still make one lead."""
    emails = [f"person{i}@example.com" for i in range(12)] + ["person0@example.com"]
    with worker_app(own_database, tmp_path, None, workers=4) as (_smtp, start_worker_process):
        tenant, members, submissions = seed(agents=3, emails=emails)
        member_ids = [m.id for m in members]
        enqueue_all(tenant, submissions)
        start_worker_process()
        rows = wait_until_all_notified(tenant, time.monotonic() + 120)
        with tenancy.tenant_scope(tenant.id):
            leads = list(db.session.scalars(select(Lead)))
    assert len(leads) == 12
    assert sorted(r.outcome for r in rows).count("attached") == 1
    assert Counter(lead.owner_id for lead in leads) == {member_id: 4 for member_id in member_ids}


def test_two_transactions_never_hand_out_one_turn(own_database, tmp_path):
    """While one transaction holds the form's rotation lock, another waits for it and then takes
    the next member, instead of reading the same position and handing out the same turn."""
    if own_database["dialect"] != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises whole write transactions")
    app = make_test_app(own_database, tmp_path / "instance", TASKS_IMMEDIATE=False)
    try:
        with app.app_context():
            tenant, members, _ = seed(agents=2, emails=())
            second = {}

            def other_worker(form_id):
                with app.app_context(), tenancy.tenant_scope(tenant.id):
                    form = db.session.get(LeadForm, (tenant.id, form_id))
                    second["owner"] = assignment.next_in_rotation(form, set(), utcnow())
                    db.session.commit()
                    db.session.remove()

            with tenancy.tenant_scope(tenant.id):
                form = db.session.scalar(select(LeadForm))
                first = assignment.next_in_rotation(form, set(), utcnow())  # holds the lock, not committed
                thread = threading.Thread(target=other_worker, args=(form.id,))
                thread.start()
                thread.join(timeout=1)  # give it the chance to read the same turn, were there no lock
                db.session.commit()
                thread.join(timeout=30)
            assert {first, second["owner"]} == {m.id for m in members}
    finally:
        db.session.remove()
        db.engine.dispose()


def test_a_visitor_is_not_kept_waiting_while_the_worker_processes_the_same_form(own_database, tmp_path, monkeypatch):
    """The worker holds its locks on the form and the submission while it processes; a new submission
    to that form (whose foreign-key check locks the form row too) is stored meanwhile, not after."""
    if own_database["dialect"] != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises whole write transactions")
    app = make_test_app(own_database, tmp_path / "instance", TASKS_IMMEDIATE=False)
    release, order = threading.Event(), []
    original = processing._process

    def slow_process(submission, form, now):
        assignment.next_in_rotation(form, set(), now)  # the rotation's lock too
        order.append("worker holds its locks")
        release.wait(timeout=30)
        order.append("worker goes on")
        return original(submission, form, now)

    monkeypatch.setattr(processing, "_process", slow_process)
    try:
        with app.app_context():
            tenant, _members, [queued] = seed()

            def work():
                with app.app_context(), tenancy.tenant_scope(tenant.id):
                    processing.process_submission.call_local(str(tenant.id), str(queued.id))
                    db.session.remove()

            worker = threading.Thread(target=work)
            worker.start()
            deadline = time.monotonic() + 10
            while not order and time.monotonic() < deadline:
                time.sleep(0.01)
            assert order == ["worker holds its locks"]
            safety = threading.Timer(15, release.set)  # were the visitor blocked, this would free them
            safety.start()
            with app.test_client() as client:
                answer = client.post("/t/queued/f/demo", json={"email": "visitor@example.com"},
                                     headers={"Idempotency-Key": "while-processing"})
            order.append(f"visitor answered {answer.status_code}")
            release.set()
            safety.cancel()
            worker.join(timeout=30)
        assert order == ["worker holds its locks", "visitor answered 201", "worker goes on"]
    finally:
        db.session.remove()
        db.engine.dispose()


def test_one_person_on_two_forms_at_the_same_moment_makes_one_lead(own_database, tmp_path, monkeypatch):
    """Two workers process two submissions of one new person, sent through two forms at once: the
    second waits for the first (a lock on the person, not on the form) and attaches to its lead."""
    if own_database["dialect"] != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises whole write transactions")
    app = make_test_app(own_database, tmp_path / "instance", TASKS_IMMEDIATE=False)
    original = processing.find_existing

    def slow_find(data):
        found = original(data)
        time.sleep(0.5)  # widen the window in which the other worker would also find nothing
        return found

    monkeypatch.setattr(processing, "find_existing", slow_find)
    try:
        with app.app_context():
            tenant, _members, [first] = seed(emails=("same@example.com",))
            with tenancy.tenant_scope(tenant.id):
                other = LeadForm(slug="other", name="Other form", fields=[{"key": "email", "label": None, "required": True}],
                                 published=True, assignment_mode="manual")
                db.session.add(other)
                db.session.flush()
                second = Submission(form_id=other.id, dedupe_key="k-other", status="received",
                                    data={"name": "Same again", "email": "SAME@example.com"})
                db.session.add(second)
                db.session.commit()
            outcomes = {}

            def work(submission_id):
                with app.app_context():
                    outcomes[submission_id] = processing.process_submission.call_local(str(tenant.id), submission_id)
                    db.session.remove()

            threads = [threading.Thread(target=work, args=(str(s.id),)) for s in (first, second)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            with tenancy.tenant_scope(tenant.id):
                db.session.rollback()
                leads = list(db.session.scalars(select(Lead)))
        assert len(leads) == 1 and sorted(outcomes.values()) == ["attached", "created"]
    finally:
        db.session.remove()
        db.engine.dispose()
