"""Benchmark: lists filtered and sorted by custom fields, and the cost of custom values on create.

On PostgreSQL: 1,000,000 contacts over 1,000 tenants (the largest with 200,000), 20 custom fields
each (3 of them flagged ``filterable``: a select, a number, a date). In the largest tenant it times,
through the real code path in-process (``listing.fetch`` under the app role, so row-level security
applies, one transaction per call as in a request), and against hand-written SQL on the same indexes
(psycopg, same role, same ``SET LOCAL``, same transaction shape):

  1. filter by the custom select (``custom.industry=retail``), default sort;
  2. filter by a custom number range (``custom.employees__gte=..&custom.employees__lte=..``);
  3. sort by the custom date (``sort=custom.signed``), records without one last.

and creating a contact through ``crm.create`` (+ commit) with 20 custom values against one without any
(in a tenant with no custom fields, and with an empty ``custom`` in the same tenant).

    python -m bench.custom_fields [--scale 0.05] [--server-url postgresql+psycopg://postgres@127.0.0.1/postgres]

Definitions are made through the real code (``create_definition``), contacts by COPY (bench.seed),
and the side table ``custom_values`` is filled from the contacts' JSON with one INSERT ... SELECT per
filterable field (the same typed values ``rapport.fields.query.side_rows`` writes).
Targets (issue 3): p50 under 20 ms and within 1.5x the hand-written SQL; create at most 1.5x.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from flask import g

from rapport import crm, listing, tenancy
from rapport.db import db
from rapport.fields.definitions import create_definition
from rapport.models import Membership, Tenant
from rapport.pipeline import Actor, grant
from tests.conftest import create_postgres_database, drop_postgres_database, make_test_app

from .measure import percentile
from .seed import copy_contacts, plain_dsn, provision

ACTOR = Actor.operator()
INDUSTRIES = ["retail", "tech", "food", "health", "finance", "energy", "media", "travel", "public", "other"]
TAGS = ["vip", "partner", "press", "churn_risk", "newsletter"]
FIELDS = [  # key, type, extras; the first three are filterable
    ("industry", "select", {"options": [{"value": v, "label": v.title()} for v in INDUSTRIES], "filterable": True}),
    ("employees", "number", {"config": {"min": 0, "max": 100000}, "filterable": True}),
    ("signed", "date", {"filterable": True}),
    ("nickname", "text", {"config": {"max_length": 100}}),
    ("notes", "long_text", {}),
    ("score", "number", {"config": {"decimals": 2}}),
    ("revenue", "currency", {"config": {"currency": "USD"}}),
    ("renewal", "date", {}),
    ("last_seen", "datetime", {}),
    ("active", "boolean", {}),
    ("newsletter", "boolean", {}),
    ("size", "select", {"options": [{"value": v, "label": v} for v in ("s", "m", "l", "xl")]}),
    ("tags", "multi_select", {"options": [{"value": v, "label": v} for v in TAGS]}),
    ("alt_email", "email", {}),
    ("mobile", "phone", {}),
    ("homepage", "url", {}),
    ("city", "text", {}),
    ("region", "text", {}),
    ("code", "text", {"config": {"pattern": "[A-Z]{3}-\\d{4}"}}),
    ("rating", "number", {"config": {"min": 1, "max": 5}}),
]
FILTER_RANGE = (1000, 6000)  # about 5% of the tenant


def custom_values(rng, i: int) -> dict:
    """20 custom values; about 10% of records have no ``signed`` date (they sort last)."""
    out = {
        "industry": rng.choice(INDUSTRIES), "employees": rng.randrange(0, 100_000),
        "nickname": f"nick {i}", "notes": "Met at the fair; wants a demo.", "score": round(rng.random() * 100, 2),
        "revenue": round(rng.random() * 1e6, 2), "renewal": f"2027-{rng.randrange(1, 13):02d}-15",
        "last_seen": f"2026-{rng.randrange(1, 13):02d}-0{rng.randrange(1, 10)}T10:00:00Z", "active": rng.random() < 0.5,
        "newsletter": rng.random() < 0.3, "size": rng.choice(["s", "m", "l", "xl"]),
        "tags": rng.sample(TAGS, 2), "alt_email": f"alt{i}@example.com", "mobile": "+8613800138000",
        "homepage": "https://example.com/", "city": "Shanghai", "region": "East", "code": f"ABC-{i % 10000:04d}",
        "rating": rng.randrange(1, 6),
    }
    if rng.random() < 0.9:
        out["signed"] = f"202{rng.randrange(0, 6)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    return out


def create_payload(i: int) -> dict:
    import random

    return {"first_name": "Bench", "last_name": f"New{i}", "custom": custom_values(random.Random(i), i)}


def define_fields(app, tenants: list[dict]) -> None:
    with app.app_context():
        for made in tenants:
            with tenancy.tenant_scope(made["id"]):
                tenant = db.session.get(Tenant, made["id"])
                g.tenant = tenant
                for key, type_, extra in FIELDS:
                    create_definition(tenant, "contacts", {"key": key, "label": key.title(), "type": type_, **extra}, ACTOR)
                db.session.commit()


SIDE_FILL = {  # field -> (value_num expression, value_text expression)
    "industry": ("NULL", "custom->>'industry'"),
    "employees": ("(custom->>'employees')::float", "NULL"),
    "signed": ("NULL", "custom->>'signed'"),
}


def fill_side_table(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        for key, (num, text) in SIDE_FILL.items():
            conn.execute(
                "INSERT INTO custom_values (tenant_id, id, record_type, field_key, record_id, value_num, value_text) "
                f"SELECT tenant_id, gen_random_uuid(), 'contacts', %s, id, {num}, {text} FROM contacts WHERE custom ? %s",
                (key, key),
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE custom_values")
        conn.execute("VACUUM ANALYZE contacts")


# -- the three queries: through listing.fetch, and by hand on the same indexes ---------------------
def queries() -> dict[str, tuple[dict, str, tuple]]:
    lo, hi = FILTER_RANGE
    exists = ("EXISTS (SELECT 1 FROM custom_values v WHERE v.tenant_id = c.tenant_id AND v.record_type = 'contacts' "
              "AND v.field_key = %s AND v.record_id = c.id AND {cond})")
    return {
        "filter by custom select": (
            {"custom.industry": "retail"},
            f"SELECT c.* FROM contacts c WHERE c.tenant_id = %s AND {exists.format(cond='v.value_text = %s')} "
            "ORDER BY c.last_name, c.id LIMIT 51",
            ("industry", "retail"),
        ),
        "filter by custom number range": (
            {"custom.employees__gte": str(lo), "custom.employees__lte": str(hi)},
            f"SELECT c.* FROM contacts c WHERE c.tenant_id = %s "
            f"AND {exists.format(cond='v.value_num >= %s AND v.value_num <= %s')} ORDER BY c.last_name, c.id LIMIT 51",
            ("employees", float(lo), float(hi)),
        ),
        "sort by custom date": (
            {"sort": "custom.signed"},
            "SELECT c.* FROM contacts c JOIN custom_values v ON v.tenant_id = c.tenant_id AND v.record_id = c.id "
            "AND v.record_type = 'contacts' AND v.field_key = 'signed' AND v.tenant_id = c.tenant_id WHERE c.tenant_id = %s "
            "ORDER BY v.value_text, v.record_id LIMIT 51",
            (),
        ),
    }


def time_calls(call, count: int, warmup: int) -> list[float]:
    samples = []
    for i in range(warmup + count):
        start = time.perf_counter()
        call()
        elapsed = (time.perf_counter() - start) * 1000
        if i >= warmup:
            samples.append(elapsed)
    return samples


def summary(samples: list[float]) -> dict:
    return {"p50": statistics.median(samples), "p99": percentile(samples, 99), "count": len(samples)}


def measure_queries(app, app_dsn: str, target: dict, count: int) -> dict:
    """Each side runs its query alone inside one open transaction (tenant already set), so the
    figures compare the query work (building, running, loading 50 rows) and not connection set-up."""
    out = {}
    tid = target["id"]
    with psycopg.connect(app_dsn) as conn, app.app_context(), tenancy.tenant_scope(tid):
        tenant = db.session.get(Tenant, tid)
        member = grant(db.session.get(Membership, (tid, target["owner_id"])))
        g.tenant, g.actor = tenant, ACTOR
        conn.execute(f"SET app.tenant_id = '{tid}'")  # a parsed UUID, as rapport.db does
        for name, (args, sql, params) in queries().items():
            args = {**args, "limit": "50"}

            def ours(args=args):
                page = listing.fetch("contacts", args, member, audience="api")
                assert len(page.items) == 50

            def hand(sql=sql, params=params):
                rows = conn.execute(sql, (tid, *params)).fetchall()
                assert len(rows) == 51

            # interleave rounds so that drift (cache, autovacuum, neighbours) hits both alike
            mine, theirs = [], []
            for _round in range(4):
                mine += time_calls(ours, count // 4, 20)
                theirs += time_calls(hand, count // 4, 20)
            out[name] = {"rapport": summary(mine), "sql": summary(theirs)}
            out[name]["ratio"] = out[name]["rapport"]["p50"] / out[name]["sql"]["p50"]
            out[name]["plan"] = [r[0] for r in conn.execute("EXPLAIN " + sql, (tid, *params)).fetchall()]
        conn.rollback()
        db.session.rollback()
    return out


def measure_create(app, target: dict, plain: dict, count: int) -> dict:
    """crm.create + commit: 20 custom values (largest tenant) vs none (a tenant without fields, and
    an empty ``custom`` in the largest tenant); rounds interleaved."""
    results = {"with 20 custom fields": [], "without (tenant with no fields)": [], "without (same tenant, empty custom)": []}
    counter = iter(range(10**9))

    def make(where: dict, payload):
        with tenancy.tenant_scope(where["id"]):
            g.tenant = db.session.get(Tenant, where["id"])
            crm.create("contacts", payload(next(counter)), ACTOR)
            db.session.commit()

    plans = {
        "with 20 custom fields": (target, create_payload),
        "without (tenant with no fields)": (plain, lambda i: {"first_name": "Bench", "last_name": f"New{i}"}),
        "without (same tenant, empty custom)": (target, lambda i: {"first_name": "Bench", "last_name": f"New{i}"}),
    }
    with app.app_context():
        for _round in range(5):
            for label, (where, payload) in plans.items():
                results[label] += time_calls(lambda where=where, payload=payload: make(where, payload), count // 5, 10)
    out = {label: summary(samples) for label, samples in results.items()}
    base = out["without (tenant with no fields)"]["p50"]
    for label in out:
        out[label]["ratio"] = out[label]["p50"] / base
    return out


def run(server_url: str, scale: float, count: int, creates: int) -> dict:
    tenants = max(2, round(1000 * scale))
    largest = round(200_000 * scale)
    others = round(800_000 * scale)
    per_tenant = [largest] + [others // (tenants - 1)] * (tenants - 1)
    name = f"rapport_bench_cf_{uuid.uuid4().hex[:6]}"
    owner_url, app_url = create_postgres_database(server_url, name)
    instance = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    timings = {}
    try:
        started = time.perf_counter()
        seed_app = make_test_app({"url": owner_url, "owner_url": owner_url}, instance)
        made = provision(seed_app, tenants + 1, "bench password 1")
        plain, made = made[-1], made[:-1]  # a tenant with no custom fields, for the create baseline
        timings["provision"] = time.perf_counter() - started
        define_fields(seed_app, made)
        timings["definitions"] = time.perf_counter() - started
        total = copy_contacts(plain_dsn(owner_url), made, per_tenant, custom=custom_values)
        timings["copy"] = time.perf_counter() - started
        fill_side_table(plain_dsn(owner_url))
        timings["side table"] = time.perf_counter() - started
        app = make_test_app({"url": app_url, "owner_url": owner_url}, instance)
        target = made[0]
        result = {
            "contacts": total, "tenants": tenants, "largest": largest, "fields": len(FIELDS),
            "queries": measure_queries(app, plain_dsn(app_url), target, count),
            "create": measure_create(app, target, plain, creates),
        }
        timings["total"] = time.perf_counter() - started
        result["timings"] = timings
        return result
    finally:
        db.session.remove()
        drop_postgres_database(server_url, name)


def markdown(r: dict) -> str:
    lines = [
        f"Custom-field benchmark: {r['contacts']:,} contacts over {r['tenants']:,} tenants (largest {r['largest']:,}), "
        f"{r['fields']} custom fields each (3 filterable), PostgreSQL, {platform.processor() or platform.machine()}; "
        "Rapport = listing.fetch in-process (app role, RLS), SQL = hand-written psycopg on the same indexes.",
        "",
        "| query (largest tenant, 50 rows) | Rapport p50 | Rapport p99 | SQL p50 | SQL p99 | ratio p50 | target |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, q in r["queries"].items():
        lines.append(f"| {name} | {q['rapport']['p50']:.2f} ms | {q['rapport']['p99']:.2f} ms | {q['sql']['p50']:.2f} ms "
                     f"| {q['sql']['p99']:.2f} ms | {q['ratio']:.2f} | p50 < 20 ms, ratio < 1.5 |")
    lines += ["", "| create a contact (crm.create + commit) | p50 | p99 | ratio to baseline | target |", "| --- | --- | --- | --- | --- |"]
    for label, c in r["create"].items():
        lines.append(f"| {label} | {c['p50']:.2f} ms | {c['p99']:.2f} ms | {c['ratio']:.2f} | "
                     f"{'< 1.5' if label.startswith('with') else 'baseline' if 'no fields' in label else ''} |")
    lines += ["", "Seeding (cumulative seconds): " + ", ".join(f"{k} {v:.0f}" for k, v in r["timings"].items())]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1/postgres")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full data set (e.g. 0.05)")
    parser.add_argument("--queries", type=int, default=400, help="timed calls per query and side")
    parser.add_argument("--creates", type=int, default=500, help="timed creates per variant")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    result = run(args.server_url, args.scale, args.queries, args.creates)
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
