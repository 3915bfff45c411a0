"""Stored script payloads never run: in the company name, record names and texts, custom-field labels,
help texts, option labels and values, on every page a member opens (lists, records, forms, search,
admin pages, API docs), in a real browser.

Each payload sets ``window.__pwned`` or opens a dialog if it ever runs; after each page the test
asserts that neither happened. The records are written through the API (as an integration would) and
through the staff form (as a person would)."""
from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.steps import Company, follow, open_page, sign_up

IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=1</script>"
ATTRIBUTE = '" autofocus onfocus="window.__pwned=1" x="'
SVG = "<svg onload=alert(1)>"
LINK = "javascript:window.__pwned=1"
NAME = re.compile(r"^Name( \*)?$")  # "*": required
SHOP = Company(f"Evil {IMG} Ltd", "evilpages", f"Mallory {SCRIPT}", "mallory@evilpages.test")


def api(base_url: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base_url}/t/{SHOP.slug}/api/v1/{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


@pytest.fixture(scope="module")
def owner(browser, live_server):
    page = open_page(browser)
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    sign_up(page, live_server.url, SHOP)
    page.goto(f"{live_server.url}/t/{SHOP.slug}/admin/tokens")
    page.get_by_label("Name").fill(SCRIPT)
    follow(page.get_by_role("button", name="Create token"))
    page.token = page.locator("#secret").input_value()
    _stock(live_server.url, page.token)
    yield page
    page.context.close()


def _stock(base_url: str, token: str) -> None:
    """Custom fields whose every text is a payload, and records full of payloads, through the API."""
    for record_type in ("accounts", "contacts", "leads"):
        api(base_url, token, "POST", f"fields/{record_type}", {
            "key": "evil", "label": IMG, "help_text": SCRIPT, "type": "select", "filterable": True,
            "options": [{"value": "img", "label": IMG}, {"value": "script", "label": SCRIPT}],
        })
        api(base_url, token, "POST", f"fields/{record_type}", {
            "key": "evil_text", "label": SCRIPT, "help_text": ATTRIBUTE, "type": "text", "filterable": True})
        api(base_url, token, "POST", f"fields/{record_type}", {
            "key": "evil_many", "label": ATTRIBUTE, "type": "multi_select", "filterable": True,
            "options": [{"value": "a", "label": SVG}, {"value": "b", "label": IMG}]})
    custom = {"evil": "img", "evil_text": IMG, "evil_many": ["a", "b"]}
    account = api(base_url, token, "POST", "accounts", {
        "name": IMG, "industry": SCRIPT, "website": "https://example.test/" + urllib.parse.quote(SCRIPT), "custom": custom})
    contact = api(base_url, token, "POST", "contacts", {
        "first_name": SCRIPT, "last_name": IMG, "title": ATTRIBUTE, "account_id": account["id"], "custom": custom})
    lead = api(base_url, token, "POST", "leads", {
        "name": SCRIPT, "company": IMG, "source": SVG, "account_id": account["id"], "contact_id": contact["id"],
        "custom": {**custom, "evil": "script", "evil_text": SCRIPT}})
    api(base_url, token, "POST", "activities", {"kind": "note", "subject": IMG, "body": f"{SCRIPT}\n{ATTRIBUTE}",
                                                  "lead_id": lead["id"]})


def assert_nothing_ran(page, where: str) -> None:
    assert page.evaluate("() => window.__pwned") is None, f"a payload ran on {where}"
    assert page.dialogs == [], f"a payload opened a dialog on {where}: {page.dialogs}"
    injected = page.locator("img[src='x'], svg[onload], [onerror], [onfocus], [onload]").count()
    assert injected == 0, f"{where}: a payload made an element with a handler"


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    page.wait_for_load_state("load")
    assert_nothing_ran(page, url)


def record_urls(page, base: str, record_type: str) -> list[str]:
    page.goto(f"{base}/{record_type}")
    links = page.locator("main a[href*='/%s/']" % record_type).evaluate_all("els => els.map(e => e.href)")
    return sorted({link for link in links if link.rstrip("/").split("/")[-1].count("-") == 4})


def test_no_stored_payload_runs_on_any_page(owner, live_server):
    base = f"{live_server.url}/t/{SHOP.slug}"
    pages = [f"{base}/", f"{base}/admin/fields", f"{base}/admin/members", f"{base}/admin/tokens",
             f"{base}/admin/audit", f"{base}/import", f"{base}/export", f"{base}/api/v1/docs"]
    for record_type in ("accounts", "contacts", "leads", "activities"):
        pages += [f"{base}/{record_type}", f"{base}/{record_type}/new",
                  f"{base}/{record_type}?q={urllib.parse.quote(IMG)}&custom.evil=img&custom.evil_text__contains=%3C"]
        if record_type != "activities":
            pages.append(f"{base}/admin/fields/{record_type}")
        for url in record_urls(owner, base, record_type):
            pages += [url, f"{url}/edit"]
    assert sum("/edit" in url for url in pages) >= 4, "every record type should have a record to open"
    for url in pages:
        visit(owner, url)


def test_payload_typed_into_the_staff_form_does_not_run(owner, live_server):
    base = f"{live_server.url}/t/{SHOP.slug}"
    owner.goto(f"{base}/accounts/new")
    owner.get_by_label(NAME).fill(ATTRIBUTE + SCRIPT)
    owner.get_by_label("Industry").fill(IMG)
    owner.get_by_role("textbox", name=SCRIPT).fill(SVG)  # the custom text field, labelled with a payload
    follow(owner.get_by_role("button", name="Save"))
    assert_nothing_ran(owner, owner.url)
    expect(owner.get_by_role("heading", level=1)).to_have_text(f"Account {ATTRIBUTE}{SCRIPT}")  # shown as text
    owner.goto(owner.url + "/edit")
    assert owner.get_by_label(NAME).input_value() == ATTRIBUTE + SCRIPT
    assert_nothing_ran(owner, owner.url)
    # A refused form shows what was typed, still as text.
    owner.get_by_label(NAME).fill("")
    owner.get_by_label("Industry").fill(SCRIPT)
    with owner.expect_navigation():
        owner.get_by_role("button", name="Save").click()
    assert owner.get_by_label("Industry").input_value() == SCRIPT
    assert_nothing_ran(owner, "the refused form")
