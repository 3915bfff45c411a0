"""``/t/<slug>/api/v1/forms``: CRUD with a token holding ``forms.manage``, problem details naming each
bad field, 404 for other tenants' forms and where the plugin is off, Idempotency-Key, and the
routes in the tenant's OpenAPI document only where the plugin is on."""
from __future__ import annotations

import uuid

import pytest

from plugins.lead_capture.models import LeadForm
from rapport.db import db
from tests.api.conftest import ApiClient, token_for
from tests.plugins.support import acting_in, member, switch

from .forms_support import definition, store_submission

PROBLEM = "application/problem+json"


@pytest.fixture
def api(client, acme, members):
    return ApiClient(client, "acme", token_for(acme, "owner@acme.test"))


def created(api, **overrides) -> dict:
    response = api.post("/forms", json=definition(**overrides))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def assert_problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title"]
    if fields:
        assert set(body["errors"]) == set(fields)
        for name in fields:
            assert name in body["detail"]  # the summary names each bad field too
    return body


def test_create_read_list_update_delete(api, acme):
    ann = str(member(acme, "ann@acme.test").id)
    body = created(api, consent_text="I agree.", allowed_origins=["HTTPS://www.Acme.example/"],
                   assignment_mode="round_robin", assignees=[ann], notify_emails=["sales@acme.test"])
    assert body["consent_version"] == 1 and body["allowed_origins"] == ["https://www.acme.example"]
    assert body["assignees"] == [ann] and body["fields"][0] == {"key": "name", "label": None, "required": True}
    assert body["hosted_url"].endswith("/t/acme/f/contact-us") and "tenant_id" not in body
    location = f"/t/acme/api/v1/forms/{body['id']}"
    assert api.get(f"/forms/{body['id']}").get_json() == body

    listed = api.get("/forms").get_json()["items"]
    assert [item["id"] for item in listed] == [body["id"]]

    changed = api.patch(f"/forms/{body['id']}", json={"name": "Talk to sales", "consent_text": "I agree, really."})
    assert changed.status_code == 200
    assert (changed.get_json()["name"], changed.get_json()["consent_version"]) == ("Talk to sales", 2)
    assert changed.get_json()["assignees"] == [ann]  # what the PATCH did not name is kept

    assert api.delete(f"/forms/{body['id']}").status_code == 204
    assert_problem(api.get(f"/forms/{body['id']}"), 404)
    assert location.endswith(body["id"])


def test_create_answers_location(api):
    response = api.post("/forms", json=definition())
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/t/acme/api/v1/forms/{response.get_json()['id']}")


def test_bad_input_is_a_problem_naming_each_field(api, acme):
    ann = str(member(acme, "ann@acme.test").id)
    response = api.post("/forms", json=definition(
        slug="Bad Slug", fields=[{"key": "email"}, {"key": "nope"}, {"key": "email"}],
        assignment_mode="rules", rules=[{"field": "email", "op": "eq", "value": "x@y.test", "owner_id": "123"}],
        notify_emails=["ok@acme.test", "bad"], min_fill_seconds=9, default_owner_id=ann))
    assert_problem(response, 422, "slug", "fields.1.key", "fields.2.key", "rules.0.owner_id", "notify_emails.1",
                   "min_fill_seconds")
    assert api.get("/forms").get_json()["items"] == []  # nothing half-written


def test_slug_taken_is_a_422_on_create_and_update(api):
    created(api)
    other = created(api, slug="other")
    assert_problem(api.post("/forms", json=definition()), 422, "slug")
    assert_problem(api.patch(f"/forms/{other['id']}", json={"slug": "contact-us"}), 422, "slug")


def test_patch_validates_the_merged_form(api, acme):
    ann = str(member(acme, "ann@acme.test").id)
    body = created(api, fields=[{"key": "email"}, {"key": "company"}], assignment_mode="rules",
                   rules=[{"field": "company", "op": "eq", "value": "Globex", "owner_id": ann}])
    response = api.patch(f"/forms/{body['id']}", json={"fields": [{"key": "email"}], "id": body["id"]})
    assert_problem(response, 422, "rules.0.field", "id")


