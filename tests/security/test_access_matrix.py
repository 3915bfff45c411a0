"""Access, proven from the app's URL map: every core tenant route x method x role.

* a role without the permission gets 403 (the API a problem document);
* a role with it gets on with it (no 401, 403, 404 or 405; where the design hides a thing that is
  not the member's, e.g. another member's API token, the table says so);
* anonymous: the staff pages redirect to log-in, the API answers 401;
* another tenant's objects named in this tenant's URLs answer 404 (or 403 to a role that may not
  use the route at all), and nothing of that tenant's data shows;
* a session of tenant A's users opens nothing in tenant B, where they are no members (404).

Each request runs in a savepoint that is rolled back, so every role meets the same data (a DELETE
by one role does not leave a 404 for the next). The expected permission of every core endpoint is
written down below: a route added later fails the test until it is classified here.

Then mass assignment through the API (tenant_id, owner_id of another tenant's member, id,
created_at, a custom field hidden from the role), checked in the database, and log-in throttling.
"""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from flask import current_app
from sqlalchemy import select

from rapport import tenancy
from rapport.db import db
from rapport.models import Account, Lead
from tests.conftest import PASSWORD
from tests.isolation.support import build_path, is_api, object_variables, tenant_rules, unknown_variables
from tests.security.conftest import csrf_token
from tests.security.support import HIDDEN_FIELD, HIDDEN_ROLES, ROLES, stock

MEMBER = "member"  # any active member of the tenant, whatever the role
PUBLIC = "public"  # anyone, logged in or not

# The permission each core endpoint needs, per method where it differs.
RECORD_TYPES = ("accounts", "contacts", "leads", "activities")
PERMISSIONS: dict[str, str | dict[str, str]] = {
    "ui.dashboard": MEMBER,
    **{f"ui.list_{t}": "records.read" for t in RECORD_TYPES},
    **{f"ui.show_{t}": "records.read" for t in RECORD_TYPES},
    **{f"ui.new_{t}": "records.write" for t in RECORD_TYPES},
    **{f"ui.edit_{t}": "records.write" for t in RECORD_TYPES},  # the form is for those who may change it
    **{f"ui.delete_{t}": "records.delete" for t in RECORD_TYPES},
    "ui.lead_stage": "records.write",
    "ui.activity_done": "records.write",
    "admin.audit": "audit.read",
    **{f"admin.{e}": "fields.manage" for e in ("fields_home", "fields", "new_field", "edit_field", "move_field",
                                               "archive_field", "restore_field", "delete_field")},
    **{f"admin.{e}": "members.manage" for e in ("members", "invite", "remove_member", "resend_invite", "change_role")},
    **{f"admin.{e}": "plugins.manage" for e in ("plugins", "plugin_settings", "switch_plugin")},
    **{f"admin.{e}": "roles.manage" for e in ("roles", "new_role", "edit_role", "delete_role")},
    **{f"admin.{e}": "tokens.manage" for e in ("tokens", "create_token", "revoke_token")},
    "transfer.import_records": "records.import",
    "transfer.export_page": "records.export",
    "transfer.export_download": "records.export",
    **{f"api.list_{t}": "records.read" for t in RECORD_TYPES},
    **{f"api.get_{t.removesuffix('s').replace('activitie', 'activity')}": "records.read" for t in RECORD_TYPES},
    **{f"api.create_{t.removesuffix('s').replace('activitie', 'activity')}": "records.write" for t in RECORD_TYPES},
    **{f"api.update_{t.removesuffix('s').replace('activitie', 'activity')}": "records.write" for t in RECORD_TYPES},
    **{f"api.delete_{t.removesuffix('s').replace('activitie', 'activity')}": "records.delete" for t in RECORD_TYPES},
    "api.list_fields": "records.read",
    "api.get_field": "records.read",
    **{f"api.{e}": "fields.manage" for e in ("create_field", "update_field", "delete_field", "archive_field",
                                             "restore_field")},
    "api.list_plugins": MEMBER,
    "api.get_plugin": MEMBER,
    "api.switch_plugin": "plugins.manage",
    "api_docs.docs": MEMBER,
    "api_docs.openapi_json": MEMBER,
    "auth.accept_invite": PUBLIC,  # an invitation link is a capability
}
# Answers the design gives a role that holds the permission, where the object is not theirs.
HIDDEN_FROM_GRANTED = {
    # The stocked token is the owner's: another member's token does not exist for them.
    "admin.revoke_token": lambda role: {404} if role != "owner" else set(),
}
# Endpoints of plugins: their own suites check them (lead capture is being built meanwhile).
CORE_BLUEPRINTS = ("ui", "admin", "transfer", "api", "api_docs", "auth")


