"""Safe changes to live fields: counts first, dry runs, conversions and the refusal to lose data."""
from __future__ import annotations

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from rapport import crm, tenancy
from rapport.db import db
from rapport.fields.changes import CONVERSIONS, apply_change, impact, plan
from rapport.models import AuditEvent, Contact
from tests.api.conftest import ApiClient, token_for
from tests.fields.conftest import OPERATOR

OPTIONS = [{"value": "retail", "label": "Retail"}, {"value": "tech", "label": "Technology"},
           {"value": "farm", "label": "Farming"}]


def _contact(custom: dict) -> Contact:
    contact = crm.create("contacts", {"first_name": "Ada", "last_name": "Li", "custom": custom}, OPERATOR)
    db.session.commit()
    return contact


def _values(key: str) -> dict:
    db.session.expire_all()
    return {c.id: (c.custom or {}).get(key) for c in db.session.scalars(select(Contact))}


def test_label_and_option_label_changes_touch_no_data(shop):
    definition = shop.define(key="industry", type="select", options=OPTIONS)
    contact = _contact({"industry": "tech"})
    relabelled = [{**o, "label": o["label"].upper()} for o in OPTIONS]
    p = plan(definition, {"label": "Sector", "options": relabelled})
    assert impact(p).affected == 0 and not p.rewrites
    done = apply_change(shop.tenant, definition, {"label": "Sector", "options": relabelled}, OPERATOR)
    db.session.commit()
    assert done.affected == 0 and definition.label == "Sector" and definition.options[1]["label"] == "TECHNOLOGY"
    assert _values("industry") == {contact.id: "tech"}


def test_removing_an_option_counts_then_clears_it(shop):
    definition = shop.define(key="industry", type="select", options=OPTIONS)
    holders = [_contact({"industry": "farm"}).id for _ in range(3)]
    other = _contact({"industry": "retail"}).id
    change = {"options": OPTIONS[:2]}
    found = impact(plan(definition, change))
    assert found.affected == 3 and sorted(found.sample) == sorted(map(str, holders))
    assert _values("industry")[holders[0]] == "farm"  # the dry run wrote nothing
    done = apply_change(shop.tenant, definition, change, OPERATOR)
    db.session.commit()
    assert done.affected == 3
    assert _values("industry") == {**{h: None for h in holders}, other: "retail"}


def test_removing_an_option_from_a_multi_select_keeps_the_others(shop):
    definition = shop.define(key="tags", type="multi_select", options=OPTIONS)
    both = _contact({"tags": ["retail", "farm"]}).id
    only = _contact({"tags": ["farm"]}).id
    apply_change(shop.tenant, definition, {"options": OPTIONS[:2]}, OPERATOR)
    db.session.commit()
    assert _values("tags") == {both: ["retail"], only: None}


def test_turning_on_required_counts_records_without_a_value(shop):
    definition = shop.define(key="tier", type="text")
    empty = [_contact({}).id for _ in range(2)]
    _contact({"tier": "gold"})
    found = impact(plan(definition, {"required": True}))
    assert found.affected == 2 and sorted(found.sample) == sorted(map(str, empty))
    apply_change(shop.tenant, definition, {"required": True}, OPERATOR)
    db.session.commit()
    assert definition.required is True and len(_values("tier")) == 3  # no data touched


@pytest.mark.parametrize("old, new, config, stored, expected", [
    ("text", "long_text", {}, "hello", "hello"),
    ("long_text", "text", {}, "hello", "hello"),
    ("number", "text", {}, 42, "42"),
    ("number", "currency", {"currency": "EUR"}, 42, 42),
    ("currency", "number", {}, 12.5, 12.5),
    ("select", "multi_select", {}, "tech", ["tech"]),
    ("select", "text", {}, "tech", "Technology"),
    ("multi_select", "text", {}, ["retail", "tech"], "Retail, Technology"),
    ("email", "text", {}, "ada@example.com", "ada@example.com"),
    ("phone", "text", {}, "+8613800138000", "+8613800138000"),
    ("url", "text", {}, "https://example.com/", "https://example.com/"),
    ("date", "datetime", {}, "2026-01-31", "2026-01-31T00:00:00Z"),
    ("text", "number", {}, "17", 17),
])
def test_each_conversion(shop, old, new, config, stored, expected):
    assert (old, new) in CONVERSIONS
    extra = {"options": OPTIONS} if "select" in old else {}
    if old == "currency":
        extra["config"] = {"currency": "EUR"}
    definition = shop.define(key="f", type=old, **extra)
    contact = _contact({"f": stored}).id
    change = {"type": new, **({"config": config} if config else {})}
    found = impact(plan(definition, change))
    assert found.affected == 1 and found.unconvertible == []
    apply_change(shop.tenant, definition, change, OPERATOR)
    db.session.commit()
    assert definition.type == new and _values("f") == {contact: expected}


def test_undefined_conversion_is_refused(shop):
    definition = shop.define(key="when", type="date")
    with pytest.raises(ValidationError) as caught:
        apply_change(shop.tenant, definition, {"type": "boolean"}, OPERATOR)
    assert "type" in caught.value.messages
    db.session.rollback()
    assert definition.type == "date"


def test_text_to_select_maps_values_and_refuses_to_lose_the_rest(shop):
    definition = shop.define(key="industry", type="text")
    shop_ = _contact({"industry": "Shop"}).id
    tech = _contact({"industry": "tech"}).id  # already an option value
    odd = _contact({"industry": "Mining"}).id
    change = {"type": "select", "options": OPTIONS, "mapping": {"Shop": "retail"}}
    found = impact(plan(definition, change))
    assert found.affected == 3 and found.unconvertible == [{"id": str(odd), "value": "Mining"}]
    with pytest.raises(ValidationError) as caught:
        apply_change(shop.tenant, definition, change, OPERATOR)
    assert "type" in caught.value.messages
    db.session.rollback()
    assert _values("industry") == {shop_: "Shop", tech: "tech", odd: "Mining"}
    done = apply_change(shop.tenant, definition, change, OPERATOR, drop_unconvertible=True)
    db.session.commit()
    assert done.unconvertible_count == 1
    assert _values("industry") == {shop_: "retail", tech: "tech", odd: None}
    assert definition.type == "select"


