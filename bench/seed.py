"""Seeding a benchmark database quickly: tenants through the real provisioning code, records by COPY."""
from __future__ import annotations

import datetime as dt
import random

import psycopg
from sqlalchemy import select
from uuid_utils.compat import uuid7

from rapport import tenancy
from rapport.models import Membership
from rapport.db import db
from rapport.provisioning import create_tenant

FIRST = ["Ann", "Bob", "Chen", "Dana", "Eve", "Femi", "Gus", "Hana", "Ivan", "Jia", "Kofi", "Lena", "伟", "芳"]
LAST = ["Smith", "Jones", "Wang", "Li", "García", "Müller", "Okafor", "Tanaka", "Rossi", "Novak", "王", "张"]


def provision(app, tenants: int, password: str) -> list[dict]:
    """Create ``tenants`` tenants with an owner and an agent each; return their ids."""
    out = []
    with app.app_context():
        for n in range(tenants):
            tenant = create_tenant(f"bench-{n:04d}", f"Bench {n}", f"owner{n}@bench.test", password)
            db.session.flush()
            with tenancy.tenant_scope(tenant.id):
                owner = db.session.scalar(select(Membership))
            out.append({"id": tenant.id, "slug": tenant.slug, "owner_id": owner.id, "email": f"owner{n}@bench.test"})
        db.session.commit()
    return out


def copy_contacts(dsn: str, tenants: list[dict], per_tenant: list[int], custom=None, seed: int = 7) -> int:
    """COPY contacts into the database; ``custom(rng, i)`` may return each row's custom values."""
    rng = random.Random(seed)
    base = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    total = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        columns = "tenant_id, id, first_name, last_name, email, phone, owner_id, custom, created_at, updated_at"
        with cur.copy(f"COPY contacts ({columns}) FROM STDIN") as copy:
            for tenant, count in zip(tenants, per_tenant):
                for i in range(count):
                    created = base + dt.timedelta(seconds=rng.randrange(0, 60 * 24 * 3600))
                    owner = tenant["owner_id"] if rng.random() < 0.5 else None
                    values = custom(rng, i) if custom else {}
                    copy.write_row((
                        tenant["id"], uuid7(), rng.choice(FIRST), rng.choice(LAST), f"c{i}@t{tenant['slug']}.test",
                        f"+1 555 {rng.randrange(10**6, 10**7)}", owner, psycopg.types.json.Jsonb(values), created, created,
                    ))
                    total += 1
        conn.commit()
        conn.execute("ANALYZE contacts")
    return total


def plain_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://")