@pytest.fixture
def alpha(app):
    return stock("alpha")


@pytest.fixture
def bravo(alpha):
    return stock("bravo")


@pytest.fixture
def sessions(app, alpha):
    """A logged-in web client per role (and one for nobody), each with its own cookies."""
    clients = {"anonymous": app.test_client()}
    for role in ROLES:
        client = app.test_client()
        response = client.post("/login", data={"email": alpha.emails[role], "password": PASSWORD})
        assert response.status_code == 302, (role, response.get_data(as_text=True)[:300])
        clients[role] = client
    return clients


def _core_rules(app):
    for rule, methods in tenant_rules(app):
        if rule.endpoint.split(".")[0] in CORE_BLUEPRINTS and not rule.endpoint.startswith("lead_capture"):
            yield rule, methods


def _permission(endpoint: str, method: str) -> str | None:
    need = PERMISSIONS.get(endpoint)
    return need.get(method) if isinstance(need, dict) else need


def _granted(role: str) -> frozenset[str]:
    return current_app.extensions["rapport.plugins"].role_permissions(role)


def _may(role: str, need: str) -> bool:
    if need == PUBLIC:
        return True
    if role == "anonymous":
        return False
    return need == MEMBER or need in _granted(role)


def _isolated(client, method: str, path: str, api: bool, bearer: str | None):
    """One request whose writes are undone afterwards, so every role meets the same data."""
    db.session.remove()  # the session's own savepoint must not enclose ours: its commit would release ours
    connection = db.factory.kw["bind"]
    savepoint = connection.begin_nested()
    try:
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        body = {} if method == "GET" else {"json": {}} if api else {"data": {}}
        response = client.open(path, method=method, headers=headers, **body)
        response.get_data()  # a streamed answer (CSV export) runs inside the savepoint too
        response.close()
        return response
    finally:
        db.session.remove()
        savepoint.rollback()


def test_every_core_route_is_classified(app):
    missing = sorted({rule.endpoint for rule, _ in _core_rules(app) if rule.endpoint not in PERMISSIONS})
    assert not missing, f"classify these endpoints in PERMISSIONS (test_access_matrix.py): {missing}"
    unknown = sorted({rule.rule for rule, _ in _core_rules(app) if unknown_variables(rule)})
    assert not unknown, f"URL variables the isolation fill table does not know: {unknown}"


def test_every_route_method_and_role(app, alpha, bravo, sessions):
    values = {**alpha.data.url_values(), "record_type": "leads", "field_key": "notes"}
    failures, checked = [], 0
    for rule, methods in _core_rules(app):
        if rule.endpoint not in PERMISSIONS:
            continue  # reported by test_every_core_route_is_classified
        path = build_path(rule, alpha.slug, values)
        for method in methods:
            need = _permission(rule.endpoint, method)
            for role, client in sessions.items():
                api = is_api(rule)
                bearer = alpha.api_tokens.get(role) if api else None
                web = app.test_client() if api else client  # the API never takes a session cookie
                response = _isolated(web, method, path, api, bearer)
                checked += 1
                failures += _verdict(rule, method, role, need, path, response)
    print(f"\naccess matrix: {checked} requests")
    assert not failures, f"{len(failures)} wrong answers:\n" + "\n".join(failures[:80])


