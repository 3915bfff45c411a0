"""Benchmark: lead-form submissions through gunicorn on PostgreSQL, against a floor measured in the same
run (a bare WSGI app doing the same INSERT, bench/floor_submit.py, same gunicorn settings).

    python -m bench.lead_capture [--duration 60] [--workers 4] [--concurrency 16]

For each server: the maximum rate (closed loop, ``--concurrency`` clients, ``--duration`` seconds);
for Rapport also an open-loop run at 80% of its maximum rate, where p99 is read. Rapport runs with its
task worker on Redis, as in production: after the load, the queue is drained and the leads are counted
against the submissions acknowledged with a 2xx (each submission has its own email).
The queue's own speed (how fast the worker turns stored submissions into assigned leads) is reported
beside, from the backlog left when the load stops. ``--worker-after-load`` starts the worker only when
the load stops: the intake measured as if processing ran on other hosts.

A second, reference floor (bench/floor_flask.py) does the same INSERT in Flask with SQLAlchemy and a
transaction per request that sets the tenant, and nothing else: what the required framework costs
before any feature.

Targets (issue 4): at least half the floor's throughput, p99 under 100 ms at 80% of the maximum rate,
exactly as many leads stored as submissions acknowledged.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis
from sqlalchemy import func, select

from plugins.lead_capture.models import LeadForm, Submission
from rapport import tenancy
from rapport.db import db
from rapport.models import Lead, Tenant
from rapport.plugin_host import current_host, set_plugin_enabled
from tests.conftest import create_postgres_database, drop_postgres_database, make_test_app
from tests.livesupport import ROOT, LiveServer

from .loadgen import closed_loop, open_loop
from .seed import plain_dsn, provision

SOURCE = "bench form"


def _make_forms(app, tenant: dict) -> dict:
    with app.app_context(), tenancy.tenant_scope(tenant["id"]):
        set_plugin_enabled(current_host(), db.session.get_one(Tenant, tenant["id"]), "lead_capture", True)
        forms = {}
        for slug in ("rapport", "floor"):
            form = LeadForm(
                slug=slug, name=f"Bench {slug}", published=True, min_fill_seconds=0, lead_source=SOURCE,
                fields=[{"key": "name", "label": None, "required": True},
                        {"key": "email", "label": None, "required": True},
                        {"key": "message", "label": None, "required": False}],
                assignment_mode="round_robin", assignees=[str(tenant["owner_id"])],
            )
            db.session.add(form)
            db.session.flush()
            forms[slug] = form.id
        db.session.commit()
    return forms


def _requests(path: str, run_tag: str):
    def make(n: int):
        body = json.dumps({"name": f"Lead {n}", "email": f"lead-{run_tag}-{n}@bench.test",
                           "message": "Please call me back about pricing."}).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": f"{run_tag}-{n}"}
        return "POST", path, headers, body

    return make


def _email_of(request, _payload) -> str:
    return json.loads(request[3])["email"]


def _workers(env: dict, instance: Path, processes: int) -> list[subprocess.Popen]:
    """The task worker as deployed beside gunicorn on this host: one process per core (each runs
    its jobs on threads, which share one core under the GIL), at its default lower CPU priority."""
    log = open(instance / "worker.log", "ab")
    command = Path(sys.executable).parent / "rapport"  # the console script installed with the package
    return [subprocess.Popen([str(command), "tasks", "worker", "--workers", "2"],
                             cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT) for _ in range(processes)]


def _drain(app, tenant_id, timeout: float) -> dict:
    """Wait until the worker has processed every stored submission (or ``timeout``); the backlog
    left when the load stopped and how fast the worker cleared it."""
    def left() -> int:
        count = db.session.scalar(select(func.count()).select_from(Submission).where(Submission.status == "received"))
        db.session.rollback()
        return count

    with app.app_context(), tenancy.tenant_scope(tenant_id):
        start, backlog = time.monotonic(), left()
        remaining = backlog
        while remaining and time.monotonic() - start < timeout:
            time.sleep(1)
            remaining = left()
    seconds = time.monotonic() - start
    return {"backlog": backlog, "remaining": remaining, "seconds": round(seconds, 1),
            "processed_per_second": (backlog - remaining) / seconds if seconds else 0.0}


def _counts(app, tenant_id, form_id, emails: list[str]) -> dict:
    with app.app_context(), tenancy.tenant_scope(tenant_id):
        stored = db.session.scalar(select(func.count()).select_from(Submission).where(Submission.form_id == form_id))
        leads = db.session.scalars(select(Lead.email).where(Lead.source == SOURCE)).all()
    acknowledged = set(emails)
    return {
        "acknowledged": len(emails), "distinct_acknowledged": len(acknowledged),
        "submissions_stored": stored, "leads": len(leads), "distinct_leads": len(set(leads)),
        "acknowledged_without_lead": len(acknowledged - set(leads)), "leads_not_acknowledged": len(set(leads) - acknowledged),
    }


def run(server_url: str, redis_url: str, duration: float, workers: int, concurrency: int,
        drain_timeout: float = 1800, worker_after_load: bool = False) -> dict:
    name = f"rapport_bench_leads_{uuid.uuid4().hex[:6]}"
    owner_url, app_url = create_postgres_database(server_url, name)
    instance = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    redis.Redis.from_url(redis_url).flushdb()
    try:
        app = make_test_app({"url": owner_url, "owner_url": owner_url}, instance)
        [tenant] = provision(app, 1, "bench password 1")
        forms = _make_forms(app, tenant)
        env = {"FLOOR_DSN": plain_dsn(app_url), "FLOOR_SQLALCHEMY_URL": app_url, "FLOOR_TENANT_ID": str(tenant["id"]),
               "FLOOR_FORM_ID": str(forms["floor"]), "RAPPORT_REDIS_URL": redis_url,
               # The load comes from one address: lift the per-IP and per-form limits above what it sends.
               "RAPPORT_LEAD_FORM_RATE_LIMIT_IP": "1000000 per minute",
               "RAPPORT_LEAD_FORM_RATE_LIMIT_FORM": "1000000 per minute"}
        result = {"workers": workers, "concurrency": concurrency, "duration": duration}

        path = f"/t/{tenant['slug']}/f/floor"
        for key, target in (("floor", "bench.floor_submit:app"), ("framework", "bench.floor_flask:app")):
            floor = LiveServer(app_url, instance, workers, env, target=target, ready_path="/").start()
            try:
                result[key] = closed_loop("127.0.0.1", floor.port, _requests(path, key), concurrency, duration).summary()
            finally:
                floor.stop()

        server = LiveServer(app_url, instance, workers, env).start()
        start_workers = lambda: _workers({**server.env}, instance, os.cpu_count() or 1)  # noqa: E731
        workers_ = [] if worker_after_load else start_workers()
        try:
            path = f"/t/{tenant['slug']}/f/rapport"
            top = closed_loop("127.0.0.1", server.port, _requests(path, "max"), concurrency, duration, keep=_email_of)
            result["rapport_max"] = top.summary()
            rate = 0.8 * result["rapport_max"]["throughput"]
            steady = open_loop("127.0.0.1", server.port, _requests(path, "steady"), rate, duration, keep=_email_of)
            result["rapport_80"] = {**steady.summary(), "rate": rate}
            if worker_after_load:
                workers_ = start_workers()
            result["drain"] = _drain(app, tenant["id"], drain_timeout)
            result["integrity"] = _counts(app, tenant["id"], forms["rapport"], top.kept + steady.kept)
        finally:
            for worker in workers_:
                worker.terminate()
            for worker in workers_:
                worker.wait(timeout=30)
            server.stop()
        result["ratio"] = result["rapport_max"]["throughput"] / result["floor"]["throughput"]
        return result
    finally:
        drop_postgres_database(server_url, name)


def markdown(r: dict) -> str:
    i = r["integrity"]
    exact = i["leads"] == i["distinct_leads"] == i["distinct_acknowledged"] == i["acknowledged"] and not (
        i["acknowledged_without_lead"] or i["leads_not_acknowledged"])
    return "\n".join([
        f"Lead capture benchmark: JSON submissions for {r['duration']:.0f} s per run, gunicorn {r['workers']} sync "
        f"workers, {r['concurrency']} concurrent clients at maximum rate, {platform.machine()}, "
        f"{os.cpu_count()} cores",
        "",
        "| measure | Rapport | floor (bare WSGI + INSERT) | target |",
        "| --- | --- | --- | --- |",
        f"| throughput at maximum rate | {r['rapport_max']['throughput']:.0f}/s | {r['floor']['throughput']:.0f}/s "
        f"| >= half the floor (got {r['ratio']:.2f}) |",
        f"| framework alone (Flask + SQLAlchemy + the same INSERT), for reference | | {r['framework']['throughput']:.0f}/s "
        f"({r['framework']['throughput'] / r['floor']['throughput']:.2f} of the floor), p50 / p99 "
        f"{r['framework']['p50']:.1f} / {r['framework']['p99']:.1f} ms | |",
        f"| p50 / p99 at maximum rate | {r['rapport_max']['p50']:.1f} / {r['rapport_max']['p99']:.1f} ms "
        f"| {r['floor']['p50']:.1f} / {r['floor']['p99']:.1f} ms | |",
        f"| p50 / p99 at 80% ({r['rapport_80']['rate']:.0f}/s, open loop) | {r['rapport_80']['p50']:.1f} / "
        f"{r['rapport_80']['p99']:.1f} ms | | p99 < 100 ms |",
        f"| answers (max + 80% runs) | {r['rapport_max']['statuses']} + {r['rapport_80']['statuses']}, errors "
        f"{r['rapport_max']['errors'] or 0} + {r['rapport_80']['errors'] or 0} | {r['floor']['statuses']} | |",
        f"| 2xx acknowledged / submissions stored / leads | {i['acknowledged']} / {i['submissions_stored']} / "
        f"{i['leads']} | | equal: {'yes' if exact else 'NO'} |",
        f"| queue backlog when the load stopped, cleared at | {r['drain']['backlog']} submissions, "
        f"{r['drain']['processed_per_second']:.1f}/s ({r['drain']['remaining']} left after {r['drain']['seconds']:.0f} s) | | |",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--drain-timeout", type=float, default=1800, help="seconds to wait for the worker")
    parser.add_argument("--worker-after-load", action="store_true",
                        help="start the task worker when the load stops (as if it ran on other hosts)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    result = run(args.server_url, args.redis_url, args.duration, args.workers, args.concurrency, args.drain_timeout,
                 args.worker_after_load)
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
