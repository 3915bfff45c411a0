"""Soak: mixed traffic across 100 tenants through gunicorn on PostgreSQL, with the task worker on
Redis, for 10 minutes (``--duration``; CI runs 30 seconds through tests/faults/test_soak.py).

Traffic, at a steady open-loop ``--rate``: API lists (40%), record pages in the staff UI with a
logged-in session (20%), API creates (20%), lead-form submissions (20%), each to a random tenant.
Reports the error rate (anything but a 2xx), p50 and p99 per kind, and the memory (RSS) of every
gunicorn worker, sampled every few seconds: after the warm-up (the first fifth of the run) each must
stay within 10% of its first sample. Target (issue 5): error rate 0, memory flat within 10%.

    python -m bench.soak [--duration 600] [--rate 40]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path

import redis
from sqlalchemy import select

from plugins.lead_capture.models import LeadForm
from rapport import tenancy
from rapport.db import db
from rapport.models import Contact, Membership, Tenant
from rapport.plugin_host import current_host, set_plugin_enabled
from rapport.tokens import create_token
from tests.conftest import create_postgres_database, drop_postgres_database, make_test_app
from tests.livesupport import ROOT, LiveServer

from . import loadgen
from .seed import copy_contacts, plain_dsn, provision

PASSWORD = "soak password 1"
KINDS = ["list"] * 4 + ["page"] * 2 + ["create"] * 2 + ["submit"] * 2
LOGGED_IN_TENANTS = 10


def seed(app, tenants: int, per_tenant: int, owner_url: str) -> list[dict]:
    made = provision(app, tenants, PASSWORD)
    copy_contacts(plain_dsn(owner_url), made, [per_tenant] * tenants)
    with app.app_context():
        for t in made:
            tenant = db.session.get(Tenant, t["id"])
            with tenancy.tenant_scope(t["id"]):
                set_plugin_enabled(current_host(), tenant, "lead_capture", True)
                db.session.add(LeadForm(slug="contact", name="Contact", published=True, min_fill_seconds=0,
                                        fields=[{"key": "name", "label": None, "required": True},
                                                {"key": "email", "label": None, "required": True}],
                                        assignment_mode="round_robin", assignees=[str(t["owner_id"])]))
                owner = db.session.get(Membership, (t["id"], t["owner_id"]))
                _row, t["token"] = create_token(owner, "soak")
                t["contacts"] = [str(i) for i in db.session.scalars(select(Contact.id).limit(20))]
                db.session.commit()
    return made


def login(base_url: str, email: str) -> str:
    """Log in through the real form (CSRF token and all); return the Cookie header."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base_url + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD}).encode()
    opener.open(urllib.request.Request(base_url + "/login", data=data))
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def requests_for(tenants: list[dict], cookies: dict, rng: random.Random):
    def make(n: int):
        kind = KINDS[n % len(KINDS)]
        if kind == "page":
            t = rng.choice([t for t in tenants if t["slug"] in cookies])
            return "GET", f"/t/{t['slug']}/contacts/{rng.choice(t['contacts'])}", {"Cookie": cookies[t["slug"]], "X-Kind": kind}, b""
        t = rng.choice(tenants)
        auth = {"Authorization": f"Bearer {t['token']}", "X-Kind": kind}
        if kind == "list":
            return "GET", f"/t/{t['slug']}/api/v1/contacts?limit=50&owner={t['owner_id']}", auth, b""
        email = f"soak-{n}-{uuid.uuid4().hex[:6]}@soak.test"
        if kind == "create":
            body = {"last_name": "Soak", "first_name": str(n), "email": email}
            return "POST", f"/t/{t['slug']}/api/v1/contacts", {**auth, "Content-Type": "application/json"}, json.dumps(body).encode()
        body = {"name": f"Soak {n}", "email": email}
        return "POST", f"/t/{t['slug']}/f/contact", {"Content-Type": "application/json", "X-Kind": kind}, json.dumps(body).encode()

    return make


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _workers(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class MemorySampler(threading.Thread):
    def __init__(self, master: int, every: float):
        super().__init__(daemon=True)
        self.master, self.every = master, every
        self.samples: dict[int, list[tuple[float, int]]] = {}
        self.done = threading.Event()

    def run(self):
        start = time.monotonic()
        while not self.done.wait(self.every):
            for pid in _workers(self.master):
                rss = _rss_kib(pid)
                if rss:
                    self.samples.setdefault(pid, []).append((time.monotonic() - start, rss))


def memory_report(samples: dict, warmup: float) -> dict:
    report = {}
    for pid, series in samples.items():
        after = [rss for t, rss in series if t >= warmup]
        if len(after) < 2:
            continue
        report[pid] = {"first_kib": after[0], "max_kib": max(after), "last_kib": after[-1],
                       "growth": max(after) / after[0] - 1}
    return report


def run(server_url: str, redis_url: str, duration: float, rate: float, tenants: int = 100,
        per_tenant: int = 200, workers: int = 4) -> dict:
    name = f"rapport_soak_{uuid.uuid4().hex[:6]}"
    owner_url, app_url = create_postgres_database(server_url, name)
    instance = Path(tempfile.mkdtemp(prefix="rapport-soak-"))
    redis.Redis.from_url(redis_url).flushdb()
    try:
        app = make_test_app({"url": owner_url, "owner_url": owner_url}, instance / "seed")
        made = seed(app, tenants, per_tenant, owner_url)
        env = {"RAPPORT_REDIS_URL": redis_url, "RAPPORT_LEAD_FORM_RATE_LIMIT_IP": "1000000 per minute",
               "RAPPORT_LEAD_FORM_RATE_LIMIT_FORM": "1000000 per minute"}
        server = LiveServer(app_url, instance, workers, env).start()
        worker = subprocess.Popen([str(Path(sys.executable).parent / "rapport"), "tasks", "worker"], cwd=ROOT,
                                  env=server.env, stdout=open(instance / "worker.log", "ab"), stderr=subprocess.STDOUT)
        try:
            cookies = {t["slug"]: login(server.url, t["email"]) for t in made[:LOGGED_IN_TENANTS]}
            sampler = MemorySampler(server.process.pid, every=max(1.0, duration / 60))
            sampler.start()
            per_kind = {}

            def keep(request, _payload):
                return request[2].get("X-Kind")

            outcome = loadgen.open_loop("127.0.0.1", server.port, requests_for(made, cookies, random.Random(5)),
                                        rate, duration, keep=keep)
            sampler.done.set()
            sampler.join()
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            server.stop()
        summary = outcome.summary()
        for kind in set(KINDS):
            per_kind[kind] = sum(1 for k in outcome.kept if k == kind)
        errors = summary["requests"] - summary["ok"]
        return {
            "tenants": tenants, "duration": duration, "rate": rate, "workers": workers, **summary,
            "ok_by_kind": per_kind, "error_rate": errors / max(1, summary["requests"]),
            "memory": memory_report(sampler.samples, warmup=duration / 5),
        }
    finally:
        drop_postgres_database(server_url, name)


def markdown(r: dict) -> str:
    growth = max((m["growth"] for m in r["memory"].values()), default=float("nan"))
    rss = ", ".join(f"{m['first_kib'] // 1024}->{m['max_kib'] // 1024} MiB" for m in r["memory"].values())
    return "\n".join([
        f"Soak: {r['duration']:.0f} s of mixed traffic at {r['rate']:.0f} req/s over {r['tenants']} tenants, "
        f"gunicorn {r['workers']} workers + task worker on Redis",
        "",
        "| measure | value | target |",
        "| --- | --- | --- |",
        f"| requests (2xx by kind) | {r['requests']} ({r['ok_by_kind']}) | |",
        f"| error rate | {r['error_rate']:.4%} (statuses {r['statuses']}, errors {r['errors'] or 0}) | 0 |",
        f"| p50 / p99 | {r['p50']:.1f} / {r['p99']:.1f} ms | reported |",
        f"| worker memory after warm-up (first -> max) | {rss} | growth <= 10% (got {growth:.1%}) |",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--rate", type=float, default=40)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.server_url, args.redis_url, args.duration, args.rate)
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