def _verdict(rule, method, role, need, path, response) -> list[str]:
    status, api = response.status_code, is_api(rule)
    where = f"{role:9} {method:6} {path}: {status}"
    if status >= 500:
        return [f"{where} (server error)"]
    if need == PUBLIC:
        return []
    if role == "anonymous":
        if rule.endpoint == "api_docs.docs":  # a browser page: log in, then come back
            api = False
        if api and status != 401:
            return [f"{where}, expected 401"]
        if not api and not (status == 302 and "/login" in response.headers.get("Location", "")):
            return [f"{where}, expected a redirect to log in"]
        return []
    if not _may(role, need):
        return [] if status == 403 else [f"{where}, expected 403 (lacks {need})"]
    allowed_hidden = HIDDEN_FROM_GRANTED.get(rule.endpoint, lambda _r: set())(role)
    if status in (401, 403, 404, 405) and status not in allowed_hidden:
        return [f"{where}, expected the route to serve {role} (holds {need}): {response.get_data(as_text=True)[:160]}"]
    return []


def test_other_tenants_objects_answer_404_to_every_role(app, alpha, bravo, sessions):
    """A's routes with B's ids: B's objects answer as if they did not exist, to every role."""
    values = {**bravo.data.url_values(), "record_type": "leads", "field_key": "notes"}
    failures = []
    for rule, methods in _core_rules(app):
        if rule.endpoint not in PERMISSIONS or not object_variables(rule) - {"field_key"}:
            continue
        if PERMISSIONS[rule.endpoint] == PUBLIC:
            continue  # the invitation link: tests/isolation/test_routes.py compares it with a forged one
        path = build_path(rule, alpha.slug, values)
        for method in methods:
            need = _permission(rule.endpoint, method)
            for role, client in sessions.items():
                if role == "anonymous":
                    continue
                api = is_api(rule)
                web = app.test_client() if api else client
                response = _isolated(web, method, path, api, alpha.api_tokens[role] if api else None)
                expected = {404} if _may(role, need) else {403, 404}
                if response.status_code not in expected:
                    failures.append(f"{role} {method} {path}: {response.status_code}, expected {sorted(expected)}")
                failures += _leaks(response, bravo, f"{role} {method} {path}")
    assert not failures, "\n".join(failures[:80])


def test_session_of_tenant_a_opens_nothing_in_tenant_b(app, alpha, bravo, sessions):
    """Every route of B, with B's own ids, for each of A's logged-in members: 404, and no B data."""
    values = {**bravo.data.url_values(), "record_type": "leads", "field_key": "notes"}
    failures = []
    for rule, methods in _core_rules(app):
        if rule.endpoint not in PERMISSIONS or PERMISSIONS[rule.endpoint] == PUBLIC or is_api(rule):
            continue
        path = build_path(rule, bravo.slug, values)
        for method in methods:
            for role in ROLES:
                response = _isolated(sessions[role], method, path, False, None)
                if response.status_code != 404:
                    failures.append(f"{role} of alpha {method} {path}: {response.status_code}, expected 404")
                failures += _leaks(response, bravo, f"{role} of alpha {method} {path}")
    assert not failures, "\n".join(failures[:80])


def _leaks(response, other, where: str) -> list[str]:
    seen = response.get_data(as_text=True) + response.headers.get("Location", "")
    shown = [secret for secret in (other.marker, *other.data.secrets) if secret in seen]
    return [f"{where}: shows the other tenant's {shown}"] if shown else []


# -- mass assignment -------------------------------------------------------------------------------


def _api(client, stocked, role: str, method: str, path: str, **kwargs):
    headers = {"Authorization": f"Bearer {stocked.api_tokens[role]}"}
    return client.open(f"/t/{stocked.slug}/api/v1{path}", method=method, headers=headers, **kwargs)


