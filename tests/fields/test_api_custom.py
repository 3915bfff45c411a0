"""Custom fields in the API: output shows only what the token's role may see, filters and sort by
custom fields, and the tenant's OpenAPI document describing its real schema."""
from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import select

from rapport import tenancy
from rapport.db import db
from rapport.fields.definitions import create_definition, update_definition
from rapport.models import FieldDefinition
from tests.api.conftest import ApiClient, token_for
from tests.fields.conftest import OPERATOR

TIERS = [{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}]


def define(tenant, record_type="contacts", **data):
    data.setdefault("label", data["key"].title())
    with tenancy.tenant_scope(tenant.id):
        g.tenant = tenant
        create_definition(tenant, record_type, data, OPERATOR)
        db.session.commit()


@pytest.fixture
def acme(world):
    tenant = world.tenant("acme", owner_email="owner@acme.test")
    define(tenant, key="tier", type="select", options=TIERS, filterable=True, help_text="Customer tier")
    define(tenant, key="size", type="number", config={"min": 0, "max": 500})
    define(tenant, key="secret", type="text", roles=["owner", "admin"])
    define(tenant, record_type="leads", key="budget", type="currency", config={"currency": "EUR", "min": 0},
           required=True)
    return tenant


@pytest.fixture
def api(client, acme):
    return ApiClient(client, "acme", token_for(acme, "owner@acme.test"))


@pytest.fixture
def agent(client, world, acme):
    world.member(acme, "agent@acme.test", "agent")
    return ApiClient(client, "acme", token_for(acme, "agent@acme.test"))


def test_filter_and_sort_by_custom_fields_through_the_api(api):
    for name, tier, size in (("A", "gold", 5), ("B", "silver", 50), ("C", "gold", None), ("D", None, 7)):
        custom = {k: v for k, v in (("tier", tier), ("size", size)) if v is not None}
        api.create("contacts", last_name=name, custom=custom)
    body = api.get("/contacts?custom.tier=gold").get_json()
    assert sorted(c["last_name"] for c in body["items"]) == ["A", "C"]
    body = api.get("/contacts?custom.size__gte=6&sort=-custom.size").get_json()
    assert [c["last_name"] for c in body["items"]] == ["B", "D"]
    first = api.get("/contacts?sort=custom.size&limit=2").get_json()
    rest = api.get(f"/contacts?sort=custom.size&limit=2&cursor={first['next_cursor']}").get_json()
    assert [c["last_name"] for c in first["items"] + rest["items"]] == ["A", "D", "B", "C"]
    assert rest["next_cursor"] is None
    problem = api.get("/contacts?custom.size__gte=lots")
    assert problem.status_code == 422 and "custom.size__gte" in problem.get_json()["errors"]
    assert "custom.nope" in api.get("/contacts?custom.nope=1").get_json()["errors"]


def test_field_hidden_from_a_role_is_neither_shown_nor_writable_nor_filterable(api, agent):
    made = api.create("contacts", last_name="Owned", custom={"tier": "gold", "secret": "s3cret"})
    assert made["custom"] == {"tier": "gold", "secret": "s3cret"}
    seen = agent.get(f"/contacts/{made['id']}").get_json()
    assert seen["custom"] == {"tier": "gold"}
    listed = agent.get("/contacts").get_json()["items"]
    assert [c["custom"] for c in listed] == [{"tier": "gold"}]
    assert "s3cret" not in agent.get("/contacts").get_data(as_text=True)
    refused = agent.post("/contacts", json={"last_name": "X", "custom": {"secret": "mine"}})
    assert refused.status_code == 422 and "custom.secret" in refused.get_json()["errors"]
    refused = agent.patch(f"/contacts/{made['id']}", json={"custom": {"secret": "changed"}})
    assert refused.status_code in (403, 422)
    filtered = agent.get("/contacts?custom.secret=s3cret")
    assert filtered.status_code == 422 and "custom.secret" in filtered.get_json()["errors"]
    assert api.get(f"/contacts/{made['id']}").get_json()["custom"]["secret"] == "s3cret"
    # the agent's spec does not mention the hidden field; the owner's does
    assert "secret" not in agent.get("/openapi.json").get_json()["components"]["schemas"]["Contact"]["properties"]["custom"]["properties"]
    assert "secret" in api.get("/openapi.json").get_json()["components"]["schemas"]["Contact"]["properties"]["custom"]["properties"]


