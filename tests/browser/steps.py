"""What a person does in Rapport, one step at a time, in a real browser.

Each step finds things the way a person would (by role, label and visible text) and waits for the
page that the step leads to, so the browser tests read as the scenario and never sleep.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Locator, Page, expect

from tests.livesupport import body_of

PASSWORD = "a long enough password"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
STAGES = ("Target", "Prospect", "Opportunity", "Customer")
INVITE_LINK = re.compile(r"https?://\S+/invite/\S+")


@dataclass(frozen=True)
class Company:
    name: str
    slug: str
    owner_name: str
    owner_email: str

    def home(self, base_url: str) -> str:
        return f"{base_url}/t/{self.slug}/"


def follow(target: Locator) -> None:
    """Click a link or a submit button and wait for the page it leads to (even the same URL again)."""
    with target.page.expect_navigation():
        target.click()


def open_page(browser, **context_options) -> Page:
    """A page in a browser context of its own: its own cookies, so its own logged-in person."""
    page = browser.new_context(**context_options).new_page()
    page.set_default_timeout(15000)
    return page


def sign_up(page: Page, base_url: str, company: Company) -> None:
    page.goto(base_url + "/signup")
    page.get_by_label("Company name").fill(company.name)
    page.get_by_label("Address").fill(company.slug)
    page.get_by_label("Your name").fill(company.owner_name)
    page.get_by_label("Your email").fill(company.owner_email)
    page.get_by_label("Password").fill(PASSWORD)
    follow(page.get_by_role("button", name="Create company"))
    expect(page).to_have_url(company.home(base_url))


def go_to(page: Page, menu_entry: str) -> None:
    """Follow an entry of the main or the administration menu."""
    for menu in ("Main", "Administration"):
        link = page.get_by_role("navigation", name=menu).get_by_role("link", name=menu_entry, exact=True)
        if link.count():
            follow(link)
            expect(page.get_by_role("heading", level=1)).to_have_text(menu_entry)
            return
    raise AssertionError(f"no menu entry {menu_entry!r} on {page.url}")


# --- members ---------------------------------------------------------------------------------------

def invite(page: Page, email: str, role: str) -> None:
    go_to(page, "Members")
    form = page.locator("form").filter(has=page.get_by_role("button", name="Send invitation"))
    form.get_by_label("Email").fill(email)
    form.get_by_label("Role", exact=True).select_option(label=role)
    follow(form.get_by_role("button", name="Send invitation"))
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {email}")


def invitation_link(smtp, email: str) -> str:
    found = INVITE_LINK.search(body_of(smtp.inbox.wait_for(email)))
    assert found, f"no invitation link in the mail to {email}"
    return found.group(0)


def accept_invitation(page: Page, link: str, name: str, company: Company, base_url: str) -> None:
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Join {company.name}")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Choose a password").fill(PASSWORD)
    follow(page.get_by_role("button", name="Join"))
    expect(page).to_have_url(company.home(base_url))


def member_row(page: Page, email: str):
    go_to(page, "Members")
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=email, exact=True))


# --- records ---------------------------------------------------------------------------------------

def fill_record_form(page: Page, values: dict[str, str]) -> None:
    for label, value in values.items():
        page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$")).fill(value)  # "*": required
    follow(page.get_by_role("button", name="Save"))


def create_record(page: Page, menu_entry: str, singular: str, values: dict[str, str], title: str) -> str:
    """Create a record from its list's "New ..." link; returns the record page's URL."""
    go_to(page, menu_entry)
    follow(page.get_by_role("link", name=f"New {singular}"))
    fill_record_form(page, values)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{singular} {title}")
    return page.url


def add_contact(page: Page, account_url: str, first: str, last: str, email: str) -> None:
    """From the account page's "Add Contact" link; the new contact belongs to that account."""
    page.goto(account_url)
    follow(page.get_by_role("region", name="Contacts").get_by_role("link", name="Add Contact"))
    fill_record_form(page, {"First name": first, "Last name": last, "Email": email})
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Contact {first} {last}")


def related_names(page: Page, section: str) -> list[str]:
    """Names of the records listed in a record page's section, e.g. an account's contacts."""
    region = page.get_by_role("region", name=section)
    return region.get_by_role("listitem").get_by_role("link").all_inner_texts()


def search(page: Page, menu_entry: str, text: str) -> list[str]:
    """Search a list; returns the names of the records shown (links of the first column)."""
    go_to(page, menu_entry)
    page.get_by_role("search").get_by_label("Search").fill(text)
    follow(page.get_by_role("button", name="Apply"))
    expect(page.get_by_role("search").get_by_label("Search")).to_have_value(text)  # the search was run
    return record_names(page)


def record_names(page: Page) -> list[str]:
    rows = page.get_by_role("table").get_by_role("row").filter(has=page.get_by_role("cell"))
    return [row.get_by_role("link").first.inner_text() for row in rows.all() if row.get_by_role("link").count()]


def move_lead(page: Page, stage: str) -> None:
    section = page.get_by_role("region", name="Stage")
    section.get_by_label("Move to stage").select_option(label=stage)
    follow(section.get_by_role("button", name="Change stage"))
    expect(page.get_by_role("status")).to_have_text(f"Stage is now {stage}.")
    expect(section.locator("[aria-current=step]")).to_have_text(stage)


def stage_history(page: Page) -> list[str]:
    """The lead page's timeline entries about its stage, newest first, each with its author."""
    entries = page.get_by_role("region", name="Timeline").get_by_role("listitem")
    texts = entries.filter(has_text=re.compile("Stage (set to|changed from)")).all_inner_texts()
    return [" ".join(text.split()) for text in texts]


# --- layout ----------------------------------------------------------------------------------------

# Form controls of the page that stick out of the screen sideways. A control inside a region that
# scrolls sideways by itself (a wide table) counts as fitting when that region fits.
CONTROLS_OFF_SCREEN = """() => {
  const scroller = (el) => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(up).overflowX)) return up;
    }
    return el;
  };
  const shown = (el) => el.type !== "hidden" && el.getClientRects().length > 0;
  return [...document.querySelectorAll("main input, main select, main textarea, main button")]
    .filter(shown)
    .filter((el) => {
      const box = scroller(el).getBoundingClientRect();
      return box.left < 0 || box.right > document.documentElement.clientWidth;
    })
    .map((el) => el.outerHTML.slice(0, 160));
}"""


def assert_fits_the_screen(page: Page) -> None:
    """Nothing makes the page scroll sideways, and every form control is within the screen's width.

    The width is the page's own (clientWidth), not ``window.innerWidth``: an emulated phone widens
    its window to fit content that overflows, which would hide the very overflow looked for."""
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), (
        f"{page.url} is wider than the screen"
    )
    assert page.evaluate(CONTROLS_OFF_SCREEN) == [], f"controls off screen on {page.url}"