def test_malformed_bodies(api):
    body = created(api)
    assert_problem(api.post("/forms", data="{nope", headers={"Content-Type": "application/json"}), 400)
    assert_problem(api.post("/forms", data="slug=x", headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    assert_problem(api.patch(f"/forms/{body['id']}", json=["a list"]), 422, "_schema")


def test_another_tenants_form_is_not_found_before_the_body_is_read(api, client, world, acme):
    beta = world.tenant("beta", owner_email="owner@beta.test")
    switch(beta, "lead_capture", True)
    on_beta = ApiClient(client, "beta", token_for(beta, "owner@beta.test"))
    theirs = on_beta.post("/forms", json=definition()).get_json()["id"]
    assert_problem(api.get(f"/forms/{theirs}"), 404)
    assert_problem(api.patch(f"/forms/{theirs}", data="not json", headers={"Content-Type": "text/plain"}), 404)
    assert_problem(api.patch(f"/forms/{theirs}", json={"slug": "BAD"}), 404)
    assert_problem(api.delete(f"/forms/{theirs}"), 404)
    assert_problem(api.get("/forms/not-a-uuid"), 404)
    assert api.get("/forms").get_json()["items"] == []
    with acting_in(beta):
        assert db.session.get(LeadForm, (beta.id, uuid.UUID(theirs))) is not None


def test_plugin_off_answers_404(api, client, other, acme):
    on_other = ApiClient(client, "other", token_for(other, "owner@other.test"))
    assert_problem(on_other.get("/forms"), 404)
    assert_problem(on_other.post("/forms", json=definition()), 404)
    body = created(api)
    switch(acme, "lead_capture", False)
    assert_problem(api.get("/forms"), 404)
    assert_problem(api.get(f"/forms/{body['id']}"), 404)
    switch(acme, "lead_capture", True)
    assert api.get(f"/forms/{body['id']}").status_code == 200  # switching off kept the form


@pytest.mark.parametrize("email", ["ann@acme.test", "manager@acme.test"])
def test_members_without_forms_manage_get_403_even_for_reading(api, client, acme, email):
    body = created(api)
    theirs = ApiClient(client, "acme", token_for(acme, email))
    assert_problem(theirs.get("/forms"), 403)
    assert_problem(theirs.get(f"/forms/{body['id']}"), 403)
    assert_problem(theirs.post("/forms", json=definition(slug="mine")), 403)
    assert_problem(theirs.patch(f"/forms/{body['id']}", json={"name": "x"}), 403)
    assert_problem(theirs.delete(f"/forms/{body['id']}"), 403)


def test_no_token_is_401(client, acme):
    response = ApiClient(client, "acme", None).get("/forms")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_idempotency_key_makes_a_retry_safe(api):
    headers = {"Idempotency-Key": "form-create-1"}
    first = api.post("/forms", json=definition(), headers=headers)
    again = api.post("/forms", json=definition(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert len(api.get("/forms").get_json()["items"]) == 1
    assert_problem(api.post("/forms", json=definition(slug="different"), headers=headers), 422, "Idempotency-Key")


def test_a_form_with_waiting_submissions_is_not_deleted(api, acme):
    body = created(api)
    with acting_in(acme):
        form = db.session.get(LeadForm, (acme.id, uuid.UUID(body["id"])))
    store_submission(acme, form, "quarantined")
    problem = assert_problem(api.delete(f"/forms/{body['id']}"), 409)
    assert "quarantine" in problem["detail"]
    assert api.get(f"/forms/{body['id']}").status_code == 200


def test_openapi_lists_the_forms_routes_only_where_the_plugin_is_on(api, client, other):
    spec = api.get("/openapi.json").get_json()
    assert set(spec["paths"]["/forms"]) >= {"get", "post"}
    assert set(spec["paths"]["/forms/{form_id}"]) >= {"get", "patch", "delete"}
    create = spec["paths"]["/forms"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/LeadFormIn"}
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    schemas = spec["components"]["schemas"]
    assert {"LeadForm", "LeadFormIn", "LeadFormInPatch", "LeadFormRuleIn"} <= set(schemas)
    assert "fields" in schemas["LeadFormIn"]["properties"] and "slug" in schemas["LeadFormIn"]["required"]
    assert {"forms"} <= {tag["name"] for tag in spec["tags"]}
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(spec)

    off = ApiClient(client, "other", token_for(other, "owner@other.test")).get("/openapi.json").get_json()
    assert "/forms" not in off["paths"] and "/forms/{form_id}" not in off["paths"]
    assert not any(name.startswith("LeadForm") for name in off["components"]["schemas"])
    assert "Problem" in off["components"]["schemas"] and "/leads" in off["paths"]
    assert "forms" not in {tag["name"] for tag in off["tags"]}
