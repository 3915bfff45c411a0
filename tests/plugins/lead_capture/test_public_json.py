"""The JSON side of a form (embed script, integrations): its definition with a fresh token, JSON
submissions (422 naming each field, 201, Idempotency-Key), CORS for the form's allowed sites only,
frame-ancestors for the hosted page, and the embed script itself."""
from __future__ import annotations

import re
import uuid

import pytest

from tests.plugins.lead_capture.public_helpers import ALLOWED, EVIL, PATH, fresh_token, leads, submissions

LEAD = {"name": "Ann Lee", "email": "Ann@Example.com", "phone": "+86 138 0013 8000", "message": "Hi"}


@pytest.fixture
def form(make_form):
    return make_form(allowed_origins=[ALLOWED], consent_text="You may call me.", consent_version=2)


def send(client, body, origin=None, key=None, token=True):
    headers = {}
    if origin:
        headers["Origin"] = origin
    if key:
        headers["Idempotency-Key"] = key
    if token is True:
        body = {**body, "fill_token": fresh_token(client)}
    return client.post(PATH, json=body, headers=headers)


# --- the definition ------------------------------------------------------------------------------------
def test_definition_lists_the_fields_with_a_fresh_token(client, form):
    response = client.get(PATH, headers={"Accept": "application/json", "Origin": ALLOWED})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    body = response.get_json()
    assert [(f["name"], f["type"], f["required"]) for f in body["fields"]] == [
        ("name", "text", True), ("email", "email", True), ("phone", "tel", False), ("message", "textarea", False)]
    assert body["consent"] == {"text": "You may call me.", "version": 2}
    assert body["submit_url"] == "http://localhost" + PATH
    assert body["honeypot"] == "website" and body["token_field"] == "fill_token"
    assert body["thank_you_message"] == "Thanks, we will be in touch."
    assert body["messages"]["submit"] == "Send"
    assert body["token"] != fresh_token(client)  # one per rendering


# --- submissions ---------------------------------------------------------------------------------------
def test_json_errors_are_a_422_problem_naming_each_field(client, acme, form):
    response = send(client, {"email": "not an email", "phone": "12345", "company": "Acme", "consent": "yes",
                             "custom": {"industry": "x"}, "utm_source": 7})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 422
    errors = body["errors"]
    assert set(errors) == {"name", "email", "phone", "company", "consent", "custom.industry", "utm_source"}
    assert errors["name"] == ["This field is required."]
    assert errors["email"] == ["Not a valid email address."]
    assert "country code" in errors["phone"][0]
    assert errors["company"] == ["This form does not ask for this field."]
    assert errors["consent"] == ["Please tick the box to agree."]
    assert submissions(acme) == []


def test_json_submission_is_stored_and_becomes_a_lead(client, acme, form):
    response = send(client, {**LEAD, "consent": True, "consent_version": 2, "utm_campaign": "launch",
                             "referrer": "https://search.example/?q=crm", "landing_page": ALLOWED + "/pricing?utm_campaign=launch"},
                    origin=ALLOWED)
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    body = response.get_json()
    [row] = submissions(acme)
    assert body == {"id": str(row.id), "status": "received"}
    assert row.data == {"name": "Ann Lee", "email": "ann@example.com", "phone": "+8613800138000", "message": "Hi"}
    assert row.consent_text == "You may call me." and row.consent_version == 2
    assert row.utm == {"utm_campaign": "launch"}
    assert row.referrer == "https://search.example/?q=crm" and row.landing_page == ALLOWED + "/pricing?utm_campaign=launch"
    assert row.status == "processed" and leads(acme)[0].email == "ann@example.com"


def test_bad_json_is_a_400_problem(client, form):
    broken = client.post(PATH, data="{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.mimetype == "application/problem+json"
    listed = client.post(PATH, json=["a", "b"])
    assert listed.status_code == 400 and listed.get_json()["detail"] == "Send a JSON object."


def test_idempotency_key_answers_the_first_result(client, acme, form):
    key = str(uuid.uuid4())
    body = {**LEAD, "consent": True}
    first = send(client, body, key=key)
    again = send(client, body, key=key)  # a retry: a fresh token, the same key
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert len(submissions(acme)) == 1 and len(leads(acme)) == 1
    other = send(client, body, key=str(uuid.uuid4()))
    assert other.status_code == 201 and len(submissions(acme)) == 2


def test_a_malformed_idempotency_key_is_named(client, acme, form):
    response = send(client, {**LEAD, "consent": True}, key="x" * 91)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"Idempotency-Key"}
    assert submissions(acme) == []


