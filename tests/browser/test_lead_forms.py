"""Lead forms (plugin lead_capture) in a real browser against gunicorn: the hosted form filled on a
phone-sized screen; the embedded form (script and iframe) on a page served from another origin on
localhost; a page of a site the form does not allow gets no form. The app runs on a database of its
own, provisioned through the app's code (tests/plugins/lead_capture/public_helpers.py)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.browser.steps import PHONE, assert_fits_the_screen
from tests.livesupport import LiveServer, free_port
from tests.plugins.lead_capture.public_helpers import LiveDatabase

pytestmark = pytest.mark.browser

TENANT = "acmeweb"
CONSENT = "Acme may call me about my request."
FIELDS = [
    {"key": "name", "label": None, "required": True},
    {"key": "email", "label": None, "required": True},
    {"key": "phone", "label": None, "required": False},
    {"key": "message", "label": "How can we help?", "required": False},
]


class HostSite:
    """Another site on localhost (its own port, so its own origin) serving fixed pages."""

    def __init__(self):
        self.pages: dict[str, str] = {}
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *_args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The app (gunicorn, two workers), the tenant's own site (allowed) and a stranger's (not)."""
    tmp = tmp_path_factory.mktemp("lc-browser")
    shop, stranger = HostSite(), HostSite()
    database = LiveDatabase(tmp)
    database.provision(TENANT, [
        {"slug": "contact", "name": "Contact us", "fields": FIELDS, "consent_text": CONSENT, "consent_version": 1,
         "thank_you_message": "Thanks! We will call you today.", "allowed_origins": [shop.origin]},
    ])
    instance = tmp / "live"
    instance.mkdir()
    app = LiveServer(database.app_url, instance, workers=2, migrate_url=database.owner_url,
                     extra_env={"RAPPORT_TASKS_IMMEDIATE": "1"}).start()
    form_url = f"{app.url}/t/{TENANT}/f/contact"
    script = f'<div data-rapport-form></div>\n<script src="{form_url}/embed.js" async></script>'
    for site in (shop, stranger):
        site.pages["/pricing"] = f"<!doctype html><title>Pricing</title><h1>Pricing</h1>{script}"
        site.pages["/framed"] = (f'<!doctype html><title>Framed</title>'
                                 f'<iframe src="{form_url}?embed=1" title="Contact us" width="400" height="900"></iframe>')
    yield {"app": app, "form": form_url, "shop": shop, "stranger": stranger, "db": database}
    app.stop()
    shop.close()
    stranger.close()
    database.drop()


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def stored(sites, email: str) -> dict:
    found = [s for s in sites["db"].submissions(TENANT) if s["data"].get("email") == email]
    assert len(found) == 1, found
    return found[0]


def test_hosted_form_on_a_phone(phone, sites):
    phone.goto(sites["form"] + "?utm_source=flyer&utm_campaign=spring")
    assert_fits_the_screen(phone)
    send = phone.get_by_role("button", name="Send")
    assert send.bounding_box()["height"] >= 44  # a thumb-sized target
    phone.get_by_label("Name").fill("Wang Fang")
    phone.get_by_label("Email").fill("wang.fang@example")
    phone.get_by_label("Phone").fill("138 0013 8000")
    phone.get_by_label("How can we help?").fill("A quote for 20 seats, please.")
    with phone.expect_navigation():
        send.click()
    # Each problem is announced and shown next to its field; what was typed is still there.
    expect(phone.get_by_role("alert")).to_contain_text("Please correct the following")
    expect(phone.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(phone.get_by_label("Email")).to_have_accessible_description("Not a valid email address.")
    expect(phone.locator("#e-phone")).to_contain_text("country code")
    expect(phone.locator("#e-consent")).to_be_visible()
    expect(phone.get_by_label("How can we help?")).to_have_value("A quote for 20 seats, please.")
    assert_fits_the_screen(phone)
    phone.get_by_label("Email").fill("Wang.Fang@Example.com")
    phone.get_by_label("Phone").fill("+86 138 0013 8000")
    phone.get_by_label(CONSENT).check()
    with phone.expect_navigation():
        phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_text("Thanks! We will call you today.")).to_be_visible()
    row = stored(sites, "wang.fang@example.com")
    assert row["spam_reason"] is None and row["status"] == "processed"  # the fill token came back
    assert row["data"]["phone"] == "+8613800138000" and row["consent_text"] == CONSENT
    assert row["utm"] == {"utm_source": "flyer", "utm_campaign": "spring"}
    assert row["landing_page"] == sites["form"] + "?utm_source=flyer&utm_campaign=spring"


def test_embedded_script_on_the_tenants_site(page, sites):
    shop = sites["shop"]
    page.goto(shop.origin + "/pricing?utm_source=ads&utm_medium=cpc")
    page.get_by_label("Name").fill("Li Lei")
    page.get_by_label("Email").fill("not an email")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("Email")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Email")).to_have_accessible_description("Not a valid email address.")
    page.get_by_label("Email").fill("li.lei@example.com")
    page.get_by_label(CONSENT).check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_have_text("Thanks! We will call you today.")
    row = stored(sites, "li.lei@example.com")
    assert row["status"] == "processed" and row["dedupe_key"].startswith("k:")  # the script's Idempotency-Key
    assert row["landing_page"] == shop.origin + "/pricing?utm_source=ads&utm_medium=cpc"
    assert row["utm"] == {"utm_source": "ads", "utm_medium": "cpc"}
    assert row["consent_text"] == CONSENT


def test_iframe_on_the_tenants_site(page, sites):
    page.goto(sites["shop"].origin + "/framed")
    frame = page.frame_locator("iframe")
    frame.get_by_label("Name").fill("Han Meimei")
    frame.get_by_label("Email").fill("han@example.com")
    frame.get_by_label(CONSENT).check()
    frame.get_by_role("button", name="Send").click()
    expect(frame.get_by_text("Thanks! We will call you today.")).to_be_visible()
    assert stored(sites, "han@example.com")["spam_reason"] is None


def test_a_site_the_form_does_not_allow_gets_no_form(page, sites):
    stranger = sites["stranger"]
    page.goto(stranger.origin + "/pricing")
    expect(page.locator("[data-rapport-form]")).to_have_attribute("data-rapport-error", "1")  # CORS refused
    assert page.get_by_label("Email").count() == 0
    # Posting from that page anyway is refused by the app.
    status = page.evaluate("""url => fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                     body: JSON.stringify({email: "x@example.com"})})
                                 .then(r => r.status, () => "blocked")""", sites["form"])
    assert status == "blocked"  # the preflight is refused: the browser never sends the POST
    page.goto(stranger.origin + "/framed")
    frame = page.frame_locator("iframe")
    expect(frame.get_by_label("Email")).to_have_count(0)  # frame-ancestors keeps it out
    assert [s for s in sites["db"].submissions(TENANT) if s["data"].get("email") == "x@example.com"] == []
