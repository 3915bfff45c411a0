"""The form builder in the admin pages: list with public URLs and counts, create and edit (rows moved,
removed and added without JavaScript), publish, delete, permissions, escaping and embed snippets."""
from __future__ import annotations

import html
import re
import uuid

import pytest

from plugins.lead_capture.models import LeadForm
from rapport.db import db
from tests.plugins.support import acting_in, logged_in, member, switch

from .forms_support import store_submission

LIST = "/t/acme/admin/forms"
NEW = "/t/acme/admin/forms/new"


def edit_url(form) -> str:
    return f"/t/acme/admin/forms/{form.id}"


def builder(fields=(("name", "", True), ("email", "", True)), rules=(), **values) -> dict:
    """What the builder posts: its inputs, the field and rule rows, and a blank "add" row of each."""
    data = {"action": "save", "slug": "contact-us", "name": "Contact us", "lead_source": "web form",
            "assignment_mode": "manual", "default_owner_id": "", "follow_up_minutes": "", "min_fill_seconds": "3",
            "notify_emails": "", "allowed_origins": "", "consent_text": "", "thank_you_message": "", "redirect_url": ""}
    for index, (key, label, required) in enumerate((*fields, ("", "", False))):
        data[f"fields-{index}-key"], data[f"fields-{index}-label"] = key, label
        if required:
            data[f"fields-{index}-required"] = "1"
    for index, (field, op, value, owner) in enumerate((*rules, ("", "eq", "", ""))):
        data.update({f"rules-{index}-field": field, f"rules-{index}-op": op, f"rules-{index}-value": value,
                     f"rules-{index}-owner_id": owner})
    data.update(values)
    return data


def stored(tenant, form_id) -> LeadForm | None:
    with acting_in(tenant):
        return db.session.get(LeadForm, (tenant.id, form_id))


def only_form(tenant) -> LeadForm:
    with acting_in(tenant):
        forms = db.session.query(LeadForm).all()
    assert len(forms) == 1
    return forms[0]


def field_rows(page: str) -> list[str]:
    """The keys of the field rows as the page shows them, in order (the blank "add" row left out)."""
    rows = re.findall(r'<select name="fields-(\d+)-key"[^>]*>(.*?)</select>', page, re.S)
    return [m.group(1) for _i, options in rows if (m := re.search(r'<option value="([^"]*)" selected>', options))]


def rule_rows(page: str) -> list[str]:
    rows = re.findall(r'<input name="rules-(\d+)-value" value="([^"]*)"', page)
    return [value for _i, value in rows if value]


def text_of(page: str, element_id: str) -> str:
    return html.unescape(re.search(rf'<code id="{element_id}">(.*?)</code>', page, re.S).group(1))


@pytest.fixture
def owner(acme, members):
    return logged_in("owner@acme.test")


def test_menu_entry_and_an_empty_list(owner, acme):
    page = owner.get(LIST).get_data(as_text=True)
    assert f'<a href="{LIST}">Lead forms</a>' in page and "No forms yet" in page
    agent = logged_in("ann@acme.test")
    assert f'href="{LIST}"' not in agent.get("/t/acme/").get_data(as_text=True)


def test_list_shows_public_urls_status_and_counts(owner, acme, make_form, app):
    form = make_form()
    make_form(slug="draft-form", name="Draft form", published=False)
    for status in ("processed", "processed", "received", "quarantined"):
        store_submission(acme, form, status)
    page = owner.get(LIST).get_data(as_text=True)
    row = re.search(r'<tr id="form-contact-us">(.*?)</tr>', page, re.S).group(1)
    assert f'<a href="/t/acme/f/contact-us">{app.config["BASE_URL"]}/t/acme/f/contact-us</a>' in row
    assert "Published" in row and re.findall(r"<td>(\d+)</td>", row) == ["4", "1"]
    draft = re.search(r'<tr id="form-draft-form">(.*?)</tr>', page, re.S).group(1)
    assert "Draft" in draft and re.findall(r"<td>(\d+)</td>", draft) == ["0", "0"]


