"""Faults under load: gunicorn with several workers on a PostgreSQL and a Redis of the test's own, a
task worker beside it, and a steady stream of API writes and lead-form submissions. One gunicorn
worker is killed with SIGKILL, PostgreSQL is stopped and started again, Redis is killed and started
empty. Each time the service recovers by itself and /readyz tells the truth meanwhile; afterwards
every write that got a 2xx is in the database exactly once (clients retry with their idempotency
key, as a real client would), and every acknowledged submission became exactly one lead.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from plugins.lead_capture.models import LeadForm, Submission
from rapport import tenancy
from rapport.db import db, make_engine
from rapport.models import Contact, Lead, Membership
from rapport.plugin_host import current_host, set_plugin_enabled
from rapport.provisioning import create_tenant
from rapport.tokens import create_token
from tests.conftest import _ci_forced, create_postgres_database, make_test_app
from tests.faults.servers import PrivatePostgres, PrivateRedis, postgres_bin
from tests.livesupport import ROOT, LiveServer

pytestmark = pytest.mark.faults
WRITERS = 4
RETRY_FOR = 60.0  # a client keeps retrying one write (same idempotency key) this long


@pytest.fixture(scope="module")
def stack():
    if postgres_bin() is None or subprocess.run(["which", "redis-server"], capture_output=True).returncode:
        if _ci_forced("FAULTS"):
            pytest.fail("CI requires PostgreSQL's server binaries and redis-server for the fault tests")
        pytest.skip("needs PostgreSQL's server binaries (initdb, pg_ctl) and redis-server")
    pg, rd = PrivatePostgres().start(), PrivateRedis().start()
    instance = Path(tempfile.mkdtemp(prefix="rapport-faults-"))
    try:
        owner_url, app_url = create_postgres_database(pg.url, "rapport_faults")
        seed = _seed(owner_url, instance)
        env = {"RAPPORT_REDIS_URL": rd.url, "RAPPORT_LEAD_FORM_RATE_LIMIT_IP": "100000 per minute",
               "RAPPORT_LEAD_FORM_RATE_LIMIT_FORM": "100000 per minute"}
        server = LiveServer(app_url, instance, workers=3, extra_env=env, migrate_url=owner_url).start()
        worker = subprocess.Popen([str(Path(sys.executable).parent / "rapport"), "tasks", "worker"], cwd=ROOT,
                                  env=server.env, stdout=open(instance / "worker.log", "ab"), stderr=subprocess.STDOUT)
        yield {"pg": pg, "redis": rd, "server": server, "worker": worker, "owner_url": owner_url, **seed}
        worker.terminate()
        worker.wait(timeout=30)
        server.stop()
    finally:
        rd.kill()
        pg.destroy()


def _seed(owner_url: str, instance: Path) -> dict:
    app = make_test_app({"url": owner_url, "owner_url": owner_url}, instance / "seed")
    with app.app_context():
        tenant = create_tenant("faults", "Faults Inc", "owner@faults.test", "a long password 1")
        db.session.flush()
        with tenancy.tenant_scope(tenant.id):
            owner = db.session.scalar(select(Membership))
            set_plugin_enabled(current_host(), tenant, "lead_capture", True)
            db.session.add(LeadForm(slug="contact", name="Contact", published=True, min_fill_seconds=0,
                                    fields=[{"key": "name", "label": None, "required": True},
                                            {"key": "email", "label": None, "required": True}],
                                    assignment_mode="round_robin", assignees=[str(owner.id)]))
            _row, secret = create_token(owner, "faults")
            db.session.commit()
    db.engine.dispose()
    return {"slug": "faults", "tenant_id": tenant.id, "token": secret}


class Load:
    """Writers that each send one write at a time, retrying it with the same key until a 2xx."""

    def __init__(self, stack):
        self.port, self.slug, self.token = stack["server"].port, stack["slug"], stack["token"]
        self.acknowledged = {"contacts": [], "leads": []}
        self.failures: dict[str, int] = {}
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._write_forever, args=(n,)) for n in range(WRITERS)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=RETRY_FOR + 10)

    def total(self) -> int:
        return sum(len(v) for v in self.acknowledged.values())

    def _write_forever(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            kind = "contacts" if (i + n) % 2 else "leads"
            email = f"w{n}-{i}-{uuid.uuid4().hex[:6]}@faults.test"
            if self._write(kind, email, key=uuid.uuid4().hex):
                self.acknowledged[kind].append(email)
            i += 1
            time.sleep(0.02)

    def _write(self, kind: str, email: str, key: str) -> bool:
        if kind == "contacts":
            path, body = f"/t/{self.slug}/api/v1/contacts", {"last_name": "Fault", "email": email}
            headers = {"Authorization": f"Bearer {self.token}"}
        else:
            path, body = f"/t/{self.slug}/f/contact", {"name": "Fault lead", "email": email}
            headers = {}
        headers.update({"Content-Type": "application/json", "Idempotency-Key": key})
        deadline = time.monotonic() + RETRY_FOR
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("POST", path, json.dumps(body), headers)
                status = conn.getresponse().status
                conn.close()
            except OSError as exc:
                status = type(exc).__name__
            if isinstance(status, int) and 200 <= status < 300:
                return True
            self.failures[str(status)] = self.failures.get(str(status), 0) + 1
            time.sleep(0.1)
        return False


def _ready(port: int) -> int:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/readyz")
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return 0


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.1)


def _progress(load: Load, seconds: float) -> None:
    """The load keeps being acknowledged: more writes get a 2xx within ``seconds``."""
    before = load.total()
    _wait_for(lambda: load.total() >= before + 5, seconds, "writes acknowledged again")


def _gunicorn_workers(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_service_recovers_from_faults_and_loses_no_acknowledged_write(stack):
    server, pg, rd = stack["server"], stack["pg"], stack["redis"]
    with Load(stack) as load:
        _progress(load, 20)

        time.sleep(3)
        # 1. a worker dies mid-request: the master replaces it.
        victims = _gunicorn_workers(server.process.pid)
        os.kill(victims[0], signal.SIGKILL)
        _wait_for(lambda: len(set(_gunicorn_workers(server.process.pid)) - set(victims)) == 1, 30, "a new worker")
        _progress(load, 20)

        time.sleep(3)
        # 2. PostgreSQL goes away for a while, then comes back.
        pg.stop()
        _wait_for(lambda: _ready(server.port) == 503, 10, "/readyz says 503 with the database down")
        time.sleep(2)
        pg.start()
        _wait_for(lambda: _ready(server.port) == 200, 30, "/readyz says 200 again")
        _progress(load, 30)

        time.sleep(3)
        # 3. Redis dies and comes back empty (it keeps nothing on disk): rate limits, the queue.
        rd.kill()
        time.sleep(0.5)
        assert _ready(server.port) == 200  # the database is what readiness is about; Redis degrades
        _progress(load, 30)  # writes go on without Redis
        time.sleep(3)
        rd.start()
        _progress(load, 30)
        time.sleep(3)
    assert load.total() > 50, load.failures
    # While the database was down writes were refused with 503 (retry later), never a 500.
    assert "503" in load.failures and "500" not in load.failures, load.failures

    _verify(stack, load)


def _verify(stack, load: Load) -> None:
    engine = make_engine(stack["owner_url"])
    from sqlalchemy.orm import Session

    with Session(engine) as session, tenancy.tenant_scope(stack["tenant_id"]):
        contacts = session.scalars(select(Contact.email).where(Contact.email.like("%@faults.test"))).all()
        assert sorted(contacts) == sorted(load.acknowledged["contacts"])  # all there, none twice, none extra

        def processed() -> bool:
            session.rollback()
            return not session.scalar(select(func.count()).select_from(Submission).where(Submission.status == "received"))

        _wait_for(processed, 180, "every stored submission processed (the sweep re-queues what Redis lost)")
        submissions = session.scalars(select(Submission.data)).all()
        leads = session.scalars(select(Lead.email).where(Lead.email.like("%@faults.test"))).all()
    engine.dispose()
    acknowledged = sorted(load.acknowledged["leads"])
    assert sorted(d["email"] for d in submissions) == acknowledged
    assert sorted(leads) == acknowledged
