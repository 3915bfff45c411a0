"""Issue 2's scenario in a real browser against gunicorn: a company signs up, invites a colleague by
mail, records an account with two contacts and a lead through its stages, and a second company sees
none of it. The same steps then run on a phone-sized screen, where every page must fit its width.

The module's people keep their browser contexts (their sessions) from step to step; each step is a
fixture, so any one test can run alone and brings the steps it stands on with it."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.steps import (
    PHONE, STAGES, Company, accept_invitation, add_contact, assert_fits_the_screen, create_record, follow, go_to,
    invitation_link, invite, member_row, move_lead, open_page, record_names, related_names, search, sign_up,
    stage_history,
)

pytestmark = pytest.mark.browser

ACME = Company("Acme Trading", "acme", "Olivia Owner", "olivia@acme.test")
GLOBEX = Company("Globex Corp", "globex", "Hank Scorpio", "hank@globex.test")
CONTACTS = (("Ada", "Lovelace", "ada@engines.test"), ("Charles", "Babbage", "charles@engines.test"))
LEAD = "Difference engine order"


def close(page) -> None:
    page.context.close()


@pytest.fixture(scope="module")
def owner(browser, live_server):
    """Acme's owner, just signed up, in a browser of their own."""
    page = open_page(browser)
    sign_up(page, live_server.url, ACME)
    yield page
    close(page)


@pytest.fixture(scope="module")
def colleague(browser, live_server, smtp, owner):
    """An agent invited by Acme's owner, who joined through the mailed link in another browser."""
    invite(owner, "grace@acme.test", "Agent")
    page = open_page(browser)
    accept_invitation(page, invitation_link(smtp, "grace@acme.test"), "Grace Agent", ACME, live_server.url)
    yield page
    close(page)


@pytest.fixture(scope="module")
def account_url(owner):
    """Acme's account with two contacts, added from the account page."""
    url = create_record(owner, "Accounts", "Account", {"Name": "Analytical Engines"}, "Analytical Engines")
    for first, last, email in CONTACTS:
        add_contact(owner, url, first, last, email)
    return url


@pytest.fixture(scope="module")
def lead_url(owner):
    """Acme's lead, moved by its owner from target to customer one stage at a time."""
    url = create_record(owner, "Leads", "Lead", {"Name": LEAD, "Company": "Analytical Engines"}, LEAD)
    for stage in STAGES[1:]:
        move_lead(owner, stage)
    return url


@pytest.fixture(scope="module")
def rival(browser, live_server, account_url, lead_url):
    """Globex's owner, signed up after Acme has its records."""
    page = open_page(browser)
    sign_up(page, live_server.url, GLOBEX)
    yield page
    close(page)


