"""Benchmark: GET /t/<slug>/api/v1/contacts?limit=50&owner=<member> on PostgreSQL, 100,000 contacts over
100 tenants, against a floor measured in the same run (the same query through a bare WSGI app with
psycopg, served by the same gunicorn settings).

    python -m bench.api_contacts [--server-url postgresql+psycopg://postgres@127.0.0.1/postgres]

Reports p50, p99, the p50 ratio and the platform's per-request overhead (p50 app - p50 floor), and the
app's database round trips per request (the floor makes one). Both servers run at once and are timed in
alternating rounds, so that other work on the machine weighs on both alike.
Targets (issue 2): overhead under 2 ms, p50 ratio under 2.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import urllib.request
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import event

from rapport import tenancy
from rapport.db import db
from rapport.models import Membership
from rapport.tokens import create_token
from tests.conftest import create_postgres_database, drop_postgres_database, make_test_app
from tests.livesupport import LiveServer

from .measure import Client, time_interleaved
from .seed import copy_contacts, plain_dsn, provision


def run(server_url: str, tenants: int, per_tenant: int, requests: int, workers: int, rounds: int = 10) -> dict:
    name = f"rapport_bench_api_{uuid.uuid4().hex[:6]}"
    owner_url, app_url = create_postgres_database(server_url, name)
    instance = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    try:
        app = make_test_app({"url": owner_url, "owner_url": owner_url}, instance)
        made = provision(app, tenants, "bench password 1")
        total = copy_contacts(plain_dsn(owner_url), made, [per_tenant] * tenants)
        target = made[len(made) // 2]
        with app.app_context(), tenancy.tenant_scope(target["id"]):
            member = db.session.get(Membership, (target["id"], target["owner_id"]))
            _row, secret = create_token(member, "bench")
            db.session.commit()
        path = f"/t/{target['slug']}/api/v1/contacts?limit=50&owner={target['owner_id']}"
        env = {"FLOOR_DSN": plain_dsn(app_url), "FLOOR_TENANT_ID": str(target["id"])}
        headers = {"Authorization": f"Bearer {secret}"}
        servers = {
            "floor": LiveServer(app_url, instance, workers, env, target="bench.floor_app:app", ready_path=path),
            "rapport": LiveServer(app_url, instance, workers, env),
        }
        clients = {}
        try:
            for label, server in servers.items():
                server.start()
                clients[label] = Client(server.url, headers)
            pages = {label: _ids_of_page(server.url + path, headers) for label, server in servers.items()}
            if len(pages["rapport"]) != 50 or pages["floor"] != pages["rapport"]:
                raise RuntimeError(f"the floor and the app must answer the same 50 rows: {pages}")
            round_trips = round_trips_per_request(app_url, instance, path, headers)
            load_before = os.getloadavg()
            results = time_interleaved(clients, path, requests, rounds)
            load_after = os.getloadavg()
        finally:
            for client in clients.values():
                client.close()
            for server in servers.values():
                server.stop()
        app_p50, floor_p50 = results["rapport"]["p50"], results["floor"]["p50"]
        return {
            "contacts": total, "tenants": tenants, "requests": requests, "workers": workers,
            "rapport": results["rapport"], "floor": results["floor"],
            "overhead_ms": app_p50 - floor_p50, "ratio": app_p50 / floor_p50,
            "round_trips": round_trips, "rounds": rounds,
            "load_average": [round(max(before, after), 2) for before, after in zip(load_before, load_after)],
        }
    finally:
        drop_postgres_database(server_url, name)


def round_trips_per_request(app_url: str, instance: Path, path: str, headers: dict, count: int = 50) -> float:
    """Database round trips of one request, counted by libpq's protocol trace (every exchange with the
    server ends with its ReadyForQuery message) on a connection traced from its first message, so a
    ping at checkout counts too. The app runs in-process here, as the same database role."""
    app = make_test_app({"url": app_url, "owner_url": app_url}, instance / "round-trips")
    client = app.test_client()
    client.get(path, headers=headers)  # the process's first request does more (dialect set-up, caches)
    with tempfile.TemporaryFile("w+") as trace:
        def start(dbapi_connection, _record):
            dbapi_connection.pgconn.trace(trace.fileno())
            dbapi_connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

        def stop(dbapi_connection, _record):
            dbapi_connection.pgconn.untrace()  # writes out what libpq still holds

        event.listen(db.engine.pool, "connect", start)
        event.listen(db.engine.pool, "close", stop)
        db.engine.dispose()  # the next request connects afresh
        for _ in range(count):
            if client.get(path, headers=headers).status_code != 200:
                raise RuntimeError("the in-process app did not answer 200")
        db.engine.dispose()
        trace.seek(0)
        answers = sum(1 for line in trace if line.startswith("B\t") and "\tReadyForQuery\t" in line)
    return answers / count


def _ids_of_page(url: str, headers: dict) -> list[str]:
    """The ids of one answer, to check that the floor does the same work as the app."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
        return [item["id"] for item in json.load(response)["items"]]


def markdown(r: dict) -> str:
    return "\n".join([
        f"API list benchmark: {r['contacts']:,} contacts over {r['tenants']} tenants, {r['requests']} sequential "
        f"requests, gunicorn {r['workers']} worker(s), {platform.processor() or platform.machine()}",
        "",
        "| measure | Rapport | floor (bare WSGI + psycopg) | target |",
        "| --- | --- | --- | --- |",
        f"| p50 | {r['rapport']['p50']:.2f} ms | {r['floor']['p50']:.2f} ms | ratio < 2 (got {r['ratio']:.2f}) |",
        f"| p99 | {r['rapport']['p99']:.2f} ms | {r['floor']['p99']:.2f} ms | |",
        f"| per-request overhead (p50 difference) | {r['overhead_ms']:.2f} ms | | < 2 ms |",
        f"| database round trips per request | {r['round_trips']:.1f} | 1 | |",
        "",
        f"{r['rounds']} interleaved rounds; load average (1, 5, 15 min) up to {r['load_average']} during the run.",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1/postgres")
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--per-tenant", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=10, help="alternate between the servers this many times")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    result = run(args.server_url, args.tenants, args.per_tenant, args.requests, args.workers, args.rounds)
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