def test_create_a_form_with_every_setting(owner, acme, app):
    ann, bob = (str(member(acme, e).id) for e in ("ann@acme.test", "bob@acme.test"))
    data = builder(
        fields=(("email", "Work email", True), ("name", "", True), ("company", "", False), ("message", "", False)),
        rules=(("company", "contains", "Globex", bob),),
        published="1", consent_text="I agree to be contacted.", thank_you_message="Thanks!",
        redirect_url="https://www.acme.example/thanks", notify_emails="sales@acme.test\nboss@acme.test",
        allowed_origins="https://www.acme.example/\nhttp://localhost:8080", assignment_mode="rules",
        assignees=[ann, bob], default_owner_id=ann, follow_up_minutes="30", min_fill_seconds="2",
        lead_source="website")
    response = owner.post(NEW, data=data)
    form = only_form(acme)
    assert response.status_code == 302 and response.headers["Location"].endswith(edit_url(form))
    assert form.fields == [{"key": "email", "label": "Work email", "required": True},
                           {"key": "name", "label": None, "required": True},
                           {"key": "company", "label": None, "required": False},
                           {"key": "message", "label": None, "required": False}]
    assert (form.published, form.consent_text, form.consent_version) == (True, "I agree to be contacted.", 1)
    assert (form.thank_you_message, form.redirect_url) == ("Thanks!", "https://www.acme.example/thanks")
    assert form.notify_emails == ["sales@acme.test", "boss@acme.test"]
    assert form.allowed_origins == ["https://www.acme.example", "http://localhost:8080"]
    assert (form.assignment_mode, form.assignees, str(form.default_owner_id)) == ("rules", [ann, bob], ann)
    assert form.rules == [{"field": "company", "op": "contains", "value": "Globex", "owner_id": bob}]
    assert (form.follow_up_minutes, form.min_fill_seconds, form.lead_source) == (30, 2, "website")
    page = owner.get(edit_url(form)).get_data(as_text=True)
    assert "Form Contact us created." in page and field_rows(page) == ["email", "name", "company", "message"]


def test_a_blank_address_is_made_from_the_name(owner, acme):
    assert owner.post(NEW, data=builder(slug="", name="Talk to Sales!")).status_code == 302
    assert only_form(acme).slug == "talk-to-sales"


