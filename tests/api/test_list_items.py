"""A list answers each record exactly as reading it does: list items are built from plain rows (or,
sorted by a custom field, from ORM objects), a read from the ORM object, and the reader sees the same
custom fields either way."""
from __future__ import annotations

import pytest
from flask import g

from rapport import tenancy
from rapport.db import db
from rapport.fields.definitions import create_definition
from rapport.pipeline import Actor

OPERATOR = Actor.operator()


@pytest.mark.parametrize("record_type, data", [
    ("accounts", {"name": "Northwind", "website": "https://northwind.example"}),
    ("contacts", {"first_name": "王", "last_name": "伟", "email": "wang@example.com"}),
    ("leads", {"name": "Janet", "value": "1234.50", "stage": "prospect"}),
    ("activities", {"kind": "task", "subject": "Call back", "due_at": "2026-12-01T10:00:00+02:00"}),
])
def test_a_list_item_is_the_record_as_read(api, record_type, data):
    made = api.create(record_type, **data)
    listed = api.get(f"/{record_type}").get_json()["items"]
    assert listed == [api.get(f"/{record_type}/{made['id']}").get_json()] == [made]


@pytest.fixture
def with_fields(acme):
    with tenancy.tenant_scope(acme.id):
        g.tenant = acme
        create_definition(acme, "contacts", {"key": "tier", "label": "Tier", "type": "text"}, OPERATOR)
        create_definition(acme, "contacts", {"key": "rank", "label": "Rank", "type": "number"}, OPERATOR)
        create_definition(acme, "contacts", {"key": "secret", "label": "Secret", "type": "text",
                                             "roles": ["owner", "admin"]}, OPERATOR)
        db.session.commit()
    return acme


@pytest.mark.parametrize("sort", ["last_name", "custom.rank"])
def test_list_items_show_the_custom_fields_the_reader_may_see(api, api_as, with_fields, sort):
    for rank, name in enumerate(("Ames", "Bell")):
        api.create("contacts", last_name=name, custom={"tier": "gold", "rank": rank, "secret": "s3cret"})
    agent = api_as("agent")
    for reader, shown in ((api, {"tier", "rank", "secret"}), (agent, {"tier", "rank"})):
        items = reader.get(f"/contacts?sort={sort}").get_json()["items"]
        assert [item["last_name"] for item in items] == ["Ames", "Bell"]
        assert [set(item["custom"]) for item in items] == [shown, shown]
        assert items == [reader.get(f"/contacts/{item['id']}").get_json() for item in items]
