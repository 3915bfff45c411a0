"""The field builder under ``/t/<slug>/admin/fields/<record_type>``."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from rapport import crm, tenancy
from rapport.db import db
from rapport.models import Contact, FieldDefinition
from tests.api.conftest import ApiClient, token_for
from tests.fields.conftest import OPERATOR

BASE = "/t/acme/admin/fields/contacts"
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def acme(world):
    return world.tenant("acme", owner_email="owner@acme.test")


@pytest.fixture
def owner(client, world, acme):
    world.login(client, "owner@acme.test")
    return client


def _definition(tenant, key):
    db.session.expire_all()
    with tenancy.tenant_scope(tenant.id):
        return db.session.scalar(select(FieldDefinition).where(FieldDefinition.key == key))


def _add(client, **form):
    data = {"key": "industry", "label": "Industry", "type": "select", "show_in.staff": "1", "show_in.api": "1",
            "option_value": ["retail", "tech", "farm", ""], "option_label": ["Retail", "Tech", "Farming", ""]}
    data.update(form)
    return client.post(f"{BASE}/new", data=data)


def _contact(tenant, custom):
    with tenancy.tenant_scope(tenant.id):
        contact = crm.create("contacts", {"first_name": "A", "last_name": "B", "custom": custom}, OPERATOR)
        db.session.commit()
        return contact.id


def _custom(tenant, contact_id):
    db.session.expire_all()
    with tenancy.tenant_scope(tenant.id):
        return db.session.get(Contact, (tenant.id, contact_id)).custom


def test_add_a_field_and_see_it_listed(owner, acme):
    page = owner.get(f"{BASE}/new")
    assert page.status_code == 200 and 'name="option_value"' in page.get_data(as_text=True)
    response = _add(owner, pii="1", filterable="1", **{"text.max_length": "50"})
    assert response.status_code == 302, response.get_data(as_text=True)
    stored = _definition(acme, "industry")
    assert [o["value"] for o in stored.options] == ["retail", "tech", "farm"]
    assert stored.pii and stored.filterable and stored.config == {}  # text settings ignored for a select
    assert stored.show_in == {"staff": True, "api": True, "forms": False, "portal": "none"}
    listing = owner.get(BASE).get_data(as_text=True)
    assert "Industry" in listing and "<code>industry</code>" in listing
    # the new field is live on the next request: records validate with it
    assert _custom(acme, _contact(acme, {"industry": "tech"})) == {"industry": "tech"}


def test_a_changed_label_shows_in_the_api_on_the_next_request(owner, client, acme):
    _add(owner)
    api = ApiClient(client, "acme", token_for(acme, "owner@acme.test"))
    assert api.get("/fields/contacts/industry").get_json()["label"] == "Industry"
    form = {"label": "Sector", "type": "select", "show_in.staff": "1", "show_in.api": "1",
            "option_value": ["retail", "tech", "farm"], "option_label": ["Retail", "Tech", "Farming"]}
    assert owner.post(f"{BASE}/industry/edit", data=form).status_code == 302
    assert api.get("/fields/contacts/industry").get_json()["label"] == "Sector"


def test_type_specific_settings_are_read(owner, acme):
    response = owner.post(f"{BASE}/new", data={
        "key": "budget", "label": "Budget", "type": "currency", "number.currency": "EUR", "number.min": "0",
        "number.max": "1000", "number.decimals": "2", "show_in.staff": "1", "roles": ["admin"]})
    assert response.status_code == 302, response.get_data(as_text=True)
    stored = _definition(acme, "budget")
    assert stored.config == {"currency": "EUR", "min": 0.0, "max": 1000.0, "decimals": 2}
    assert stored.roles == ["admin"] and stored.show_in["api"] is False


def test_errors_are_shown_next_to_fields_with_input_kept(owner, acme):
    response = _add(owner, key="Bad Key", label="Kept label", **{"option_value": ["a", "a"], "option_label": ["A", "B"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-key"' in html and 'value="Kept label"' in html and 'value="Bad Key"' in html
    duplicate = _add(owner, **{"option_value": ["a", "a"], "option_label": ["A", "B"]})
    assert duplicate.status_code == 422 and 'id="e-options"' in duplicate.get_data(as_text=True)
    assert _definition(acme, "industry") is None
    bad_setting = owner.post(f"{BASE}/new", data={"key": "n", "label": "N", "type": "number", "number.decimals": "many"})
    assert bad_setting.status_code == 422 and 'id="e-number.decimals"' in bad_setting.get_data(as_text=True)
    _add(owner)
    taken = _add(owner)
    assert taken.status_code == 422 and 'id="e-key"' in taken.get_data(as_text=True)


def test_user_text_is_escaped_everywhere(owner, acme):
    response = _add(owner, label=XSS, help_text=XSS, option_label=[XSS, "Tech", "Farming", ""])
    assert response.status_code == 302
    pages = [owner.get(BASE), owner.get(f"{BASE}/industry/edit"), owner.get(f"{BASE}/industry/delete")]
    for page in pages:
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_agent_gets_403(client, world, acme):
    _contact(acme, {})
    world.member(acme, "agent@acme.test", "agent")
    world.login(client, "agent@acme.test")
    assert client.get(BASE).status_code == 403
    assert client.post(f"{BASE}/new", data={"key": "x", "label": "X", "type": "text"}).status_code == 403
    assert _definition(acme, "x") is None


def test_unknown_record_type_or_key_is_404(owner):
    assert owner.get("/t/acme/admin/fields/activities").status_code == 404
    assert owner.get(f"{BASE}/nope/edit").status_code == 404
    assert owner.post(f"{BASE}/nope/archive").status_code == 404


def test_edit_label_touches_no_data(owner, acme):
    _add(owner)
    contact = _contact(acme, {"industry": "tech"})
    form = {"label": "Sector", "type": "select", "show_in.staff": "1", "show_in.api": "1",
            "option_value": ["retail", "tech", "farm"], "option_label": ["Retail", "Technology", "Farming"]}
    assert owner.post(f"{BASE}/industry/edit", data=form).status_code == 302
    stored = _definition(acme, "industry")
    assert stored.label == "Sector" and stored.options[1]["label"] == "Technology"
    assert _custom(acme, contact) == {"industry": "tech"}


def test_removing_an_option_asks_first_with_the_count(owner, acme):
    _add(owner)
    holders = [_contact(acme, {"industry": "farm"}) for _ in range(2)]
    form = {"label": "Industry", "type": "select", "show_in.staff": "1", "show_in.api": "1",
            "option_value": ["retail", "tech"], "option_label": ["Retail", "Tech"]}
    confirm = owner.post(f"{BASE}/industry/edit", data=form)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "2 record(s)" in html and 'name="confirmed"' in html
    assert len(_definition(acme, "industry").options) == 3 and _custom(acme, holders[0]) == {"industry": "farm"}
    assert owner.post(f"{BASE}/industry/edit", data={**form, "confirmed": "1"}).status_code == 302
    assert len(_definition(acme, "industry").options) == 2
    assert [_custom(acme, h) for h in holders] == [{}, {}]


def test_type_change_lists_unconvertible_values_and_drops_only_when_told(owner, acme):
    owner.post(f"{BASE}/new", data={"key": "size", "label": "Size", "type": "text", "show_in.staff": "1"})
    good, bad = _contact(acme, {"size": "12"}), _contact(acme, {"size": "<b>big</b>"})
    form = {"label": "Size", "type": "number", "show_in.staff": "1"}
    confirm = owner.post(f"{BASE}/size/edit", data=form)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and str(bad) in html and "&lt;b&gt;big&lt;/b&gt;" in html
    refused = owner.post(f"{BASE}/size/edit", data={**form, "confirmed": "1"})
    assert refused.status_code == 422 and _definition(acme, "size").type == "text"
    done = owner.post(f"{BASE}/size/edit", data={**form, "confirmed": "1", "drop": "1"})
    assert done.status_code == 302 and _definition(acme, "size").type == "number"
    assert _custom(acme, good) == {"size": 12} and _custom(acme, bad) == {}


def test_text_to_select_with_a_mapping(owner, acme):
    owner.post(f"{BASE}/new", data={"key": "trade", "label": "Trade", "type": "text", "show_in.staff": "1"})
    shop = _contact(acme, {"trade": "Shop = store"})
    form = {"label": "Trade", "type": "select", "show_in.staff": "1", "mapping": "Shop = store = retail",
            "option_value": ["retail"], "option_label": ["Retail"], "confirmed": "1"}
    assert owner.post(f"{BASE}/trade/edit", data=form).status_code == 302
    assert _custom(acme, shop) == {"trade": "retail"}


def test_reorder_archive_restore(owner, acme):
    for key in ("a", "b", "c"):
        owner.post(f"{BASE}/new", data={"key": key, "label": key.upper(), "type": "text"})
    assert owner.post(f"{BASE}/c/move", data={"direction": "up"}).status_code == 302
    owner.post(f"{BASE}/a/move", data={"direction": "up"})  # already first: nothing moves
    order = re.findall(r'<tr id="field-(\w+)">', owner.get(BASE).get_data(as_text=True))
    assert order == ["a", "c", "b"]
    assert owner.post(f"{BASE}/b/archive").status_code == 302
    assert _definition(acme, "b").status == "archived" and "Archived" in owner.get(BASE).get_data(as_text=True)
    owner.post(f"{BASE}/b/restore")
    assert _definition(acme, "b").status == "active"


def test_delete_only_after_typing_the_key(owner, acme):
    _add(owner)
    contact = _contact(acme, {"industry": "tech"})
    page = owner.get(f"{BASE}/industry/delete")
    assert page.status_code == 200 and 'name="confirm"' in page.get_data(as_text=True)
    wrong = owner.post(f"{BASE}/industry/delete", data={"confirm": "Industry"})
    assert wrong.status_code == 422 and 'id="e-confirm"' in wrong.get_data(as_text=True)
    assert _definition(acme, "industry").status == "active"
    assert owner.post(f"{BASE}/industry/delete", data={"confirm": "industry"}).status_code == 302
    assert _definition(acme, "industry").status == "deleted" and _custom(acme, contact) == {}
    assert "industry" not in owner.get(BASE).get_data(as_text=True)
    assert owner.get(f"{BASE}/industry/edit").status_code == 404


def test_menu_links_to_the_builder(owner):
    html = owner.get("/t/acme/admin/fields").headers["Location"]
    assert html.endswith("/t/acme/admin/fields/accounts")
    assert "/t/acme/admin/fields" in owner.get("/t/acme/admin/roles").get_data(as_text=True)