def test_archived_field_disappears_from_output(api, acme):
    made = api.create("contacts", last_name="A", custom={"size": 3, "tier": "gold"})
    with tenancy.tenant_scope(acme.id):
        g.tenant = acme
        from rapport.fields.definitions import set_status
        set_status(acme, _definition("size"), "archived", OPERATOR)
        db.session.commit()
    assert api.get(f"/contacts/{made['id']}").get_json()["custom"] == {"tier": "gold"}


def test_openapi_carries_custom_fields_with_types_enums_and_bounds(api):
    spec = api.get("/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    custom = schemas["Contact"]["properties"]["custom"]
    assert custom["properties"]["tier"]["enum"] == ["gold", "silver"]
    assert custom["properties"]["tier"]["description"] == "Customer tier"
    assert custom["properties"]["size"]["minimum"] == 0 and custom["properties"]["size"]["maximum"] == 500
    assert custom["additionalProperties"] is False
    lead_in = schemas["LeadIn"]["properties"]["custom"]
    assert lead_in["required"] == ["budget"] and "EUR" in lead_in["properties"]["budget"]["description"]
    assert "required" not in schemas["LeadInPatch"]["properties"]["custom"]
    listing = spec["paths"]["/contacts"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["custom.tier"]["schema"]["enum"] == ["gold", "silver"]
    assert "custom.size" in params["sort"]["schema"]["enum"] and "-custom.size" in params["sort"]["schema"]["enum"]
    assert "__gte" in listing["description"] and "__empty" in listing["description"]
    assert "custom.tier" not in {p["name"] for p in spec["paths"]["/activities"]["get"]["parameters"]}
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(spec)


def test_openapi_changes_on_the_next_request_after_a_definition_change(api, acme):
    assert api.get("/openapi.json").get_json()["components"]["schemas"]["Contact"]["properties"]["custom"][
        "properties"]["tier"]["enum"] == ["gold", "silver"]
    with tenancy.tenant_scope(acme.id):
        g.tenant = acme
        update_definition(acme, _definition("tier"), {"options": [*TIERS, {"value": "bronze", "label": "Bronze"}]}, OPERATOR)
        db.session.commit()
    spec = api.get("/openapi.json").get_json()
    assert spec["components"]["schemas"]["Contact"]["properties"]["custom"]["properties"]["tier"]["enum"] == [
        "gold", "silver", "bronze"]
    assert api.get("/contacts?custom.tier=bronze").status_code == 200


def test_another_tenants_definitions_never_reach_this_api(api, client, world, acme):
    bravo = world.tenant("bravo", owner_email="owner@bravo.test")
    define(bravo, key="tier", type="number", filterable=True)
    define(bravo, key="bravo_only", type="text", label="Bravo <b>only</b>")
    on_bravo = ApiClient(client, "bravo", token_for(bravo, "owner@bravo.test"))
    on_bravo.create("contacts", last_name="Z", custom={"tier": 3, "bravo_only": "x"})
    api.create("contacts", last_name="A", custom={"tier": "gold"})
    assert [c["custom"] for c in api.get("/contacts?custom.tier=gold").get_json()["items"]] == [{"tier": "gold"}]
    assert api.get("/contacts?custom.tier__gte=1").status_code == 422
    assert api.get("/contacts?custom.bravo_only=x").status_code == 422
    refused = api.post("/contacts", json={"last_name": "B", "custom": {"bravo_only": "x"}})
    assert refused.status_code == 422
    text = api.get("/openapi.json").get_data(as_text=True)
    assert "bravo_only" not in text and "Bravo" not in text
    assert [c["custom"] for c in on_bravo.get("/contacts?custom.tier__gte=1").get_json()["items"]] == [
        {"tier": 3, "bravo_only": "x"}]


def _definition(key):
    return db.session.scalar(select(FieldDefinition).where(FieldDefinition.key == key))
