"""Custom fields in the staff web UI: forms, record pages, timeline, lists and escaping."""
from __future__ import annotations

import html
import re

import pytest
from marshmallow import ValidationError

from rapport import listing, tenancy
from rapport.db import db
from rapport.fields.definitions import create_definition
from rapport.pipeline import Actor
from tests.ui.conftest import build_shop, text

OPERATOR = Actor.operator()
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def define(shop, record_type="contacts", **data):
    data.setdefault("label", data["key"].replace("_", " ").title())
    with tenancy.tenant_scope(shop.tenant.id):
        definition = create_definition(shop.tenant, record_type, data, OPERATOR)
        db.session.commit()
        return definition.key


def every_type(shop, record_type="contacts"):
    """One field of each built-in type, in this order."""
    define(shop, record_type, key="nickname", type="text", help_text="What friends call them")
    define(shop, record_type, key="notes", type="long_text")
    define(shop, record_type, key="employees", type="number")
    define(shop, record_type, key="budget", type="currency", config={"currency": "EUR"})
    define(shop, record_type, key="renewal", type="date")
    define(shop, record_type, key="last_call", type="datetime")
    define(shop, record_type, key="vip", type="boolean")
    define(shop, record_type, key="tier", type="select", options=[{"value": "gold", "label": "Gold tier"},
                                                                  {"value": "silver", "label": "Silver tier"}])
    define(shop, record_type, key="topics", type="multi_select", options=[{"value": "crm", "label": "CRM stuff"},
                                                                          {"value": "erp", "label": "ERP stuff"}])
    define(shop, record_type, key="billing_email", type="email")
    define(shop, record_type, key="mobile", type="phone")
    define(shop, record_type, key="homepage", type="url")
    define(shop, record_type, key="manager", type="user")


FULL_POST = {
    "last_name": "Li", "custom.nickname": "小李", "custom.notes": "Line one\nline two", "custom.employees": "42",
    "custom.budget": "1200.50", "custom.renewal": "2027-03-01", "custom.last_call": "2026-11-02T09:30",
    "custom.vip": "on", "custom.tier": "gold", "custom.topics": ["crm", "erp"],
    "custom.billing_email": "li@Example.COM", "custom.mobile": "+86 138 0013 8000",
    "custom.homepage": "https://li.example",
}


@pytest.fixture
def shop(world):
    return build_shop(world, "acme")


def contact_of(shop, last_name):
    from sqlalchemy import select

    from rapport.models import Contact

    db.session.expire_all()
    with tenancy.tenant_scope(shop.tenant.id):
        found = db.session.scalar(select(Contact).where(Contact.last_name == last_name))
        if found is not None:
            db.session.expunge(found)
        return found


def field_error(page, name: str) -> str:
    found = re.search(rf'<p class="error" id="e-{re.escape(name)}">([^<]*)</p>', text(page))
    return html.unescape(found.group(1)) if found else ""


def test_the_form_has_a_control_per_type_in_definition_order(client, shop):
    every_type(shop)
    page = text(shop.login(client).get(shop.url("contacts/new")))
    controls = re.findall(r'name="(custom\.[a-z_]+)"(?: type="([a-z-]+)")?', page)
    names = list(dict.fromkeys(name for name, _ in controls))
    assert names == ["custom.nickname", "custom.notes", "custom.employees", "custom.budget", "custom.renewal",
                     "custom.last_call", "custom.vip", "custom.tier", "custom.topics", "custom.billing_email",
                     "custom.mobile", "custom.homepage", "custom.manager"]
    types = {name: kind for name, kind in controls if kind}
    assert types == {"custom.nickname": "text", "custom.employees": "number", "custom.budget": "number",
                     "custom.renewal": "date", "custom.last_call": "datetime-local", "custom.billing_email": "email",
                     "custom.mobile": "tel", "custom.homepage": "url"}
    assert re.search(r'type="checkbox" id="f-custom.vip" name="custom.vip"', page)
    assert len(re.findall(r'type="checkbox" name="custom.topics"', page)) == 2
    assert '<textarea id="f-custom.notes" name="custom.notes"' in page
    assert '<select id="f-custom.tier" name="custom.tier"' in page and ">Gold tier</option>" in page
    assert re.search(r'name="custom.employees" type="number"[^>]*step="1"', page)
    assert re.search(r'name="custom.budget" type="number"[^>]*step="0.01"', page)
    assert "Amount in EUR" in page and "Date and time in UTC" in page and "What friends call them" in page
    # The member select lists the tenant's members by name.
    manager_select = page.split('name="custom.manager"')[1].split("</select>")[0]
    assert "Mona Manager" in manager_select and str(shop.members["manager"].id) in manager_select