def test_bad_input_shows_errors_by_the_inputs_and_keeps_what_was_typed(owner, acme):
    data = builder(fields=(("email", "", True), ("name", "Your name", True), ("email", "", False)),
                   name="My <b>form</b>", notify_emails="sales@acme.test\nnot-an-address", min_fill_seconds="9",
                   follow_up_minutes="soon")
    response = owner.post(NEW, data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for name in ("fields.2.key", "notify_emails", "min_fill_seconds", "follow_up_minutes"):
        assert f'id="e-{name}"' in page, name
    assert re.search(r'<select name="fields-2-key" [^>]*aria-invalid="true" aria-describedby="e-fields.2.key"', page)
    assert "not-an-address: " in page and "already asked (row 1)" in page
    assert 'value="My &lt;b&gt;form&lt;/b&gt;"' in page and 'value="Your name"' in page
    assert field_rows(page) == ["email", "name", "email"]
    with acting_in(acme):
        assert db.session.query(LeadForm).count() == 0


def test_rows_move_and_go_without_saving_until_save(owner, acme, make_form):
    form = make_form()  # name, email, phone, message
    data = builder(fields=[(r["key"], "", r["required"]) for r in form.fields])
    page = owner.post(edit_url(form), data={**data, "action": "down-field-0"}).get_data(as_text=True)
    assert field_rows(page) == ["email", "name", "phone", "message"] and "Not saved yet" in page
    assert [r["key"] for r in stored(acme, form.id).fields] == ["name", "email", "phone", "message"]

    moved = builder(fields=(("email", "", True), ("name", "", True), ("phone", "", False), ("message", "", False)))
    page = owner.post(edit_url(form), data={**moved, "action": "remove-field-2"}).get_data(as_text=True)
    assert field_rows(page) == ["email", "name", "message"]
    removed = builder(fields=(("email", "", True), ("name", "", True), ("message", "", False)))
    removed["fields-3-key"], removed["fields-3-label"] = "company", "Organisation"  # the "add" row, filled
    page = owner.post(edit_url(form), data={**removed, "action": "add-field"}).get_data(as_text=True)
    assert field_rows(page) == ["email", "name", "message", "company"] and 'value="Organisation"' in page
    page = owner.post(edit_url(form), data={**removed, "action": "up-field-3"}).get_data(as_text=True)
    assert field_rows(page) == ["email", "name", "company", "message"]

    assert owner.post(edit_url(form), data=removed).status_code == 302  # "Save" (also what Enter presses)
    assert [(r["key"], r["label"]) for r in stored(acme, form.id).fields] == [
        ("email", None), ("name", None), ("message", None), ("company", "Organisation")]


def test_rules_move_too(owner, acme, make_form):
    ann, bob = (str(member(acme, e).id) for e in ("ann@acme.test", "bob@acme.test"))
    form = make_form()
    rules = (("name", "contains", "first", ann), ("email", "in", "a@x.test, b@x.test", bob))
    data = builder(fields=[(r["key"], "", r["required"]) for r in form.fields], rules=rules, assignment_mode="rules")
    page = owner.post(edit_url(form), data={**data, "action": "up-rule-1"}).get_data(as_text=True)
    assert rule_rows(page) == ["a@x.test, b@x.test", "first"]
    assert owner.post(edit_url(form), data=data).status_code == 302
    assert stored(acme, form.id).rules == [
        {"field": "name", "op": "contains", "value": "first", "owner_id": ann},
        {"field": "email", "op": "in", "value": ["a@x.test", "b@x.test"], "owner_id": bob}]


def test_the_edit_page_shows_the_stored_form(owner, acme, make_form):
    bob = str(member(acme, "bob@acme.test").id)
    form = make_form(consent_text="I agree.", consent_version=3, allowed_origins=["https://www.acme.example"],
                     assignment_mode="round_robin", assignees=[bob], follow_up_minutes=45)
    page = owner.get(edit_url(form)).get_data(as_text=True)
    assert field_rows(page) == ["name", "email", "phone", "message"]
    assert "Current version: 3" in page and ">I agree.</textarea>" in page
    assert f'name="assignees" value="{bob}" checked' in page and 'value="45"' in page
    assert '<option value="round_robin" selected>' in page


def test_publish_and_unpublish(owner, acme, make_form):
    form = make_form()
    response = owner.post(f"{edit_url(form)}/publish", data={"published": "0"})
    assert response.status_code == 302 and stored(acme, form.id).published is False
    assert "unpublished" in owner.get(LIST).get_data(as_text=True)
    owner.post(f"{edit_url(form)}/publish", data={"published": "1"})
    assert stored(acme, form.id).published is True


def test_publishing_a_form_that_went_stale_shows_what_to_fix(owner, acme, make_form, members):
    bob = members["bob@acme.test"]
    form = make_form(published=False, assignment_mode="round_robin", assignees=[str(bob.id)])
    with acting_in(acme):
        db.session.get(type(bob), (acme.id, bob.id)).status = "invited"
        db.session.commit()
    response = owner.post(f"{edit_url(form)}/publish", data={"published": "1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="e-assignees"' in page and "Fix these settings first" in page
    assert f'value="{bob.id}" checked> bob@acme.test (no longer an active member)' in page
    assert stored(acme, form.id).published is False


def test_delete_after_confirming(owner, acme, make_form):
    form = make_form()
    store_submission(acme, form, "processed")
    page = owner.get(f"{edit_url(form)}/delete").get_data(as_text=True)
    assert "Delete the form" in page and "1 stored submissions" in page
    assert owner.post(f"{edit_url(form)}/delete").status_code == 302
    assert stored(acme, form.id) is None


def test_delete_is_refused_while_submissions_wait(owner, acme, make_form):
    form = make_form()
    store_submission(acme, form, "quarantined")
    response = owner.post(f"{edit_url(form)}/delete")
    assert response.status_code == 409 and "1 are in quarantine" in response.get_data(as_text=True)
    assert stored(acme, form.id) is not None


@pytest.mark.parametrize("email", ["ann@acme.test", "manager@acme.test"])
def test_members_without_forms_manage_get_403(acme, members, make_form, email):
    form = make_form()
    client = logged_in(email)
    for method, path in (("get", LIST), ("get", NEW), ("post", NEW), ("get", edit_url(form)), ("post", edit_url(form)),
                         ("post", f"{edit_url(form)}/publish"), ("get", f"{edit_url(form)}/delete"),
                         ("post", f"{edit_url(form)}/delete")):
        assert getattr(client, method)(path).status_code == 403, (method, path)
    assert stored(acme, form.id) is not None


def test_plugin_off_and_other_tenants_forms_are_404(owner, acme, world, make_form):
    beta = world.tenant("beta", owner_email="owner@beta.test")
    switch(beta, "lead_capture", True)
    theirs = make_form(tenant=beta)
    assert owner.get(f"/t/acme/admin/forms/{theirs.id}").status_code == 404
    assert owner.post(f"/t/acme/admin/forms/{theirs.id}/delete").status_code == 404
    assert owner.get(f"/t/acme/admin/forms/{uuid.uuid4()}").status_code == 404
    assert stored(beta, theirs.id) is not None
    switch(acme, "lead_capture", False)
    assert owner.get(LIST).status_code == 404 and owner.get(NEW).status_code == 404


def test_names_labels_and_texts_are_escaped(owner, acme, make_form):
    evil = '<script>alert("x")</script>'
    form = make_form(name=evil, consent_text="<b>agree</b>", allowed_origins=["https://a.example"],
                     fields=[{"key": "email", "label": "<img src=x onerror=alert(1)>", "required": True}])
    for path in (LIST, edit_url(form), f"{edit_url(form)}/delete"):
        page = owner.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>agree" not in page, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page, path
    page = owner.get(edit_url(form)).get_data(as_text=True)
    assert 'value="&lt;img src=x onerror=alert(1)&gt;"' in page
    # The snippet escapes the name for the tenant's page, and the builder escapes the snippet again.
    assert 'title="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"' in text_of(page, "snippet-iframe")


def test_embed_snippets_are_shown_as_text_with_a_copy_hint(owner, acme, make_form, app):
    form = make_form()
    page = owner.get(edit_url(form)).get_data(as_text=True)
    base = app.config["BASE_URL"]
    iframe = text_of(page, "snippet-iframe")
    assert iframe.startswith(f'<iframe src="{base}/t/acme/f/contact-us?embed=1" title="Contact us"')
    assert iframe.endswith("></iframe>")
    script = text_of(page, "snippet-script")
    assert script == f'<div data-rapport-form></div>\n<script src="{base}/t/acme/f/contact-us/embed.js" async></script>'
    assert "<iframe" not in page and "embed.js\" async></script>" not in page  # shown, not embedded
    assert "Ctrl+C" in page and "No site is allowed yet" in page
    make_form(slug="embedded", allowed_origins=["https://www.acme.example"], published=False)
    other = only_slug(acme, "embedded")
    page = owner.get(edit_url(other)).get_data(as_text=True)
    assert "<code>https://www.acme.example</code>" in page and "not published" in page


def only_slug(tenant, slug: str) -> LeadForm:
    with acting_in(tenant):
        return db.session.query(LeadForm).filter_by(slug=slug).one()


def test_new_page_starts_with_name_and_email(owner):
    page = owner.get(NEW).get_data(as_text=True)
    assert field_rows(page) == ["name", "email"] and "snippet-iframe" not in page