def test_the_same_token_sent_twice_is_stored_once(client, acme, form):
    body = {**LEAD, "consent": True, "fill_token": fresh_token(client)}
    first = client.post(PATH, json=body)
    second = client.post(PATH, json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json() == {**second.get_json(), "status": "received"}
    assert len(submissions(acme)) == 1


# --- CORS -----------------------------------------------------------------------------------------------
def test_preflight_from_an_allowed_site(client, form):
    response = client.options(PATH, headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST",
                                             "Access-Control-Request-Headers": "content-type, idempotency-key"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED  # an exact echo, never "*"
    assert "Origin" in response.headers["Vary"]
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Idempotency-Key" in response.headers["Access-Control-Allow-Headers"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_other_sites_are_refused(client, acme, form):
    preflight = client.options(PATH, headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403 and "Access-Control-Allow-Origin" not in preflight.headers
    posted = send(client, {**LEAD, "consent": True}, origin=EVIL)
    assert posted.status_code == 403 and posted.mimetype == "application/problem+json"
    assert "Access-Control-Allow-Origin" not in posted.headers
    html = client.post(PATH, data={"name": "Ann", "email": "ann@example.com"}, headers={"Origin": EVIL})
    assert html.status_code == 403
    # A look-alike is another site: scheme, host and port all count.
    for near in ("http://www.acme.example", "https://www.acme.example:8443", "https://acme.example", "null"):
        assert send(client, {**LEAD, "consent": True}, origin=near).status_code == 403, near
    definition = client.get(PATH, headers={"Accept": "application/json", "Origin": EVIL})
    assert "Access-Control-Allow-Origin" not in definition.headers
    assert submissions(acme) == []


def test_the_apps_own_pages_may_post(client, acme, form):
    response = send(client, {**LEAD, "consent": True}, origin="http://localhost")
    assert response.status_code == 201
    assert "Access-Control-Allow-Origin" not in response.headers  # same origin: nothing to allow
    # Behind a proxy that ends TLS the app sees http, the browser says https: the same site.
    assert send(client, {**LEAD, "email": "b@example.com", "consent": True}, origin="https://localhost").status_code == 201


def test_consent_is_recorded_only_where_the_form_asks_it(client, acme, make_form):
    make_form()
    assert send(client, {**LEAD, "consent": True}).status_code == 201
    [row] = submissions(acme)
    assert row.consent_text is None and row.consent_version is None


def test_allowed_origin_matches_however_the_browser_writes_it(client, acme, make_form):
    make_form(allowed_origins=["https://shop.example:443"])
    response = send(client, LEAD, origin="https://SHOP.example")
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == "https://SHOP.example"


# --- framing ---------------------------------------------------------------------------------------------
def csp_directives(response) -> dict:
    return {d.strip().split(" ")[0]: d.strip() for d in response.headers["Content-Security-Policy"].split(";")}


def test_frame_ancestors_lists_the_allowed_sites_and_no_x_frame_options(client, make_form):
    make_form(allowed_origins=[ALLOWED, "http://localhost:8080"])
    response = client.get(PATH + "?embed=1")
    directives = csp_directives(response)
    assert directives["frame-ancestors"] == f"frame-ancestors 'self' {ALLOWED} http://localhost:8080"
    assert directives["script-src"] == "script-src 'self'" and directives["object-src"] == "object-src 'none'"
    assert "X-Frame-Options" not in response.headers
    # Everything else keeps refusing to be framed.
    login = client.get("/login")
    assert login.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in login.headers["Content-Security-Policy"]


def test_a_form_without_allowed_sites_is_framed_by_this_app_only(client, make_form):
    make_form()
    assert csp_directives(client.get(PATH))["frame-ancestors"] == "frame-ancestors 'self'"


# --- the embed script ------------------------------------------------------------------------------------
def test_embed_script_is_served_as_javascript_with_cors_for_allowed_sites(client, form):
    response = client.get(PATH + "/embed.js", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Access-Control-Allow-Origin" not in client.get(PATH + "/embed.js", headers={"Origin": EVIL}).headers
    script = response.get_data(as_text=True)
    assert "data-rapport-form" in script and "Idempotency-Key" in script and "crypto.randomUUID" in script
    assert '"Accept": "application/json"' in script
    # CSP-safe: no inline handlers, no HTML strings.
    assert not re.search(r"\bon[a-z]+\s*=", script), "inline event handler"
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script