def test_required_mark_and_no_fields_for_activities(client, shop):
    define(shop, key="code", type="text", required=True)
    shop.login(client)
    page = text(client.get(shop.url("contacts/new")))
    assert re.search(r'<label for="f-custom.code">Code <span aria-hidden="true">\*</span></label>', page)
    assert "custom." not in text(client.get(shop.url("activities/new")))


def test_create_converts_each_input_to_its_stored_value(client, shop):
    every_type(shop)
    post = {**FULL_POST, "custom.manager": str(shop.members["manager"].id)}
    response = shop.login(client).post(shop.url("contacts/new"), data=post)
    assert response.status_code == 302, field_error(response, "custom.budget")
    assert contact_of(shop, "Li").custom == {
        "nickname": "小李", "notes": "Line one\nline two", "employees": 42, "budget": 1200.5,
        "renewal": "2027-03-01", "last_call": "2026-11-02T09:30:00Z", "vip": True, "tier": "gold",
        "topics": ["crm", "erp"], "billing_email": "li@example.com", "mobile": "+8613800138000",
        "homepage": "https://li.example", "manager": str(shop.members["manager"].id),
    }


def test_edit_shows_stored_values_and_clears_what_is_emptied(client, shop):
    every_type(shop)
    shop.login(client)
    client.post(shop.url("contacts/new"), data=FULL_POST)
    contact = contact_of(shop, "Li")
    edit_url = shop.url(f"contacts/{contact.id}/edit")
    form = text(client.get(edit_url))
    assert 'name="custom.last_call" type="datetime-local" value="2026-11-02T09:30"' in form
    assert re.search(r'name="custom.vip" value="on" checked', form)
    assert re.search(r'name="custom.topics" value="erp" checked', form)
    assert '<option value="gold" selected>' in form
    # Untick the boolean and one option, empty the text: stored as false, one option, gone.
    response = client.post(edit_url, data={"last_name": "Li", "custom.nickname": "", "custom.topics": ["erp"],
                                           "custom.tier": "gold", "custom.employees": "43"})
    assert response.status_code == 302
    custom = contact_of(shop, "Li").custom
    assert custom["vip"] is False and custom["topics"] == ["erp"] and custom["employees"] == 43
    assert "nickname" not in custom and custom["renewal"] == "2027-03-01"  # not on the post: kept


@pytest.mark.parametrize("name,typed,reason", [
    ("custom.employees", "many", "Enter a number."),
    ("custom.budget", "1.234", "Use at most 2 decimal places."),
    ("custom.renewal", "31/01/2027", "Enter a date as YYYY-MM-DD."),
    ("custom.billing_email", "not-an-email", "Not a valid email address."),
    ("custom.mobile", "call me", "Enter a valid phone number"),
    ("custom.homepage", "javascript:alert(1)", "Not a valid URL."),
    ("custom.tier", "platinum", "Choose one of the options."),
])
def test_a_bad_value_is_named_beside_its_field_and_kept(client, shop, name, typed, reason):
    every_type(shop)
    response = shop.login(client).post(shop.url("contacts/new"), data={"last_name": "Kept", name: typed})
    assert response.status_code == 422
    assert reason in field_error(response, name)
    if name != "custom.tier":  # a select cannot show an option it does not have
        assert f'name="{name}" type=' in text(response) and f'value="{html.escape(typed)}"' in text(response)
    assert f'href="#f-{name}">' in text(response)  # the summary links to the field, by label
    assert contact_of(shop, "Kept") is None