def test_a_mapping_to_a_missing_option_names_mapping(shop):
    definition = shop.define(key="industry", type="text")
    with pytest.raises(ValidationError) as caught:
        plan(definition, {"type": "select", "options": OPTIONS, "mapping": {"Shop": "grocery"}})
    assert "mapping" in caught.value.messages


# -- through the API -------------------------------------------------------------------------------

@pytest.fixture
def acme(world):
    return world.tenant("acme", owner_email="owner@acme.test")


@pytest.fixture
def api(client, acme):
    return ApiClient(client, "acme", token_for(acme, "owner@acme.test"))


def _make_contacts(api, values):
    ids = []
    for value in values:
        body = {"first_name": "A", "last_name": "B", "custom": {} if value is None else {"size": value}}
        response = api.post("/contacts", json=body)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


def test_api_dry_run_then_apply_an_option_removal(api, acme):
    api.post("/fields/contacts", json={"key": "size", "label": "Size", "type": "select", "options": OPTIONS})
    ids = _make_contacts(api, ["farm", "farm", "tech"])
    dry = api.patch("/fields/contacts/size?dry_run=true", json={"options": OPTIONS[:2]})
    assert dry.status_code == 200 and dry.get_json() == {"affected": 2, "sample": ids[:2]}
    assert len(api.get("/fields/contacts/size").get_json()["options"]) == 3  # nothing written
    applied = api.patch("/fields/contacts/size", json={"options": OPTIONS[:2]})
    assert applied.status_code == 200 and len(applied.get_json()["options"]) == 2
    assert [api.get(f"/contacts/{i}").get_json()["custom"] for i in ids] == [{}, {}, {"size": "tech"}]
    with tenancy.tenant_scope(acme.id):
        audited = db.session.scalars(select(AuditEvent.changes).where(AuditEvent.record_type == "field_definitions"))
        assert any("records_rewritten" in (c or {}) for c in audited)


def test_api_type_change_dry_run_refusal_and_drop(api):
    api.post("/fields/contacts", json={"key": "size", "label": "Size", "type": "text"})
    ids = _make_contacts(api, ["12", "about 40", None])
    dry = api.patch("/fields/contacts/size?dry_run=1", json={"type": "number"})
    assert dry.get_json() == {"affected": 2, "sample": ids[:2], "unconvertible_count": 1,
                              "unconvertible": [{"id": ids[1], "value": "about 40"}]}
    refused = api.patch("/fields/contacts/size", json={"type": "number"})
    assert refused.status_code == 422 and "type" in refused.get_json()["errors"]
    assert api.get("/fields/contacts/size").get_json()["type"] == "text"
    assert api.get(f"/contacts/{ids[0]}").get_json()["custom"] == {"size": "12"}
    bad = api.patch("/fields/contacts/size", json={"type": "number", "drop_unconvertible": "yes"})
    assert bad.status_code == 422 and "drop_unconvertible" in bad.get_json()["errors"]
    done = api.patch("/fields/contacts/size", json={"type": "number", "drop_unconvertible": True})
    assert done.status_code == 200 and done.get_json()["type"] == "number"
    assert [api.get(f"/contacts/{i}").get_json()["custom"] for i in ids] == [{"size": 12}, {}, {}]
    undefined = api.patch("/fields/contacts/size", json={"type": "date"})
    assert undefined.status_code == 422 and "type" in undefined.get_json()["errors"]


def test_api_required_dry_run_counts_empty_records(api):
    api.post("/fields/contacts", json={"key": "size", "label": "Size", "type": "text"})
    ids = _make_contacts(api, [None, "x", None])
    dry = api.patch("/fields/contacts/size?dry_run=true", json={"required": True})
    assert dry.get_json() == {"affected": 2, "sample": [ids[0], ids[2]]}
    assert api.get("/fields/contacts/size").get_json()["required"] is False


def test_rewrites_stay_inside_the_tenant(api, client, world, acme):
    bravo = world.tenant("bravo", owner_email="owner@bravo.test")
    on_bravo = ApiClient(client, "bravo", token_for(bravo, "owner@bravo.test"))
    for side in (api, on_bravo):
        side.post("/fields/contacts", json={"key": "size", "label": "Size", "type": "select", "options": OPTIONS})
    theirs = _make_contacts(on_bravo, ["farm"])
    _make_contacts(api, ["farm"])
    assert api.patch("/fields/contacts/size?dry_run=true", json={"options": OPTIONS[:2]}).get_json()["affected"] == 1
    api.patch("/fields/contacts/size", json={"options": OPTIONS[:2]})
    assert on_bravo.get(f"/contacts/{theirs[0]}").get_json()["custom"] == {"size": "farm"}


def test_filters_follow_a_rewrite_of_a_filterable_field(api):
    api.post("/fields/contacts", json={"key": "size", "label": "Size", "type": "text", "filterable": True})
    ids = _make_contacts(api, ["12", "7", "lots"])
    api.patch("/fields/contacts/size", json={"type": "number", "drop_unconvertible": True})
    found = api.get("/contacts?custom.size=12")
    assert found.status_code == 200, found.get_json()
    assert [c["id"] for c in found.get_json()["items"]] == [ids[0]]
    assert api.get("/contacts?custom.size=lots").status_code == 422  # no longer a number field
