"""Authentication, permissions and every error answered as an RFC 9457 problem."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from rapport import tenancy
from rapport.db import db
from rapport.models import Account, ApiToken, Tenant
from rapport.tokens import revoke



def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


def test_missing_token_is_401_with_bearer_challenge(anonymous):
    response = anonymous.get("/accounts")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer rpt_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "rpt_x"])
def test_invalid_credentials_are_401(client, acme, header):
    response = client.get("/t/acme/api/v1/accounts", headers={"Authorization": header})
    assert_problem(response, 401)
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_revoked_token_is_401(client, acme, api):
    assert api.get("/accounts").status_code == 200
    with tenancy.tenant_scope(acme.id):
        revoke(db.session.scalars(select(ApiToken)).one())
        db.session.commit()
    assert_problem(api.get("/accounts"), 401)


def test_a_logged_in_session_does_not_authenticate_the_api(client, world, acme):
    world.login(client, "owner@acme.test")
    assert client.get("/t/acme/").status_code == 200  # the web session works...
    assert_problem(client.get("/t/acme/api/v1/accounts"), 401)  # ...but not on the API


def test_last_used_is_written_at_most_once_a_minute(api, acme):
    def last_used():
        with tenancy.tenant_scope(acme.id):
            db.session.expire_all()
            return db.session.scalars(select(ApiToken)).one()

    api.get("/accounts")
    first = last_used().last_used_at
    assert first is not None
    api.get("/accounts")
    assert last_used().last_used_at == first
    with tenancy.tenant_scope(acme.id):
        last_used().last_used_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=2)
        db.session.commit()
    api.get("/accounts")
    assert last_used().last_used_at.replace(tzinfo=None) > first.replace(tzinfo=None)


def test_missing_permission_is_403_naming_it(api_as):
    viewer = api_as("viewer")
    body = assert_problem(viewer.post("/accounts", json={"name": "No"}), 403)
    assert "records.write" in body["detail"]


def test_unknown_record_is_404(api):
    assert_problem(api.get(f"/accounts/{uuid.uuid4()}"), 404)
    assert_problem(api.get("/accounts/not-a-uuid"), 404)


def test_unknown_tenant_and_unknown_path_are_404(api, client):
    assert_problem(client.get("/t/nobody/api/v1/accounts", headers={"Authorization": f"Bearer {api.token}"}), 404)
    assert_problem(api.get("/nothing-here"), 404)


def test_object_is_resolved_before_the_body(api):
    """A missing record answers 404 even when the body is malformed or invalid."""
    missing = f"/accounts/{uuid.uuid4()}"
    assert_problem(api.patch(missing, data="{not json", content_type="application/json"), 404)
    assert_problem(api.patch(missing, json={"name": None, "bogus": 1}), 404)
    assert_problem(api.patch(missing, data="x", content_type="text/plain"), 404)


def test_wrong_method_is_405_with_allow(api):
    account = api.create("accounts", name="A")
    response = api.put(f"/accounts/{account['id']}", json={"name": "B"})
    assert_problem(response, 405)
    assert {"GET", "PATCH", "DELETE"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    response = api.delete("/accounts")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_non_json_body_is_415(api):
    assert_problem(api.post("/accounts", data="name=Acme", content_type="application/x-www-form-urlencoded"), 415)
    assert_problem(api.post("/accounts", data="name"), 415)


@pytest.mark.parametrize("raw", [
    b"{not json", b'{"name": "A",}', b"", b'{"name": NaN}', b'{"value": 1e999}', b"\xff\xfe{}",
    b"[" * 100_000 + b"]" * 100_000,
])
def test_malformed_json_is_400(api, raw):
    body = assert_problem(api.post("/leads", data=raw, content_type="application/json"), 400)
    assert body["detail"]


@pytest.mark.parametrize("raw", ["[]", '"text"', "42", "null"])
def test_json_that_is_not_an_object_is_422(api, raw):
    assert_problem(api.post("/accounts", data=raw, content_type="application/json"), 422)


@pytest.mark.parametrize("custom", [{"note": "nul\u0000byte"}, {"\ud800": "lone surrogate"}, {"x": ["\ud800"]}])
def test_text_no_database_can_hold_is_422_naming_the_field(api, acme, custom):
    body = assert_problem(api.post("/accounts", json={"name": "A", "custom": custom}), 422)
    assert any(name == "custom" or name.startswith("custom.") for name in body["errors"])
    with tenancy.tenant_scope(acme.id):
        assert db.session.scalars(select(Account)).all() == []


def test_suspended_tenant_api_is_403_with_the_reason(api, acme):
    tenant = db.session.get(Tenant, acme.id)
    tenant.status, tenant.suspended_reason = "suspended", "Invoice overdue"
    db.session.commit()
    body = assert_problem(api.get("/accounts"), 403)
    assert body["detail"] == "Invoice overdue"


def test_bad_input_never_answers_500(api):
    account = api.create("accounts", name="Target")
    weird = [{"name": ["list"]}, {"name": {"a": 1}}, {"owner_id": "not-a-uuid", "name": "x"},
             {"name": "x" * 10_000}, {"website": "javascript:alert(1)", "name": "x"}, {"custom": "text", "name": "x"},
             {"custom": {"a": {"b": [1, 2, {"c": None}]}}, "name": "x"}, {"name": True}]
    for body in weird:
        for response in (api.post("/accounts", json=body), api.patch(f"/accounts/{account['id']}", json=body)):
            assert response.status_code < 500, (body, response.get_data(as_text=True))
    for stage in ("won", 7, None, ["target"]):
        response = api.post("/leads", json={"name": "L", "stage": stage})
        assert response.status_code == 422 and "stage" in response.get_json()["errors"]
    for value in ("-1", "abc", True, 10**20, "1e5000"):
        response = api.post("/leads", json={"name": "L", "value": value})
        assert response.status_code == 422 and "value" in response.get_json()["errors"], value


def test_token_of_a_disabled_member_is_refused(api, acme):
    from rapport.models import Membership

    assert api.get("/accounts").status_code == 200
    with tenancy.tenant_scope(acme.id):
        for member in db.session.scalars(select(Membership)):
            member.status = "disabled"
        db.session.commit()
    assert_problem(api.get("/accounts"), 401)


@pytest.mark.parametrize("query, named", [
    ("limit=5&limit=7", "limit"),
    ("limit=&limit=abc", "limit"),
    ("owner=me&q=a&owner=none", "owner"),
])
def test_a_list_parameter_given_twice_is_422_naming_it(api, query, named):
    """Two limits or two owners: which one was meant is not guessed (the first used to win silently)."""
    body = assert_problem(api.get(f"/contacts?{query}"), 422)
    assert list(body["errors"]) == [named]
    assert api.get("/contacts?limit=5&owner=me").status_code == 200


def test_a_text_longer_than_its_maximum_as_sent_is_422(api):
    """The documented maxLength counts the text as sent: leading spaces or control characters that
    are stripped afterwards do not make room for a longer value."""
    body = assert_problem(api.post("/leads", json={"name": "\u001e   " + "x" * 200}), 422)
    assert list(body["errors"]) == ["name"]
    assert api.post("/leads", json={"name": "  " + "x" * 198}).get_json()["name"] == "x" * 198


def test_an_empty_required_text_is_still_reported_as_missing(api):
    body = assert_problem(api.post("/leads", json={"name": ""}), 422)
    assert list(body["errors"]) == ["name"] and "null" in str(body["errors"]["name"]).lower()
