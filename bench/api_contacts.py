"""Benchmark: GET /t/<slug>/api/v1/contacts?limit=50&owner=<member> on PostgreSQL, 100,000 contacts over
100 tenants, against a floor measured in the same run (the same query through a bare WSGI app with
psycopg, served by the same gunicorn settings).

    python -m bench.api_contacts [--server-url postgresql+psycopg://postgres@127.0.0.1/postgres]

Reports p50, p99, the p50 ratio and the platform's per-request overhead (p50 app - p50 floor).
Targets (issue 2): overhead under 2 ms, p50 ratio under 2.
"""
from __future__ import annotations

import argparse
import json
import platform
import tempfile
import uuid
from pathlib import Path

from rapport import tenancy
from rapport.db import db
from rapport.models import Membership
from rapport.tokens import create_token
from tests.conftest import create_postgres_database, drop_postgres_database, make_test_app
from tests.livesupport import LiveServer

from .measure import time_gets
from .seed import copy_contacts, plain_dsn, provision


def run(server_url: str, tenants: int, per_tenant: int, requests: int, workers: int) -> dict:
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
        results = {}
        for label, server in (
            ("floor", LiveServer(app_url, instance, workers, env, target="bench.floor_app:app", ready_path=path)),
            ("rapport", LiveServer(app_url, instance, workers, env)),
        ):
            server.start()
            try:
                headers = {"Authorization": f"Bearer {secret}"}
                results[label] = time_gets(server.url, path, requests, headers=headers)
            finally:
                server.stop()
        app_p50, floor_p50 = results["rapport"]["p50"], results["floor"]["p50"]
        return {
            "contacts": total, "tenants": tenants, "requests": requests, "workers": workers,
            "rapport": results["rapport"], "floor": results["floor"],
            "overhead_ms": app_p50 - floor_p50, "ratio": app_p50 / floor_p50,
        }
    finally:
        drop_postgres_database(server_url, name)


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
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1/postgres")
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--per-tenant", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    result = run(args.server_url, args.tenants, args.per_tenant, args.requests, args.workers)
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