def test_required_custom_field_on_create_and_edit(client, shop):
    define(shop, key="code", type="text", required=True)
    shop.login(client)
    response = client.post(shop.url("contacts/new"), data={"last_name": "Needs", "custom.code": ""})
    assert response.status_code == 422 and field_error(response, "custom.code") == "This field is required."
    assert client.post(shop.url("contacts/new"), data={"last_name": "Needs", "custom.code": "A1"}).status_code == 302
    contact = contact_of(shop, "Needs")
    response = client.post(shop.url(f"contacts/{contact.id}/edit"), data={"last_name": "Needs", "custom.code": ""})
    assert response.status_code == 422 and field_error(response, "custom.code") == "This field is required."
    assert contact_of(shop, "Needs").custom == {"code": "A1"}


def test_record_page_shows_values_as_people_read_them(client, shop):
    every_type(shop)
    post = {**FULL_POST, "custom.manager": str(shop.members["manager"].id)}
    shop.login(client).post(shop.url("contacts/new"), data=post)
    page = text(client.get(shop.url(f"contacts/{contact_of(shop, 'Li').id}")))
    details = page.split('id="details-title"')[1].split("</section>")[0]
    for label, shown in [("Tier", "Gold tier"), ("Topics", "CRM stuff"), ("Topics", "ERP stuff"),
                         ("Manager", "Mona Manager"), ("Vip", "Yes"), ("Nickname", "小李")]:
        assert f"<dt>{label}</dt>" in details and shown in details, (label, shown)
    assert '<a href="https://li.example" rel="noopener noreferrer">https://li.example</a>' in details
    assert 'href="mailto:li@example.com"' in details and 'href="tel:+8613800138000"' in details
    assert '<time datetime="2027-03-01">' in details and "2027" in details
    assert "2026-11-02 09:30 UTC" in details
    assert ">gold<" not in details  # the option's label, not its stored value


def test_fields_hidden_from_a_role_are_not_in_its_form_page_or_timeline(client, shop):
    define(shop, key="salary", type="number", roles=["owner", "manager"])
    define(shop, key="nickname", type="text")
    shop.login(client, "owner").post(shop.url("contacts/new"), data={
        "last_name": "Ng", "owner_id": str(shop.members["agent"].id), "custom.salary": "90000", "custom.nickname": "Nico"})
    contact = contact_of(shop, "Ng")
    assert contact.custom == {"salary": 90000, "nickname": "Nico"}
    owner_page = text(client.get(shop.url(f"contacts/{contact.id}")))
    assert "<dt>Salary</dt>" in owner_page and "90,000" in owner_page
    client.get("/logout")
    shop.login(client, "agent")
    page = text(client.get(shop.url(f"contacts/{contact.id}")))
    assert "Nico" in page and "Salary" not in page and "90000" not in page and "90,000" not in page
    form = text(client.get(shop.url(f"contacts/{contact.id}/edit")))
    assert "custom.salary" not in form and "custom.nickname" in form
    # Saving the agent's form keeps the value they cannot see.
    assert client.post(shop.url(f"contacts/{contact.id}/edit"), data={
        "last_name": "Ng", "owner_id": str(shop.members["agent"].id), "custom.nickname": "Nicky"}).status_code == 302
    assert contact_of(shop, "Ng").custom == {"salary": 90000, "nickname": "Nicky"}


def test_timeline_names_custom_changes_by_label(client, shop):
    define(shop, key="tier", type="select", label="Customer tier",
           options=[{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}])
    shop.login(client).post(shop.url("contacts/new"), data={"last_name": "Tl", "custom.tier": "silver"})
    contact = contact_of(shop, "Tl")
    client.post(shop.url(f"contacts/{contact.id}/edit"), data={"last_name": "Tl", "custom.tier": "gold"})
    timeline = text(client.get(shop.url(f"contacts/{contact.id}"))).split('id="timeline-title"')[1]
    assert '<span class="field-name">Customer tier</span>' in timeline
    assert '<span class="old">Silver</span>' in timeline and '<span class="new">Gold</span>' in timeline
    assert "custom.tier" not in timeline


