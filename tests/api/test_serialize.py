"""The fast record dumper answers exactly what the documented output schemas describe."""
import datetime as dt
import decimal

import pytest

from rapport import crm, tenancy
from rapport.api.schemas import OUTPUT_SCHEMAS
from rapport.api.serialize import dump
from rapport.db import db
from rapport.pipeline import Actor

ACTOR = Actor("member", None, "tester", "api")


@pytest.mark.parametrize("record_type, data", [
    ("accounts", {"name": "Northwind", "website": "https://northwind.example", "phone": "+1 555 0100"}),
    ("contacts", {"first_name": "王", "last_name": "伟", "email": "wang@example.com"}),
    ("leads", {"name": "Janet", "value": "1234.50", "stage": "prospect"}),
    ("activities", {"kind": "task", "subject": "Call back", "due_at": "2026-12-01T10:00:00+02:00"}),
])
def test_fast_dump_equals_schema_dump(world, record_type, data):
    tenant = world.tenant("acme")
    from flask import g

    g.tenant = tenant
    with tenancy.tenant_scope(tenant.id):
        record = crm.create(record_type, data, ACTOR)
        db.session.commit()
        db.session.expire_all()
        record = db.session.get(type(record), (tenant.id, record.id))
        expected = OUTPUT_SCHEMAS[record_type]().dump(record)
        assert dump(record) == expected
        assert set(expected) >= {"id", "created_at", "owner_id"}


def test_fast_dump_handles_naive_datetimes_and_decimals(world):
    from rapport.models import Lead

    lead = Lead(id=__import__("uuid").uuid4(), name="x", value=decimal.Decimal("5.00"), stage="target",
                created_at=dt.datetime(2026, 1, 2, 3, 4, 5), updated_at=dt.datetime(2026, 1, 2, 3, 4, 5),
                stage_changed_at=dt.datetime(2026, 1, 2, 3, 4, 5), custom={}, tenant_id=__import__("uuid").uuid4())
    assert dump(lead) == OUTPUT_SCHEMAS["leads"]().dump(lead)
    assert dump(lead)["created_at"] == "2026-01-02T03:04:05+00:00" and dump(lead)["value"] == "5.00"


def test_page_json_is_the_json_of_dump_page(app):
    """The list answer's fast encoding writes ids, times (naive ones as UTC, microseconds, other offsets)
    and decimals exactly as the converted page would be written."""
    import uuid

    import orjson

    from rapport.api.serialize import dump_page, page_json
    from rapport.models import Activity, Lead

    tenant_id = uuid.uuid4()
    naive = dt.datetime(2026, 1, 2, 3, 4, 5, 120)
    aware = dt.datetime(2026, 5, 6, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    leads = [Lead(id=uuid.uuid4(), name="王伟", value=decimal.Decimal("5.10"), stage="target", created_at=naive,
                  updated_at=aware, stage_changed_at=None, custom={}, tenant_id=tenant_id, owner_id=uuid.uuid4())]
    activities = [Activity(id=uuid.uuid4(), kind="task", subject="<b>call</b>", due_at=aware, done_at=None,
                           created_at=naive, updated_at=naive, tenant_id=tenant_id)]
    for record_type, records in (("leads", leads), ("activities", activities)):
        expected = {"items": dump_page(record_type, records), "next_cursor": "abc"}
        assert orjson.loads(page_json(record_type, records, "abc")) == expected
    assert orjson.loads(page_json("leads", leads, None))["items"][0]["created_at"] == "2026-01-02T03:04:05.000120+00:00"
