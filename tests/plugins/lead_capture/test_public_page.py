"""The hosted form page: accessible on a phone, errors next to each field with what was typed kept,
and a valid submission stored (with its UTM parameters, referrer and landing page) before the thanks."""
from __future__ import annotations

import re

import pytest
from flask import g

from plugins.lead_capture.models import LeadForm
from rapport.db import db
from rapport.fields.definitions import create_definition
from rapport.pipeline import Actor
from tests.plugins.lead_capture.public_helpers import PATH, fill_and_send, leads, page_of, submissions
from tests.plugins.support import acting_in, switch

OPERATOR = Actor.operator()
SCRIPT = "<script>alert(1)</script>"


def define(tenant, **data):
    with acting_in(tenant):
        g.tenant = tenant
        data.setdefault("show_in", {"forms": True})
        create_definition(tenant, "leads", data, OPERATOR)
        db.session.commit()


# --- rendering --------------------------------------------------------------------------------------
def test_hosted_form_is_a_labelled_phone_friendly_page(client, make_form):
    make_form()
    response = client.get(PATH)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = page_of(response)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "Log in" not in html  # a prospect's page, not a staff page
    assert response.headers["Cache-Control"] == "no-store"  # each rendering carries its own token
    for tag, attrs in page.controls():
        assert attrs["id"] in page.label_for, f"{tag} {attrs.get('name')} has no <label for>"
    assert [a["name"] for _t, a in page.controls()] == ["name", "email", "phone", "message", "website"]
    for required in ("f-name", "f-email"):
        assert page.by_id(required).get("aria-required") == "true" and "required" in page.by_id(required)
    assert "required" not in page.by_id("f-phone")
    assert page.by_id("f-email")["type"] == "email" and page.by_id("f-email")["autocomplete"] == "email"
    # The phone's help is tied to its input.
    assert page.by_id("f-phone")["aria-describedby"] == "h-phone"
    assert "country code" in html
    # The honeypot is out of sight, out of the tab order and away from assistive technology.
    trap = page.by_id("f-website")
    assert trap["tabindex"] == "-1" and trap["autocomplete"] == "off"
    assert re.search(r'<div class="lc-hp" aria-hidden="true">\s*<label for="f-website">', html)
    # Mobile-first stylesheet (one column, large tap targets) is served with the page.
    css = client.get("/t/acme/f/_static/lead_capture/public.css")
    assert css.status_code == 200 and b"min-height: 3rem" in css.data


def test_embed_variant_drops_the_chrome_and_keeps_embed_on_submit(client, make_form):
    make_form()
    html = client.get(PATH + "?embed=1").get_data(as_text=True)
    assert "lc-header" not in html and "lc-embed" in html
    assert 'action="/t/acme/f/contact-us?embed=1"' in html
    errors = client.post(PATH + "?embed=1", data={"email": "bad"})
    assert errors.status_code == 422 and "lc-header" not in errors.get_data(as_text=True)


