"""What schemathesis found in the API, each pinned by a focused test (see test_schemathesis.py)."""
from __future__ import annotations

import base64
import json

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.security.support import stock


@pytest.fixture
def alpha(app):
    return stock("alpha")


@pytest.fixture
def api(client, alpha):
    headers = {"Authorization": f"Bearer {alpha.api_tokens['owner']}"}

    def call(method: str, path: str, **kwargs):
        return client.open(f"/t/alpha/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


def _cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_field_dry_run_answer_is_documented(app, alpha):
    """A dry run answers the change's impact, which the document now lists beside the definition."""
    headers = {"Authorization": f"Bearer {alpha.api_tokens['owner']}"}
    schema = schemathesis.openapi.from_wsgi("/t/alpha/api/v1/openapi.json", app, headers=headers)
    operation = schema["/fields/{record_type}/{field_key}"]["PATCH"]
    case = operation.Case(path_parameters={"record_type": "leads", "field_key": "notes"},
                          query={"dry_run": "true"}, body={"label": "Remarks"}, media_type="application/json")
    response = case.call(headers=headers)
    assert response.status_code == 200 and set(response.json()) == {"affected", "sample"}
    case.validate_response(response, checks=[status_code_conformance, response_schema_conformance])


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_activity_body_null_is_stored_as_empty_text(api, alpha, method):
    """The body column is NOT NULL: null used to reach the database and answer 409 Conflict."""
    if method == "POST":
        response = api("POST", "/activities", json={"kind": "call", "subject": "Call back", "body": None})
        assert response.status_code == 201, response.get_data(as_text=True)
    else:
        response = api("PATCH", f"/activities/{alpha.records['activities']}", json={"body": None})
        assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["body"] == ""


@pytest.mark.parametrize("body", [True, None, [], "text", 7])
@pytest.mark.parametrize("record_type", ["accounts", "contacts", "leads", "activities"])
def test_patch_with_a_body_that_is_no_object_is_refused(api, alpha, record_type, body):
    """A PATCH whose JSON body is not an object used to raise TypeError (500)."""
    response = api("PATCH", f"/{record_type}/{alpha.records[record_type]}", data=json.dumps(body),
                   content_type="application/json")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "_schema" in response.get_json()["errors"]


@pytest.mark.parametrize("param", ["q", "custom.alt_email", "custom.alt_email__contains", "created_after", "owner"])
def test_nul_in_a_list_parameter_is_refused_by_name(api, param):
    """PostgreSQL refuses NUL in text: a NUL in a search or filter value used to answer 500."""
    response = api("GET", "/contacts", query_string={param: "a\x00b"})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert param in response.get_json()["errors"]


def test_nul_in_a_search_of_the_staff_list_is_refused(client, alpha):
    client.post("/login", data={"email": alpha.data.owner_email, "password": "correct horse battery"})
    response = client.get("/t/alpha/contacts", query_string={"q": "a\x00b"})
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"])
@pytest.mark.parametrize("sort", ["name", "custom.code"])
def test_forged_cursor_with_text_no_database_takes_is_refused(api, text, sort):
    """A cursor is client data: a NUL or a lone surrogate in it used to reach the driver (500)."""
    row_id = "01a2342d-dae2-76e5-a081-00a33fc64cb9"
    cursor = _cursor(["c", 1, text, row_id] if sort.startswith("custom.") else [text, row_id])
    response = api("GET", "/accounts", query_string={"sort": sort, "cursor": cursor})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "cursor" in response.get_json()["errors"]


def test_unclear_dry_run_flag_is_refused_and_changes_nothing(api):
    """``dry_run=maybe`` used to mean "no": the change was applied for real."""
    response = api("PATCH", "/fields/leads/notes", query_string={"dry_run": "maybe"}, json={"label": "Changed"})
    assert response.status_code == 422 and "dry_run" in response.get_json()["errors"]
    assert api("GET", "/fields/leads/notes").get_json()["label"] == "Notes"


@pytest.mark.parametrize("new_type", [[], {}, 3])
def test_field_type_that_is_no_text_is_refused(api, new_type):
    """A list or object as the new type used to raise TypeError (unhashable) in the conversion table."""
    response = api("PATCH", "/fields/leads/notes", json={"type": new_type})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "type" in response.get_json()["errors"]


@pytest.mark.parametrize("value", [-5e-324, -0.001, "-0.004", -0.0])
def test_negative_amount_that_rounds_to_zero_is_refused(api, alpha, value):
    """-0.001 rounded to cents is -0.00, which passed ``minimum: 0`` and was stored as "-0.00"."""
    response = api("PATCH", f"/leads/{alpha.records['leads']}", json={"value": value})
    assert response.status_code == 422 and "value" in response.get_json()["errors"], response.get_data(as_text=True)
    response = api("POST", "/leads", json={"name": "Tiny", "value": value})
    assert response.status_code == 422 and "value" in response.get_json()["errors"]
    assert api("POST", "/leads", json={"name": "Zero", "value": 0}).get_json()["value"] == "0.00"