def test_sign_up_lands_in_an_empty_tenant(owner):
    expect(owner.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(owner.locator("header").get_by_text(ACME.name)).to_be_visible()
    for counter in ("0 accounts", "0 contacts", "0 leads"):
        expect(owner.get_by_role("link", name=counter)).to_be_visible()


def test_invited_colleague_joins_with_the_agent_role(owner, colleague):
    expect(colleague.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(colleague.get_by_role("link", name="Grace Agent")).to_be_visible()  # logged in, as herself
    # The agent role holds no right to manage members: no such menu entry for them.
    expect(colleague.get_by_role("link", name="Members", exact=True)).to_have_count(0)
    row = member_row(owner, "grace@acme.test")
    expect(row.get_by_role("cell", name="Active", exact=True)).to_be_visible()
    expect(row.get_by_role("combobox", name="Role of grace@acme.test")).to_have_value(
        row.get_by_role("option", name="Agent").get_attribute("value")
    )


def test_account_page_lists_both_contacts(owner, account_url):
    owner.goto(account_url)
    assert sorted(related_names(owner, "Contacts")) == ["Ada Lovelace", "Charles Babbage"]
    # Each contact belongs to the account: its page links back to it.
    follow(owner.get_by_role("region", name="Contacts").get_by_role("link", name="Ada Lovelace"))
    expect(owner.get_by_role("region", name="Details").get_by_role("link", name="Analytical Engines")).to_be_visible()
    assert search(owner, "Contacts", "Lovelace") == ["Ada Lovelace"]


def test_lead_timeline_shows_every_stage_change_and_its_author(owner, lead_url):
    owner.goto(lead_url)
    history = stage_history(owner)
    expected = ["Stage set to Target"] + [f"Stage changed from {a} to {b}" for a, b in zip(STAGES, STAGES[1:])]
    assert len(history) == len(expected), history
    for entry, change in zip(history, reversed(expected)):  # newest first
        assert change in entry and entry.endswith(f"by {ACME.owner_email}"), entry


def test_second_tenant_sees_none_of_the_first(rival, account_url, lead_url):
    for counter in ("0 accounts", "0 contacts", "0 leads"):
        expect(rival.get_by_role("link", name=counter)).to_be_visible()
    for menu_entry in ("Accounts", "Contacts", "Leads"):
        go_to(rival, menu_entry)
        expect(rival.get_by_role("cell", name="No records match.")).to_be_visible()
    for first, last, email in CONTACTS:
        for text in (first, last, email):
            assert search(rival, "Contacts", text) == []
    assert search(rival, "Leads", LEAD) == []
    # Acme's records, by Acme's address and by their ids under Globex's own address.
    for url in (account_url, lead_url):
        for address in (url, url.replace(f"/t/{ACME.slug}/", f"/t/{GLOBEX.slug}/")):
            assert rival.goto(address).status == 404, address


# --- the same steps on a phone ----------------------------------------------------------------------

INITECH = Company("Initech Mobile", "initech", "Peter Phone", "peter@initech.test")


@pytest.fixture(scope="module")
def phone_owner(browser, live_server):
    """Initech's owner, who signed up on a phone."""
    page = open_page(browser, **PHONE)
    page.goto(live_server.url + "/signup")
    assert_fits_the_screen(page)
    sign_up(page, live_server.url, INITECH)
    yield page
    close(page)


def test_phone_sign_up_and_invitation(browser, live_server, smtp, phone_owner):
    assert_fits_the_screen(phone_owner)  # the dashboard
    invite(phone_owner, "milton@initech.test", "Agent")
    assert_fits_the_screen(phone_owner)  # the members list and the invitation form
    colleague = open_page(browser, **PHONE)
    try:
        link = invitation_link(smtp, "milton@initech.test")
        colleague.goto(link)
        assert_fits_the_screen(colleague)
        accept_invitation(colleague, link, "Milton", INITECH, live_server.url)
    finally:
        close(colleague)


def test_phone_account_with_contacts(phone_owner):
    account = create_record(phone_owner, "Accounts", "Account", {"Name": "Stapler Supplies"}, "Stapler Supplies")
    follow(phone_owner.get_by_role("region", name="Contacts").get_by_role("link", name="Add Contact"))
    assert_fits_the_screen(phone_owner)  # the record form
    for first, last, email in CONTACTS:
        add_contact(phone_owner, account, first, last, email)
    phone_owner.goto(account)
    assert sorted(related_names(phone_owner, "Contacts")) == ["Ada Lovelace", "Charles Babbage"]
    assert_fits_the_screen(phone_owner)
    go_to(phone_owner, "Contacts")
    assert sorted(record_names(phone_owner)) == ["Ada Lovelace", "Charles Babbage"]
    assert_fits_the_screen(phone_owner)  # the list, its search and filters


def test_phone_lead_through_the_stages(phone_owner):
    create_record(phone_owner, "Leads", "Lead", {"Name": "Red stapler"}, "Red stapler")
    for stage in STAGES[1:]:
        move_lead(phone_owner, stage)
    assert len(stage_history(phone_owner)) == len(STAGES)
    assert_fits_the_screen(phone_owner)  # the stage control and the timeline