def _row(model, tenant_id, record_id):
    with tenancy.tenant_scope(tenant_id):
        db.session.expire_all()
        return db.session.get(model, (tenant_id, uuid.UUID(str(record_id))))


@pytest.mark.parametrize("field", ["tenant_id", "id", "created_at", "updated_at"])
def test_server_owned_fields_cannot_be_set_on_create(client, alpha, bravo, field):
    forced = {"tenant_id": str(bravo.tenant_id), "id": str(uuid.uuid4()),
              "created_at": "2001-01-01T00:00:00+00:00", "updated_at": "2001-01-01T00:00:00+00:00"}[field]
    response = _api(client, alpha, "owner", "POST", "/accounts", json={"name": f"Forced {field}", field: forced})
    if response.status_code == 422:
        assert field in response.get_json()["errors"]
    else:
        assert response.status_code == 201, response.get_data(as_text=True)
        assert str(response.get_json()[field]) != forced
    with tenancy.tenant_scope(bravo.tenant_id):
        assert db.session.scalar(select(Account).where(Account.name == f"Forced {field}")) is None
    with tenancy.tenant_scope(alpha.tenant_id):
        rows = db.session.scalars(select(Account).where(Account.name == f"Forced {field}")).all()
        assert all(str(getattr(row, field)) != forced for row in rows)


@pytest.mark.parametrize("field", ["tenant_id", "id", "created_at", "updated_at"])
def test_server_owned_fields_cannot_be_changed(client, alpha, bravo, field):
    account_id = alpha.records["accounts"]
    before = _row(Account, alpha.tenant_id, account_id)
    was = (before.tenant_id, before.id, before.created_at)
    forced = {"tenant_id": str(bravo.tenant_id), "id": str(uuid.uuid4()),
              "created_at": "2001-01-01T00:00:00+00:00", "updated_at": "2001-01-01T00:00:00+00:00"}[field]
    response = _api(client, alpha, "owner", "PATCH", f"/accounts/{account_id}", json={field: forced})
    assert response.status_code in (200, 422), response.get_data(as_text=True)
    if response.status_code == 422:
        assert field in response.get_json()["errors"]
    after = _row(Account, alpha.tenant_id, account_id)
    assert after is not None and (after.tenant_id, after.id, after.created_at) == was
    assert str(after.updated_at) != forced and not str(after.updated_at).startswith("2001")


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_owner_from_another_tenant_is_refused(client, alpha, bravo, method):
    foreign_member = str(bravo.members["agent"])
    path = "/leads" if method == "POST" else f"/leads/{alpha.records['leads']}"
    response = _api(client, alpha, "owner", method, path, json={"name": "Stolen", "owner_id": foreign_member})
    assert response.status_code == 422 and "owner_id" in response.get_json()["errors"]
    with tenancy.tenant_scope(alpha.tenant_id):
        assert db.session.scalar(select(Lead).where(Lead.owner_id == uuid.UUID(foreign_member))) is None
    response = _api(client, alpha, "owner", method, path, json={"name": "Linked", "account_id": str(bravo.records["accounts"])})
    assert response.status_code == 422 and "account_id" in response.get_json()["errors"]


def test_agent_cannot_assign_records_to_someone_else(client, alpha):
    response = _api(client, alpha, "agent", "POST", "/leads", json={"name": "Pushed", "owner_id": str(alpha.members["manager"])})
    assert response.status_code == 422 and "owner_id" in response.get_json()["errors"]
    response = _api(client, alpha, "agent", "PATCH", f"/leads/{alpha.records['leads']}", json={"owner_id": str(alpha.members["manager"])})
    assert response.status_code == 422
    assert _row(Lead, alpha.tenant_id, alpha.records["leads"]).owner_id is None


