"""Custom fields in a real browser: a label, help text or option label holding HTML or script is
shown as text on every page (form, record, list, admin) and never runs.

The owner signs up through the UI, makes an API token on the admin tokens page, and defines the
fields through the API, as an integration would."""
from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.steps import Company, follow, open_page, sign_up

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SHOP = Company("Evil Fields Ltd", "evilfields", "Eve Owner", "eve@evilfields.test")


def api_post(base_url: str, token: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{base_url}/t/{SHOP.slug}/api/v1/{path}", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201), response.status
        return json.loads(response.read())


@pytest.fixture(scope="module")
def owner(browser, live_server):
    page = open_page(browser)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_up(page, live_server.url, SHOP)
    page.goto(f"{live_server.url}/t/{SHOP.slug}/admin/tokens")
    page.get_by_label("Name").fill("field setup")
    follow(page.get_by_role("button", name="Create token"))
    token = page.locator("#secret").input_value()
    api_post(live_server.url, token, "fields/contacts", {
        "key": "evil", "label": SCRIPT, "help_text": IMG, "type": "select", "filterable": True,
        "options": [{"value": "img", "label": IMG}, {"value": "script", "label": SCRIPT}],
    })
    api_post(live_server.url, token, "fields/contacts", {
        "key": "evil_many", "label": IMG, "type": "multi_select", "options": [{"value": "a", "label": SCRIPT}],
    })
    page.dialogs = dialogs
    yield page
    page.context.close()


def shows_literally(page, text: str) -> None:
    expect(page.get_by_text(text, exact=True).filter(visible=True).first).to_be_visible()


def no_injected_elements(page) -> None:
    """The admins' text made no element: no script with alert, no image pointing at "x"."""
    scripts = page.locator("script").evaluate_all("els => els.filter(e => e.textContent.includes('alert')).length")
    assert scripts == 0 and page.locator("img[src='x']").count() == 0


def test_form_shows_label_help_and_options_as_text(owner, live_server):
    owner.goto(f"{live_server.url}/t/{SHOP.slug}/contacts/new")
    field = owner.get_by_role("combobox", name=SCRIPT)
    expect(field).to_be_visible()  # the label names the select: it is a label, not a script
    shows_literally(owner, IMG)  # help text and the multi-select's legend
    assert [o.strip() for o in field.locator("option").all_inner_texts()] == ["None", IMG, SCRIPT]
    expect(owner.get_by_role("checkbox", name=SCRIPT)).to_be_visible()
    owner.get_by_label("Last name").fill("Tables")
    field.select_option(label=IMG)
    owner.get_by_role("checkbox", name=SCRIPT).check()
    follow(owner.get_by_role("button", name="Save"))
    details = owner.get_by_role("region", name="Details")
    expect(details.get_by_text(SCRIPT, exact=True).filter(visible=True).first).to_be_visible()  # the label, and the chosen option
    expect(details.get_by_text(IMG, exact=True).filter(visible=True).first).to_be_visible()
    no_injected_elements(owner)
    assert owner.dialogs == []


def test_list_filter_and_column_show_labels_as_text(owner, live_server):
    owner.goto(f"{live_server.url}/t/{SHOP.slug}/contacts")
    search = owner.get_by_role("search")
    expect(search.get_by_label(SCRIPT)).to_be_visible()
    search.get_by_label(SCRIPT).select_option(label=IMG)
    follow(search.get_by_role("button", name="Apply"))
    expect(owner.get_by_role("columnheader", name=SCRIPT)).to_be_visible()
    expect(owner.get_by_role("cell", name=IMG)).to_be_visible()
    expect(owner.get_by_role("link", name="Tables")).to_be_visible()
    no_injected_elements(owner)
    assert owner.dialogs == []


def test_admin_field_pages_show_labels_as_text(owner, live_server):
    owner.goto(f"{live_server.url}/t/{SHOP.slug}/admin/fields/contacts")
    expect(owner.get_by_role("cell").filter(has_text=SCRIPT).first).to_be_visible()
    shows_literally(owner, IMG)  # the help text
    no_injected_elements(owner)
    owner.goto(f"{live_server.url}/t/{SHOP.slug}/admin/fields/contacts/evil/edit")
    expect(owner.get_by_role("heading", name=f"Edit field {SCRIPT}")).to_be_visible()
    expect(owner.locator("#f-label")).to_have_value(SCRIPT)
    no_injected_elements(owner)
    assert owner.dialogs == []
