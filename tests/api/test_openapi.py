"""The tenant's OpenAPI document and the docs page rendered from it."""
from __future__ import annotations

import re

import pytest

from .conftest import ApiClient, token_for

EXPECTED = {
    "/accounts": {"get", "post"}, "/accounts/{account_id}": {"get", "patch", "delete"},
    "/contacts": {"get", "post"}, "/contacts/{contact_id}": {"get", "patch", "delete"},
    "/leads": {"get", "post"}, "/leads/{lead_id}": {"get", "patch", "delete"},
    "/activities": {"get", "post"}, "/activities/{activity_id}": {"get", "patch", "delete"},
    "/plugins": {"get"}, "/plugins/{plugin}": {"get", "put"},
    "/fields/{record_type}": {"get", "post"}, "/fields/{record_type}/{field_key}": {"get", "patch", "delete"},
    "/fields/{record_type}/{field_key}/archive": {"post"}, "/fields/{record_type}/{field_key}/restore": {"post"},
}


@pytest.fixture
def spec(api):
    response = api.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_spec_describes_every_path_for_this_tenant(spec):
    assert spec["openapi"].startswith("3.1")
    assert spec["servers"][0]["url"] == "/t/acme/api/v1"
    assert {path: set(item) - {"parameters"} for path, item in spec["paths"].items()} == EXPECTED
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        **spec["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearerAuth": []}]


def test_spec_documents_parameters_bodies_and_problems(spec):
    listing = spec["paths"]["/leads"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert {"q", "owner", "stage", "sort", "limit", "cursor", "created_after"} <= set(params)
    assert params["limit"]["schema"]["type"] == "integer"
    create = spec["paths"]["/leads"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/LeadIn"}
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    assert create["responses"]["422"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
    schemas = spec["components"]["schemas"]
    assert "tenant_id" not in schemas["Lead"]["properties"]
    assert schemas["Lead"]["properties"]["value"]["type"] == ["string", "null"]
    assert "name" in schemas["LeadIn"]["required"] and "required" not in schemas["LeadInPatch"]
    assert "tenant_slug" not in str(spec["paths"])


def test_spec_is_valid_openapi(spec):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(spec)


def test_spec_is_per_tenant_and_only_for_its_people(api, client, world):
    beta = world.tenant("beta", owner_email="owner@beta.test")
    on_beta = ApiClient(client, "beta", token_for(beta, "owner@beta.test"))
    assert on_beta.get("/openapi.json").get_json()["servers"][0]["url"] == "/t/beta/api/v1"
    for path in ("/openapi.json", "/docs"):
        response = ApiClient(client, "beta", api.token).get(path)  # acme's token on beta
        assert response.status_code == 401 and "Beta" not in response.get_data(as_text=True)
    assert ApiClient(client, "acme", None).get("/openapi.json").status_code == 401
    assert client.get("/t/nobody/api/v1/openapi.json").status_code == 404


def test_docs_page_is_browsable_when_logged_in(client, world, acme):
    response = client.get("/t/acme/api/v1/docs")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    world.login(client, "owner@acme.test")
    assert client.get("/t/acme/api/v1/docs").status_code == 200
    assert client.get("/t/acme/api/v1/openapi.json").get_json()["servers"][0]["url"] == "/t/acme/api/v1"
    world.tenant("beta", owner_email="owner@beta.test")
    assert client.get("/t/beta/api/v1/docs").status_code == 401  # logged in, but no member of beta


def test_docs_page_renders_the_spec_without_outside_assets(api):
    response = api.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for text in ("GET /accounts", "POST /leads", "PATCH /contacts/{contact_id}", "PUT /plugins/{plugin}",
                 'id="schema-Account"', "Authorization: Bearer &lt;token&gt;", "/t/acme/api/v1"):
        assert text in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from a CDN
    assert "<script" not in html and "style=" not in html
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_docs_escape_the_tenant_name(client, world):
    evil = world.tenant("evil", name="<script>alert(1)</script>", owner_email="owner@evil.test")
    html = ApiClient(client, "evil", token_for(evil, "owner@evil.test")).get("/docs").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