@pytest.mark.parametrize("role", [r for r in ROLES if r not in HIDDEN_ROLES and r != "viewer"])
def test_custom_field_hidden_from_the_role_cannot_be_written_or_wiped(client, alpha, role):
    lead_id = alpha.records["leads"]
    stored = _row(Lead, alpha.tenant_id, lead_id).custom[HIDDEN_FIELD]
    seen = _api(client, alpha, role, "GET", f"/leads/{lead_id}").get_json()
    assert HIDDEN_FIELD not in seen["custom"]  # the role does not even see it
    response = _api(client, alpha, role, "PATCH", f"/leads/{lead_id}", json={"custom": {HIDDEN_FIELD: "overwritten"}})
    assert response.status_code == 422 and f"custom.{HIDDEN_FIELD}" in response.get_json()["errors"]
    response = _api(client, alpha, role, "POST", "/leads", json={"name": "Sneaky", "custom": {HIDDEN_FIELD: "planted"}})
    assert response.status_code == 422 and f"custom.{HIDDEN_FIELD}" in response.get_json()["errors"]
    # Changing the custom fields it sees keeps the one it does not see.
    response = _api(client, alpha, role, "PATCH", f"/leads/{lead_id}", json={"custom": {"notes": "changed"}})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _row(Lead, alpha.tenant_id, lead_id).custom[HIDDEN_FIELD] == stored


def test_hidden_custom_field_posted_through_the_staff_form_is_ignored(client, alpha):
    client.post("/login", data={"email": alpha.emails["agent"], "password": PASSWORD})
    lead_id = alpha.records["leads"]
    stored = _row(Lead, alpha.tenant_id, lead_id).custom[HIDDEN_FIELD]
    response = client.post(f"/t/alpha/leads/{lead_id}/edit", data={
        "name": "Edited by agent", "stage": "prospect", f"custom.{HIDDEN_FIELD}": "overwritten",
        "owner_id": str(alpha.members["agent"])})
    assert response.status_code in (302, 422), response.get_data(as_text=True)[:300]
    page = client.get(f"/t/alpha/leads/{lead_id}").get_data(as_text=True)
    assert stored not in page and "overwritten" not in page
    assert _row(Lead, alpha.tenant_id, lead_id).custom[HIDDEN_FIELD] == stored


# -- log-in throttling -----------------------------------------------------------------------------

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER_ELSEWHERE = {"REMOTE_ADDR": "198.51.100.77"}


@pytest.fixture
def throttled(request):
    """Rate limits on, as in production: Redis storage when the suite has a Redis, else memory."""
    import os

    storage = os.environ.get("RAPPORT_TEST_REDIS_URL") or "rapport-memory://"
    if storage.startswith("redis"):
        import redis

        redis.Redis.from_url(storage).flushdb()  # the test database index: no limit left from a run before
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": storage, "WTF_CSRF_ENABLED": True,
            "LOGIN_RATE_LIMIT_ACCOUNT": "5 per minute", "LOGIN_RATE_LIMIT_IP": "20 per minute"}


@pytest.fixture
def app_config(request):
    return request.getfixturevalue("throttled") if "throttle" in request.node.name else {}


def _log_in_from(client, email: str, password: str, where: dict):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token}, environ_base=where)


def test_throttle_stops_a_burst_of_wrong_passwords_without_locking_the_owner_out(app, alpha):
    attacker = app.test_client()
    statuses = [_log_in_from(attacker, alpha.data.owner_email, f"guess {n}", ATTACKER).status_code for n in range(8)]
    assert 429 in statuses and statuses.index(429) <= 5, statuses
    assert set(statuses[: statuses.index(429)]) == {401}, statuses
    assert _log_in_from(attacker, alpha.data.owner_email, PASSWORD, ATTACKER).status_code == 429  # still blocked
    owner = app.test_client()
    response = _log_in_from(owner, alpha.data.owner_email, PASSWORD, OWNER_ELSEWHERE)
    assert response.status_code == 302, "the right password from another address must still work"
    assert owner.get("/t/alpha/", environ_base=OWNER_ELSEWHERE).status_code == 200
