"""The served app works in a real browser: sign up a company and land on its dashboard."""
import pytest

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"


def test_sign_up_lands_on_empty_dashboard(page, live_server):
    page.goto(live_server.url + "/signup")
    page.get_by_label("Company name").fill("Smoke Test Ltd")
    page.get_by_label("Address").fill("smoke")
    page.get_by_label("Your email").fill("owner@smoke.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create company").click()
    page.wait_for_url(live_server.url + "/t/smoke/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert page.locator("header").get_by_text("Smoke Test Ltd").is_visible()


def test_bad_signup_shows_the_field_error_and_keeps_input(page, live_server):
    page.goto(live_server.url + "/signup")
    page.get_by_label("Company name").fill("<b>Bold</b> Co")
    page.get_by_label("Address").fill("-bad-")
    page.get_by_label("Your email").fill("owner@bad.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create company").click()
    assert page.locator("#e-slug").is_visible()
    assert page.get_by_label("Company name").input_value() == "<b>Bold</b> Co"
