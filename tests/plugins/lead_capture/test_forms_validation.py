"""The form definition schema (``plugins.lead_capture.forms``): each setting's rules, errors named by
dotted paths, consent versioning, and create/update/delete as the admin pages and the API use them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from plugins.lead_capture.forms import (
    FormInUse,
    asked_fields,
    askable_fields,
    create_form,
    delete_form,
    normalise_origin,
    update_form,
    validate_form,
)
from plugins.lead_capture.models import LeadForm
from rapport.db import db
from rapport.fields.definitions import set_status
from rapport.models import AuditEvent
from tests.plugins.support import acting_in, member

from .forms_support import OPERATOR, custom_field, definition, errors_of, store_submission


def create(tenant, **overrides) -> LeadForm:
    with acting_in(tenant):
        form = create_form(validate_form(tenant, definition(**overrides)), OPERATOR)
        db.session.commit()
    return form


def update(tenant, form, **changes) -> dict:
    with acting_in(tenant):
        form = db.session.get(LeadForm, (tenant.id, form.id))
        changed = update_form(form, validate_form(tenant, changes, form), OPERATOR)
        db.session.commit()
    return changed


def stored(tenant, form) -> LeadForm:
    with acting_in(tenant):
        return db.session.get(LeadForm, (tenant.id, form.id))


def test_a_minimal_definition_gets_the_defaults(acme):
    form = create(acme)
    assert (form.lead_source, form.min_fill_seconds, form.published, form.assignment_mode) == ("web form", 3, False, "manual")
    assert (form.consent_text, form.consent_version, form.thank_you_message, form.redirect_url) == (None, 0, "", None)
    assert form.fields == [{"key": "name", "label": None, "required": True}, {"key": "email", "label": None, "required": True}]
    assert (form.notify_emails, form.allowed_origins, form.assignees, form.rules) == ([], [], [], [])


@pytest.mark.parametrize("slug", ["Contact-Us", "contact us", "-contact", "contact-", "contact--us", "a" * 65, "", "ümlaut"])
def test_slug_is_lower_case_letters_digits_and_hyphens(acme, slug):
    assert set(errors_of(acme, definition(slug=slug))) == {"slug"}


def test_slug_is_unique_per_tenant_only(acme, other):
    form = create(acme)
    assert "slug" in errors_of(acme, definition())
    assert errors_of(other, definition()) == {}  # another tenant may use the same address
    assert errors_of(acme, {"slug": "contact-us", "name": "Renamed"}, stored(acme, form)) == {}  # its own slug


def test_text_settings_are_bounded(acme):
    errors = errors_of(acme, definition(name="", lead_source="x" * 101, thank_you_message="x" * 5001,
                                        consent_text="x" * 5001))
    assert set(errors) == {"name", "lead_source", "thank_you_message", "consent_text"}
    assert errors_of(acme, definition(name="x" * 201)).keys() == {"name"}


def test_unknown_settings_and_non_objects_are_refused(acme):
    assert set(errors_of(acme, definition(id="x", round_robin_position=3))) == {"id", "round_robin_position"}
    assert set(errors_of(acme, ["not", "an", "object"])) == {"_schema"}
    assert set(errors_of(acme, definition(name="nul\x00"))) == {"name"}


# -- fields ----------------------------------------------------------------------------------------
def test_fields_take_core_keys_and_custom_fields_shown_in_forms(acme):
    custom_field(acme, "industry")
    custom_field(acme, "internal_score", "number", forms=False)
    with acting_in(acme):
        keys = list(askable_fields(acme))
    assert keys[:5] == ["name", "email", "phone", "company", "message"] and "custom.industry" in keys
    assert "custom.internal_score" not in keys
    fields = [{"key": k} for k in ("name", "email", "phone", "company", "message", "custom.industry")]
    assert errors_of(acme, definition(fields=fields)) == {}
    errors = errors_of(acme, definition(fields=[{"key": "email"}, {"key": "custom.internal_score"},
                                                {"key": "owner_id"}, {"key": "industry"}]))
    assert set(errors) == {"fields.1.key", "fields.2.key", "fields.3.key"}


def test_a_field_is_asked_once(acme):
    errors = errors_of(acme, definition(fields=[{"key": "email"}, {"key": "name"}, {"key": "email"}]))
    assert set(errors) == {"fields.2.key"} and "row 1" in errors["fields.2.key"][0]


def test_email_or_phone_must_be_asked(acme):
    assert set(errors_of(acme, definition(fields=[{"key": "name"}, {"key": "company"}]))) == {"fields"}
    assert errors_of(acme, definition(fields=[{"key": "phone", "required": True}])) == {}
    assert set(errors_of(acme, definition(fields=[]))) == {"fields"}
    assert set(errors_of(acme, definition(fields="email"))) == {"fields"}


def test_field_rows_are_checked_one_by_one(acme):
    rows = [{"key": "email", "label": "x" * 201}, {"key": "name", "required": "yes"}, {"key": "phone", "colour": "red"}]
    assert set(errors_of(acme, definition(fields=rows))) == {"fields.0.label", "fields.1.required", "fields.2.colour"}


def test_a_blank_label_means_the_fields_own(acme):
    form = create(acme, fields=[{"key": "email", "label": "  "}, {"key": "name", "label": " Your name "}])
    assert [row["label"] for row in form.fields] == [None, "Your name"]
    with acting_in(acme):
        assert [f.label for f in asked_fields(acme, stored(acme, form))] == ["Email", "Your name"]


def test_a_custom_field_every_lead_needs_must_be_asked_and_required(acme):
    custom_field(acme, "region", required=True)
    errors = errors_of(acme, definition())
    assert set(errors) == {"fields"} and "custom.region" in errors["fields"][0]
    asked = [{"key": "email"}, {"key": "custom.region"}]
    assert set(errors_of(acme, definition(fields=asked))) == {"fields.1.required"}
    assert errors_of(acme, definition(fields=[{"key": "email"}, {"key": "custom.region", "required": True}])) == {}


def test_a_custom_field_archived_later_is_no_longer_asked(acme):
    region = custom_field(acme, "region")
    form = create(acme, fields=[{"key": "email"}, {"key": "custom.region"}])
    with acting_in(acme):
        set_status(acme, db.session.get(type(region), (acme.id, region.id)), "archived", OPERATOR)
        db.session.commit()
        assert [f.key for f in asked_fields(acme, stored(acme, form))] == ["email"]
    assert set(errors_of(acme, {"name": "Renamed"}, stored(acme, form))) == {"fields.1.key"}


# -- consent ---------------------------------------------------------------------------------------
def test_changing_the_consent_text_bumps_its_version(acme):
    form = create(acme, consent_text="I agree to be contacted.")
    assert (form.consent_text, form.consent_version) == ("I agree to be contacted.", 1)
    assert update(acme, form, consent_text=" I agree to be contacted. ") == {}  # same text once stripped
    update(acme, form, name="Renamed")
    assert stored(acme, form).consent_version == 1
    changes = update(acme, form, consent_text="I agree to be contacted by phone.")
    assert changes["consent_version"] == (1, 2) and stored(acme, form).consent_version == 2


def test_clearing_the_consent_text_removes_the_checkbox_and_a_new_text_gets_a_new_version(acme):
    form = create(acme, consent_text="I agree.")
    update(acme, form, consent_text="")
    assert (stored(acme, form).consent_text, stored(acme, form).consent_version) == (None, 1)
    update(acme, form, consent_text="I agree.")  # the same words again: still a new version
    assert (stored(acme, form).consent_text, stored(acme, form).consent_version) == ("I agree.", 2)
    assert create(acme, slug="plain").consent_version == 0


# -- after submitting, notifications, embedding ----------------------------------------------------
@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.com/x", "/thanks", "example.com", "x" * 20])
def test_redirect_url_is_an_http_or_https_address(acme, url):
    assert set(errors_of(acme, definition(redirect_url=url))) == {"redirect_url"}


def test_redirect_url_may_be_https_http_or_blank(acme):
    form = create(acme, redirect_url="https://www.example.com/thanks?from=form", thank_you_message="  ")
    assert (form.redirect_url, form.thank_you_message) == ("https://www.example.com/thanks?from=form", "")
    assert create(acme, slug="local", redirect_url="http://localhost:8000/thanks").redirect_url.startswith("http://")
    assert create(acme, slug="none", redirect_url="").redirect_url is None


def test_notify_emails_are_valid_addresses_at_most_twenty(acme):
    errors = errors_of(acme, definition(notify_emails=["sales@acme.test", "not an email", "x@"]))
    assert set(errors) == {"notify_emails.1", "notify_emails.2"}
    many = [f"person{i}@acme.test" for i in range(21)]
    assert set(errors_of(acme, definition(notify_emails=many))) == {"notify_emails"}
    form = create(acme, notify_emails=[" Sales@ACME.test ", "sales@acme.test", "Boss@acme.test"])
    assert form.notify_emails == ["Sales@acme.test", "Boss@acme.test"]


@pytest.mark.parametrize("raw, origin", [
    ("https://www.example.com", "https://www.example.com"),
    ("HTTPS://WWW.Example.COM/", "https://www.example.com"),
    ("https://shop.example.com:443", "https://shop.example.com"),
    ("http://localhost:8080", "http://localhost:8080"),
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ("https://[::1]:8443", "https://[::1]:8443"),
    ("https://bücher.example", "https://xn--bcher-kva.example"),
])
def test_allowed_origins_are_normalised_as_browsers_send_them(raw, origin):
    assert normalise_origin(raw) == origin


@pytest.mark.parametrize("raw", ["www.example.com", "ftp://example.com", "https://example.com/page",
                                 "https://example.com?x=1", "https://example.com#top", "https://user@example.com",
                                 "https://example.com:0", "https://example.com:70000", "https://exa mple.com",
                                 "https://*.example.com", "*", "null", "https://"])
def test_an_allowed_origin_is_only_scheme_host_and_port(acme, raw):
    with pytest.raises(ValueError):
        normalise_origin(raw)
    assert set(errors_of(acme, definition(allowed_origins=["https://ok.example.com", raw]))) == {"allowed_origins.1"}


def test_allowed_origins_are_deduplicated_and_at_most_fifty(acme):
    form = create(acme, allowed_origins=["https://a.example.com", "HTTPS://A.example.com/", "http://a.example.com"])
    assert form.allowed_origins == ["https://a.example.com", "http://a.example.com"]
    many = [f"https://site{i}.example.com" for i in range(51)]
    assert set(errors_of(acme, definition(slug="many", allowed_origins=many))) == {"allowed_origins"}


# -- assignment ------------------------------------------------------------------------------------
def ids(tenant, *emails) -> list[str]:
    return [str(member(tenant, email).id) for email in emails]


def test_round_robin_takes_active_members_of_this_tenant(acme, other, members):
    ann, bob = ids(acme, "ann@acme.test", "bob@acme.test")
    stranger = ids(other, "owner@other.test")[0]
    form = create(acme, assignment_mode="round_robin", assignees=[ann, bob])
    assert form.assignees == [ann, bob]
    errors = errors_of(acme, definition(slug="other", assignment_mode="round_robin", assignees=[ann, stranger, ann, "nope"]))
    assert set(errors) == {"assignees.1", "assignees.2", "assignees.3"}
    assert set(errors_of(acme, definition(slug="other", assignment_mode="round_robin"))) == {"assignees"}


def test_an_inactive_member_cannot_be_chosen(acme, members):
    with acting_in(acme):
        members["bob@acme.test"].status = "invited"
        db.session.commit()
    bob = ids(acme, "bob@acme.test")[0]
    assert set(errors_of(acme, definition(default_owner_id=bob))) == {"default_owner_id"}
    assert set(errors_of(acme, definition(assignment_mode="round_robin", assignees=[bob]))) == {"assignees.0"}


def test_rules_route_on_asked_fields_to_active_members(acme, other, members):
    custom_field(acme, "size")
    ann, bob = ids(acme, "ann@acme.test", "bob@acme.test")
    fields = [{"key": "email"}, {"key": "company"}, {"key": "custom.size"}]
    rules = [{"field": "custom.size", "op": "in", "value": ["mid", "large"], "owner_id": ann},
             {"field": "company", "op": "contains", "value": " Globex ", "owner_id": bob},
             {"field": "custom.size", "op": "eq", "value": "small", "owner_id": bob}]
    form = create(acme, fields=fields, assignment_mode="rules", rules=rules, default_owner_id=ann)
    assert form.rules[1] == {"field": "company", "op": "contains", "value": "Globex", "owner_id": bob}
    assert form.default_owner_id == members["ann@acme.test"].id
    bad = [{"field": "phone", "op": "eq", "value": "1", "owner_id": ann},
           {"field": "company", "op": "like", "value": "x", "owner_id": ann},
           {"field": "custom.size", "op": "eq", "value": "huge", "owner_id": ann},
           {"field": "custom.size", "op": "in", "value": "mid", "owner_id": ann},
           {"field": "company", "op": "eq", "value": "x", "owner_id": ids(other, "owner@other.test")[0]},
           {"field": "company", "op": "eq", "value": "", "owner_id": ""},
           {"field": "company", "op": "eq", "value": "x"}]
    errors = errors_of(acme, definition(slug="other", fields=fields, assignment_mode="rules", rules=bad))
    assert set(errors) == {"rules.0.field", "rules.1.op", "rules.2.value", "rules.3.value", "rules.4.owner_id",
                           "rules.5.value", "rules.5.owner_id", "rules.6.owner_id"}
    assert "huge" in errors["rules.2.value"][0]


def test_rules_mode_needs_a_rule_and_modes_are_known(acme):
    assert set(errors_of(acme, definition(assignment_mode="rules"))) == {"rules"}
    assert set(errors_of(acme, definition(assignment_mode="random"))) == {"assignment_mode"}


def test_a_change_cannot_leave_a_rule_on_a_field_no_longer_asked(acme, members):
    ann = ids(acme, "ann@acme.test")[0]
    form = create(acme, fields=[{"key": "email"}, {"key": "company"}], assignment_mode="rules",
                  rules=[{"field": "company", "op": "eq", "value": "Globex", "owner_id": ann}])
    assert set(errors_of(acme, {"fields": [{"key": "email"}]}, stored(acme, form))) == {"rules.0.field"}


@pytest.mark.parametrize("minutes, ok", [(1, True), (10080, True), (None, True), (0, False), (10081, False),
                                         (2.5, False), ("30", False), (True, False)])
def test_follow_up_minutes_is_a_week_at_most(acme, minutes, ok):
    assert (errors_of(acme, definition(follow_up_minutes=minutes)) == {}) is ok


@pytest.mark.parametrize("seconds, ok", [(0, True), (5, True), (6, False), (-1, False), (1.5, False)])
def test_min_fill_seconds_is_at_most_five(acme, seconds, ok):
    assert (errors_of(acme, definition(min_fill_seconds=seconds)) == {}) is ok


def test_published_is_a_boolean(acme):
    assert set(errors_of(acme, definition(published="yes"))) == {"published"}
    assert create(acme, published=True).published is True


# -- writing ---------------------------------------------------------------------------------------
def test_create_update_and_delete_are_audited(acme):
    form = create(acme)
    update(acme, form, name="Renamed", published=True)
    with acting_in(acme):
        delete_form(stored(acme, form), OPERATOR)
        db.session.commit()
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.record_type == "lead_forms")
                                          .order_by(AuditEvent.at, AuditEvent.id)))
        assert [e.action for e in events] == ["create", "update", "delete"]
        assert events[1].changes["name"] == ["Contact us", "Renamed"]
        assert db.session.get(LeadForm, (acme.id, form.id)) is None


@pytest.mark.parametrize("status", ["received", "quarantined"])
def test_a_form_with_submissions_waiting_is_not_deleted(acme, status):
    form = create(acme)
    store_submission(acme, form, status)
    with acting_in(acme):
        with pytest.raises(FormInUse):
            delete_form(stored(acme, form), OPERATOR)
        db.session.rollback()
        assert db.session.get(LeadForm, (acme.id, form.id)) is not None


def test_a_form_with_settled_submissions_is_deleted_with_them(acme):
    form = create(acme)
    store_submission(acme, form, "processed")
    store_submission(acme, form, "discarded")
    with acting_in(acme):
        delete_form(stored(acme, form), OPERATOR)
        db.session.commit()
        assert db.session.get(LeadForm, (acme.id, form.id)) is None