# --- errors -------------------------------------------------------------------------------------------
def test_invalid_submission_shows_each_error_next_to_its_field_and_keeps_what_was_typed(client, acme, make_form):
    make_form()
    response = fill_and_send(client, {"name": "", "email": "Ann at example", "phone": "020 7946 0958",
                                      "message": "Call me <b>soon</b>"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    page = page_of(response)
    assert re.search(r'<div class="error-summary" role="alert"', html)
    for name in ("name", "email", "phone"):
        control = page.by_id(f"f-{name}")
        assert control["aria-invalid"] == "true"
        assert f"e-{name}" in control["aria-describedby"].split()
        assert f'href="#f-{name}"' in html  # the summary links to the field
    assert "aria-invalid" not in page.by_id("f-message")
    assert page.by_id("f-phone")["aria-describedby"] == "h-phone e-phone"
    assert re.search(r'id="e-name">This field is required\.<', html)
    assert re.search(r'id="e-email">Not a valid email address\.<', html)
    assert re.search(r'id="e-phone">Enter a valid phone number with its country code', html)
    # What was typed is kept (escaped), and the token of the first rendering is kept too.
    assert page.value("email") == "Ann at example"
    assert page.value("phone") == "020 7946 0958"
    assert page.textareas["message"] == "Call me <b>soon</b>"
    assert "Call me &lt;b&gt;soon&lt;/b&gt;" in html
    assert submissions(acme) == []  # an invalid submission is shown back, never stored


def test_phone_with_country_code_is_stored_in_e164_and_email_lower_cased(client, acme, make_form):
    make_form()
    response = fill_and_send(client, {"name": "Ann Lee", "email": "  Ann.Lee@Example.COM ", "phone": "+44 20 7946 0958"})
    assert response.status_code == 200
    [row] = submissions(acme)
    assert row.data == {"name": "Ann Lee", "email": "ann.lee@example.com", "phone": "+442079460958"}


def test_long_values_are_refused_by_name(client, acme, make_form):
    make_form()
    response = fill_and_send(client, {"name": "x" * 201, "email": "a@example.com"})
    assert response.status_code == 422
    assert page_of(response).by_id("f-name")["aria-invalid"] == "true"
    assert submissions(acme) == []


# --- success ------------------------------------------------------------------------------------------
def test_submission_records_utm_referrer_and_landing_page_then_thanks(client, acme, make_form):
    make_form()
    query = "?utm_source=newsletter&utm_medium=email&utm_campaign=spring&utm_term=crm&utm_content=top&other=1"
    response = fill_and_send(
        client, {"name": "Ann Lee", "email": "ann@example.com", "message": "Hello"}, path=PATH + query,
        get_headers={"Referer": "https://news.example/issue-12"},
        headers={"User-Agent": "Mozilla/5.0 (iPhone)"}, environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert response.status_code == 200
    assert "Thanks, we will be in touch." in response.get_data(as_text=True)
    [row] = submissions(acme)
    assert row.utm == {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring",
                       "utm_term": "crm", "utm_content": "top"}
    assert row.referrer == "https://news.example/issue-12"
    assert row.landing_page == "http://localhost/t/acme/f/contact-us" + query
    assert row.ip == "203.0.113.7" and row.user_agent == "Mozilla/5.0 (iPhone)"
    assert row.data == {"name": "Ann Lee", "email": "ann@example.com", "message": "Hello"}
    assert row.spam_reason is None and row.consent_text is None
    # Processing (on the queue; immediate in tests) made the lead.
    assert row.status == "processed"
    [lead] = leads(acme)
    assert lead.email == "ann@example.com" and row.lead_id == lead.id


def test_redirect_url_answers_303_and_the_page_may_post_there(client, acme, make_form):
    make_form(redirect_url="https://www.acme.example/thanks?from=form")
    shown = client.get(PATH)
    assert "form-action 'self' https://www.acme.example;" in shown.headers["Content-Security-Policy"] + ";"
    response = fill_and_send(client, {"name": "Ann", "email": "ann@example.com"})
    assert response.status_code == 303
    assert response.headers["Location"] == "https://www.acme.example/thanks?from=form"
    assert len(submissions(acme)) == 1


# --- consent --------------------------------------------------------------------------------------------
CONSENT = "I agree that Acme may contact me about my request.\nSee our <privacy> notice & terms."


def test_consent_is_required_and_its_exact_text_and_version_are_stored(client, acme, make_form):
    make_form(consent_text=CONSENT, consent_version=3)
    shown = client.get(PATH)
    html = shown.get_data(as_text=True)
    assert "See our &lt;privacy&gt; notice &amp; terms." in html
    assert page_of(shown).by_id("f-consent")["aria-required"] == "true"
    refused = client.post(PATH, data={**page_of(shown).hidden(), "name": "Ann", "email": "ann@example.com"})
    assert refused.status_code == 422
    assert page_of(refused).by_id("f-consent")["aria-invalid"] == "true"
    assert "Please tick the box to agree." in refused.get_data(as_text=True)
    assert submissions(acme) == []
    agreed = client.post(PATH, data={**page_of(refused).hidden(), "name": "Ann", "email": "ann@example.com",
                                     "consent": "on"})
    assert agreed.status_code == 200
    [row] = submissions(acme)
    assert row.consent_text == CONSENT and row.consent_version == 3


def test_consent_text_changed_since_the_page_was_loaded_is_asked_again(client, acme, make_form):
    form = make_form(consent_text=CONSENT, consent_version=3)
    shown = client.get(PATH)
    with acting_in(acme):
        stored = db.session.get(LeadForm, (acme.id, form.id))
        stored.consent_text, stored.consent_version = "New terms.", 4
        db.session.commit()
    response = client.post(PATH, data={**page_of(shown).hidden(), "name": "Ann", "email": "ann@example.com",
                                       "consent": "on"})
    assert response.status_code == 422
    assert "consent text has changed" in response.get_data(as_text=True)
    assert submissions(acme) == []


# --- custom fields and escaping ---------------------------------------------------------------------
@pytest.fixture
def custom_form(acme, make_form):
    define(acme, key="industry", label="Industry " + SCRIPT, type="select", help_text="Pick one " + SCRIPT,
           options=[{"value": "retail", "label": "Retail " + SCRIPT}, {"value": "energy", "label": "Energy"}])
    define(acme, key="seats", label="Seats", type="number")
    return make_form(fields=[
        {"key": "name", "label": "Your name " + SCRIPT, "required": True},
        {"key": "email", "label": None, "required": True},
        {"key": "custom.industry", "label": None, "required": True},
        {"key": "custom.seats", "label": None, "required": False},
    ])


def test_tenant_texts_are_escaped_on_the_page(client, custom_form):
    html = client.get(PATH).get_data(as_text=True)
    assert "<script>" not in html
    for text in ("Your name &lt;script&gt;", "Industry &lt;script&gt;", "Pick one &lt;script&gt;", "Retail &lt;script&gt;"):
        assert text in html
    errors = client.post(PATH, data={"email": "bad"}).get_data(as_text=True)
    assert "<script>" not in errors and "Industry &lt;script&gt;" in errors


def test_custom_fields_are_validated_by_the_tenant_schema(client, acme, custom_form):
    wrong = fill_and_send(client, {"name": "Ann", "email": "ann@example.com", "custom.industry": "mining",
                                   "custom.seats": "many"})
    assert wrong.status_code == 422
    page = page_of(wrong)
    assert page.by_id("f-custom.industry")["aria-invalid"] == "true"
    assert page.by_id("f-custom.seats")["aria-invalid"] == "true"
    assert page.value("custom.seats") == "many"
    assert submissions(acme) == []
    right = fill_and_send(client, {"name": "Ann", "email": "ann@example.com", "custom.industry": "energy",
                                   "custom.seats": "12"})
    assert right.status_code == 200
    [row] = submissions(acme)
    assert row.data["custom"] == {"industry": "energy", "seats": 12}
    [lead] = leads(acme)
    assert lead.custom == {"industry": "energy", "seats": 12}


# --- who may see the page ---------------------------------------------------------------------------
def test_unpublished_form_is_not_found(client, make_form):
    make_form(published=False)
    assert client.get(PATH).status_code == 404
    assert client.post(PATH, data={"name": "Ann", "email": "ann@example.com"}).status_code == 404
    assert client.get(PATH + "/embed.js").status_code == 404


def test_form_of_a_tenant_with_the_plugin_off_is_not_found(client, acme, other, make_form):
    switch(other, "lead_capture", True)
    make_form(tenant=other)
    assert client.get("/t/other/f/contact-us").status_code == 200
    switch(other, "lead_capture", False)
    assert client.get("/t/other/f/contact-us").status_code == 404
    assert client.post("/t/other/f/contact-us", data={"name": "Ann", "email": "ann@example.com"}).status_code == 404
    assert client.post("/t/other/f/contact-us", json={"name": "Ann", "email": "ann@example.com"}).status_code == 404
    assert client.get("/t/other/f/contact-us/embed.js").status_code == 404
    assert submissions(other) == []


def test_another_tenants_form_slug_is_not_found_here(client, acme, world, make_form):
    beta = world.tenant("beta")
    switch(beta, "lead_capture", True)
    make_form(tenant=beta, slug="beta-only")
    assert client.get("/t/beta/f/beta-only").status_code == 200
    assert client.get("/t/acme/f/beta-only").status_code == 404
    assert client.post("/t/acme/f/beta-only", json={"name": "Ann", "email": "ann@example.com"}).status_code == 404
    assert submissions(acme) == [] and submissions(beta) == []


def test_not_found_page_names_no_tenant(client, acme):
    response = client.get("/t/acme/f/nothing-here")
    assert response.status_code == 404
    assert "Acme" not in response.get_data(as_text=True)
    assert client.get("/t/acme/f/nothing-here", headers={"Accept": "application/json"}).mimetype == "application/problem+json"


def test_the_form_speaks_the_visitors_language(client, make_form):
    make_form()
    chinese = {"Accept-Language": "zh-CN,zh;q=0.9"}
    html = client.get(PATH, headers=chinese).get_data(as_text=True)
    assert "发送" in html and "标有 * 的字段为必填项。" in html
    errors = client.post(PATH, json={"email": "x@example.com"}, headers=chinese).get_json()["errors"]
    assert errors["name"] != ["This field is required."] and errors["name"][0]
    definition = client.get(PATH, headers={**chinese, "Accept": "application/json"}).get_json()
    assert definition["messages"]["submit"] == "发送"