def evil(shop, record_type="contacts"):
    define(shop, record_type, key="evil", type="select", label=SCRIPT, help_text=IMG, filterable=True,
           options=[{"value": "a", "label": IMG}, {"value": "b", "label": SCRIPT}])
    define(shop, record_type, key="evil_many", type="multi_select", label=IMG,
           options=[{"value": "a", "label": SCRIPT}])


def assert_escaped(page: str):
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.parametrize("record_type", ["accounts", "contacts", "leads"])
def test_labels_help_and_options_are_escaped_everywhere(client, shop, record_type):
    evil(shop, record_type)
    shop.login(client)
    assert_escaped(text(client.get(shop.url(f"{record_type}/new"))))
    post = {"name": "Evil", "last_name": "Evil", "custom.evil": "a", "custom.evil_many": ["a"]}
    response = client.post(shop.url(f"{record_type}/new"), data=post)
    assert response.status_code == 302
    record_page = text(client.get(response.headers["Location"]))
    assert_escaped(record_page)
    bad = client.post(shop.url(f"{record_type}/new"), data={**post, "custom.evil": "zzz"})
    assert bad.status_code == 422
    assert_escaped(text(bad))
    assert_escaped(text(client.get(shop.url(record_type))))  # filter control and list column


def listing_supports_custom(shop) -> bool:
    with tenancy.tenant_scope(shop.tenant.id):
        try:
            listing.build("contacts", {"custom.tier": "gold"}, shop.members["owner"])
        except ValidationError:  # "Unknown parameter": listing does not filter custom fields yet
            return False
    return True


def test_list_shows_filter_controls_and_columns_for_filterable_fields(client, shop):
    define(shop, key="tier", type="select", filterable=True, options=[{"value": "gold", "label": "Gold"}])
    define(shop, key="employees", type="number", filterable=True)
    define(shop, key="renewal", type="date", filterable=True)
    define(shop, key="nickname", type="text", filterable=True)
    define(shop, key="private", type="text")
    page = text(shop.login(client).get(shop.url("contacts")))
    form = page.split('role="search"')[1].split("</form>")[0]
    assert '<select id="f-custom.tier" name="custom.tier">' in form
    assert 'name="custom.employees__gte" type="number"' in form and 'name="custom.employees__lte" type="number"' in form
    assert 'name="custom.renewal__gte" type="date"' in form and 'name="custom.renewal__lte" type="date"' in form
    assert 'name="custom.nickname__contains"' in form and "custom.private" not in form
    head = page.split("<thead>")[1].split("</thead>")[0]
    assert "sort=custom.tier" in head and "sort=custom.employees" in head and "Nickname" not in head  # at most 3


def test_list_filters_and_sorts_by_custom_fields(client, shop):
    define(shop, key="tier", type="select", filterable=True,
           options=[{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}])
    define(shop, key="employees", type="number", filterable=True)
    if not listing_supports_custom(shop):
        pytest.skip("rapport.listing does not take custom.<key> parameters yet")
    shop.make("contacts", last_name="Big", custom={"tier": "gold", "employees": 500})
    shop.make("contacts", last_name="Small", custom={"tier": "silver", "employees": 5})
    shop.make("contacts", last_name="Mid", custom={"tier": "gold", "employees": 50})
    shop.login(client)

    def names(query):
        page = client.get(shop.url(f"contacts?{query}"))
        assert page.status_code == 200, text(page)
        body = text(page).split("<tbody>")[1]
        return [n for n in ("Big", "Mid", "Small") if f">{n}</a>" in body]

    assert names("custom.tier=gold") == ["Big", "Mid"]
    assert names("custom.employees__gte=10&custom.employees__lte=100") == ["Mid"]
    body = text(client.get(shop.url("contacts?sort=-custom.employees"))).split("<tbody>")[1]
    assert body.index(">Big<") < body.index(">Mid<") < body.index(">Small<")
    # The chosen filter stays selected, and the list's own cells show option labels.
    page = text(client.get(shop.url("contacts?custom.tier=gold")))
    assert '<option value="gold" selected>Gold</option>' in page
