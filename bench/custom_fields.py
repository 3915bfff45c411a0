"""Benchmark: lists filtered and sorted by custom fields, and the cost of custom values on create.

On PostgreSQL: 1,000,000 contacts over 1,000 tenants (the largest with 200,000), 20 custom fields
each (3 of them flagged ``filterable``: a select, a number, a date). In the largest tenant it times,
through the API's code path in-process (``listing.fetch`` with the API's columns, under the app role,
so row-level security applies), and against hand-written SQL on the same indexes (psycopg, same role, same tenant setting);
each side runs its calls inside one open transaction, so both time the query work and not set-up:

  1. filter by the custom select (``custom.industry=retail``), default sort;
  2. filter by a custom number range (``custom.employees__gte=..&custom.employees__lte=..``);
  3. sort by the custom date (``sort=custom.signed``), records without one last;
  4. (not in the issue) filter by a rare custom number (0.1%), to show the other plan still serves it;

each Rapport page is checked to hold the same records as the hand-written SQL's. Then it times creating
a contact through ``crm.create`` (+ commit) with 20 custom values against one without any (in a tenant
with no custom fields, and with an empty ``custom`` in the same tenant).

    python -m bench.custom_fields [--scale 0.05] [--server-url postgresql+psycopg://postgres@127.0.0.1/postgres]
    python -m bench.custom_fields --keep              # keep the seeded database, then, without seeding:
    python -m bench.custom_fields --reuse rapport_bench_cf_xxxxxx

The first tenant's definitions are made through the real code (``create_definition``) and copied to
the other tenants by one INSERT ... SELECT; contacts by COPY (bench.seed),
and the side table ``custom_values`` is filled from the contacts' JSON with one INSERT ... SELECT per
filterable field (the same typed values ``rapport.fields.query.side_rows`` writes).
Targets (issue 3): p50 under 20 ms and within 1.5x the hand-written SQL; create at most 1.5x.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg.rows import namedtuple_row
from flask import g
from sqlalchemy.engine import make_url

from rapport import crm, listing, tenancy
from rapport.api.serialize import columns_for
from rapport.db import db
from rapport.fields import query as custom_query
from rapport.fields.definitions import create_definition
from rapport.migrate import APP_ROLE
from rapport.models import FieldDefinition, Membership, Tenant
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
RARE_FROM = 99_900  # about 0.1% of the tenant


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


def define_fields(app, tenants: list[dict], dsn: str) -> None:
    """The 20 definitions through the real code in the first tenant, then copied row for row to the
    others by one INSERT ... SELECT (20,000 definitions one by one took 8 minutes)."""
    first = tenants[0]
    with app.app_context(), tenancy.tenant_scope(first["id"]):
        tenant = db.session.get(Tenant, first["id"])
        g.tenant = tenant
        for key, type_, extra in FIELDS:
            create_definition(tenant, "contacts", {"key": key, "label": key.title(), "type": type_, **extra}, ACTOR)
        version = tenant.fields_version
        db.session.commit()
    columns = [f'"{c.name}"' for c in FieldDefinition.__table__.columns if c.name not in ("tenant_id", "id")]
    others = [t["id"] for t in tenants[1:]]
    with psycopg.connect(dsn) as conn:
        conn.execute(
            f"INSERT INTO field_definitions (tenant_id, id, {', '.join(columns)}) "
            f"SELECT t.id, gen_random_uuid(), {', '.join('d.' + c for c in columns)} "
            "FROM field_definitions d CROSS JOIN unnest(%s::uuid[]) AS t(id) WHERE d.tenant_id = %s",
            (others, first["id"]),
        )
        conn.execute("UPDATE tenants SET fields_version = %s WHERE id = ANY(%s)", (version, others))


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
    """name -> (list arguments, the hand-written SQL, its parameters after the tenant).

    The hand-written filters are what someone who knows the data writes: a common value (10% and 5% of
    the tenant) walks the name index and probes custom_values per record (``OFFSET 0`` keeps
    PostgreSQL from turning the probe into a join that fetches and sorts every match, its choice here);
    a rare one (0.1%) fetches its matches and sorts them. Rapport has to find out which case it is in."""
    lo, hi = FILTER_RANGE
    probe = ("EXISTS (SELECT 1 FROM custom_values v WHERE v.tenant_id = c.tenant_id AND v.record_type = 'contacts' "
             "AND v.field_key = %s AND v.record_id = c.id AND {cond}{fence})")
    walk, join = probe.replace("{fence}", " OFFSET 0"), probe.replace("{fence}", "")
    by_name = "ORDER BY c.last_name, c.id LIMIT 51"
    return {
        "filter by custom select": (
            {"custom.industry": "retail"},
            f"SELECT c.* FROM contacts c WHERE c.tenant_id = %s AND {walk.format(cond='v.value_text = %s')} {by_name}",
            ("industry", "retail"),
        ),
        "filter by custom number range": (
            {"custom.employees__gte": str(lo), "custom.employees__lte": str(hi)},
            f"SELECT c.* FROM contacts c WHERE c.tenant_id = %s "
            f"AND {walk.format(cond='v.value_num >= %s AND v.value_num <= %s')} {by_name}",
            ("employees", float(lo), float(hi)),
        ),
        "sort by custom date": (
            {"sort": "custom.signed"},
            "SELECT c.* FROM contacts c JOIN custom_values v ON v.tenant_id = c.tenant_id AND v.record_id = c.id "
            "AND v.record_type = 'contacts' AND v.field_key = 'signed' AND v.tenant_id = c.tenant_id WHERE c.tenant_id = %s "
            "ORDER BY v.value_text, v.record_id LIMIT 51",
            (),
        ),
        "filter by rare custom number (not in the issue)": (
            {"custom.employees__gte": str(RARE_FROM)},
            f"SELECT c.* FROM contacts c WHERE c.tenant_id = %s AND {join.format(cond='v.value_num >= %s')} {by_name}",
            ("employees", float(RARE_FROM)),
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
    columns = columns_for("contacts")  # what the API's list selects
    with psycopg.connect(app_dsn, row_factory=namedtuple_row) as conn, app.app_context(), tenancy.tenant_scope(tid):
        tenant = db.session.get(Tenant, tid)
        member = grant(db.session.get(Membership, (tid, target["owner_id"])))
        g.tenant, g.actor = tenant, ACTOR
        conn.execute(f"SET app.tenant_id = '{tid}'")  # a parsed UUID, as rapport.db does
        for name, (args, sql, params) in queries().items():
            args = {**args, "limit": "50"}

            def ours(args=args):
                return listing.fetch("contacts", args, member, audience="api", columns=columns).items

            def ours_counting(args=args):
                """A filter's first page: the plan-picking count is not remembered yet."""
                custom_query._decisions.data.clear()
                return ours(args)

            def hand(sql=sql, params=params):
                return conn.execute(sql, (tid, *params)).fetchall()

            expected = [row.id for row in hand()][:50]  # both sides must give the same page
            assert expected and [record.id for record in ours()] == expected, name
            sides = {"rapport": ours, "sql": hand}
            if any(key.startswith(custom_query.PREFIX) for key in args):
                sides["rapport, first page"] = ours_counting
            # interleave rounds so that drift (cache, autovacuum, neighbours) hits every side alike
            samples, load = {side: [] for side in sides}, [os.getloadavg()[0]]
            for _round in range(4):
                for side, call in sides.items():
                    samples[side] += time_calls(call, count // 4, 20)
            load.append(os.getloadavg()[0])
            out[name] = {side: summary(times) for side, times in samples.items()}
            out[name].update(load=load, rows=len(expected), ratio=out[name]["rapport"]["p50"] / out[name]["sql"]["p50"])
            out[name]["plan"] = [r[0] for r in conn.execute("EXPLAIN " + sql, (tid, *params)).fetchall()]
        conn.rollback()
        db.session.rollback()
    return out


def measure_create(app, target: dict, plain: dict, count: int) -> dict:
    """crm.create + commit: 20 custom values (largest tenant) vs none (a tenant without fields, and
    an empty ``custom`` in the largest tenant); rounds interleaved."""
    results = {"with 20 custom fields": [], "without (tenant with no fields)": [], "without (same tenant, empty custom)": []}
    calls = count + 50  # timed calls and warm-ups of one variant
    plain_payloads = [{"first_name": "Bench", "last_name": f"New{i}"} for i in range(3 * calls)]
    plans = {  # payloads made beforehand: making them is not part of a create
        "with 20 custom fields": (target, iter([create_payload(i) for i in range(calls)])),
        "without (tenant with no fields)": (plain, iter(plain_payloads[:calls])),
        "without (same tenant, empty custom)": (target, iter(plain_payloads[calls:])),
    }

    def make(where: dict, payloads):
        with tenancy.tenant_scope(where["id"]):
            g.tenant = db.session.get(Tenant, where["id"])
            crm.create("contacts", next(payloads), ACTOR)
            db.session.commit()

    load = [os.getloadavg()[0]]
    with app.app_context():
        for _round in range(5):
            for label, (where, payloads) in plans.items():
                results[label] += time_calls(lambda where=where, payloads=payloads: make(where, payloads), count // 5, 10)
    load.append(os.getloadavg()[0])
    out = {label: {**summary(samples), "load": load} for label, samples in results.items()}
    base = out["without (tenant with no fields)"]["p50"]
    for label in out:
        out[label]["ratio"] = out[label]["p50"] / base
    return out


def seed(owner_url: str, scale: float, instance: Path, timings: dict) -> dict:
    """Fill a migrated database; return what the measurements need (also stored for ``--reuse``)."""
    tenants = max(2, round(1000 * scale))
    largest = round(200_000 * scale)
    others = round(800_000 * scale)
    per_tenant = [largest] + [others // (tenants - 1)] * (tenants - 1)
    started = time.perf_counter()
    seed_app = make_test_app({"url": owner_url, "owner_url": owner_url}, instance)
    made = provision(seed_app, tenants + 1, "bench password 1")
    plain, made = made[-1], made[:-1]  # a tenant with no custom fields, for the create baseline
    timings["provision"] = time.perf_counter() - started
    define_fields(seed_app, made, plain_dsn(owner_url))
    timings["definitions"] = time.perf_counter() - started
    total = copy_contacts(plain_dsn(owner_url), made, per_tenant, custom=custom_values)
    timings["copy"] = time.perf_counter() - started
    fill_side_table(plain_dsn(owner_url))
    timings["side table"] = time.perf_counter() - started
    db.session.remove()
    info = {"contacts": total, "tenants": tenants, "largest": largest, "target": made[0], "plain": plain}
    with psycopg.connect(plain_dsn(owner_url)) as conn:  # for --reuse
        conn.execute("CREATE TABLE bench_info (info text)")
        conn.execute("INSERT INTO bench_info VALUES (%s)", (json.dumps(info, default=str),))
    return info


def reused(owner_url: str) -> dict:
    with psycopg.connect(plain_dsn(owner_url)) as conn:
        info = json.loads(conn.execute("SELECT info FROM bench_info").fetchone()[0])
    for key in ("target", "plain"):
        info[key] = {**info[key], "id": uuid.UUID(info[key]["id"]), "owner_id": uuid.UUID(info[key]["owner_id"])}
    return info


def run(server_url: str, scale: float, count: int, creates: int, keep: bool = False, reuse: str | None = None) -> dict:
    name = reuse or f"rapport_bench_cf_{uuid.uuid4().hex[:6]}"
    if reuse:
        owner = make_url(server_url).set(database=name)
        owner_url = owner.render_as_string(hide_password=False)
        app_url = owner.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)
    else:
        owner_url, app_url = create_postgres_database(server_url, name)
    instance = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    timings = {}
    try:
        started = time.perf_counter()
        info = reused(owner_url) if reuse else seed(owner_url, scale, instance, timings)
        app = make_test_app({"url": app_url, "owner_url": owner_url}, instance)
        result = {
            "contacts": info["contacts"], "tenants": info["tenants"], "largest": info["largest"], "fields": len(FIELDS),
            "queries": measure_queries(app, plain_dsn(app_url), info["target"], count),
            "create": measure_create(app, info["target"], info["plain"], creates),
        }
        timings["total"] = time.perf_counter() - started
        result["timings"] = timings
        return result
    finally:
        db.session.remove()
        if keep or reuse:
            print(f"database kept: {name} (--reuse {name})")
        else:
            drop_postgres_database(server_url, name)


def _load(figures: dict) -> str:
    return "-".join(f"{x:.1f}" for x in figures["load"])


def markdown(r: dict) -> str:
    lines = [
        f"Custom-field benchmark: {r['contacts']:,} contacts over {r['tenants']:,} tenants (largest {r['largest']:,}), "
        f"{r['fields']} custom fields each (3 filterable), PostgreSQL, {platform.processor() or platform.machine()}; "
        "Rapport = listing.fetch in-process as the API calls it (app role, RLS), SQL = hand-written psycopg on the same indexes; "
        "first page = the same call with the plan-picking count not remembered (a filter's first page; "
        "later pages and reloads reuse the count for a minute); load = 1-minute load average before-after.",
        "",
        "| query (largest tenant, 50 rows) | Rapport p50 | Rapport p99 | SQL p50 | SQL p99 | ratio p50 "
        "| first page p50 (ratio) | load | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, q in r["queries"].items():
        target = "p50 < 20 ms, ratio < 1.5" if "not in the issue" not in name else ""
        first = q.get("rapport, first page")
        first = f"{first['p50']:.2f} ms ({first['p50'] / q['sql']['p50']:.2f})" if first else "-"
        lines.append(f"| {name} | {q['rapport']['p50']:.2f} ms | {q['rapport']['p99']:.2f} ms | {q['sql']['p50']:.2f} ms "
                     f"| {q['sql']['p99']:.2f} ms | {q['ratio']:.2f} | {first} | {_load(q)} | {target} |")
    lines += ["", "| create a contact (crm.create + commit) | p50 | p99 | ratio to baseline | load | target |",
              "| --- | --- | --- | --- | --- | --- |"]
    for label, c in r["create"].items():
        lines.append(f"| {label} | {c['p50']:.2f} ms | {c['p99']:.2f} ms | {c['ratio']:.2f} | {_load(c)} | "
                     f"{'<= 1.5' if label.startswith('with ') else 'baseline' if 'no fields' in label else ''} |")
    lines += ["", "Seeding (cumulative seconds): " + ", ".join(f"{k} {v:.0f}" for k, v in r["timings"].items())]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1/postgres")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full data set (e.g. 0.05)")
    parser.add_argument("--queries", type=int, default=400, help="timed calls per query and side")
    parser.add_argument("--creates", type=int, default=500, help="timed creates per variant")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database (for --reuse)")
    parser.add_argument("--reuse", metavar="DATABASE", help="measure a database kept by --keep, without seeding")
    args = parser.parse_args()
    result = run(args.server_url, args.scale, args.queries, args.creates, args.keep, args.reuse)
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
