"""Record pages: fields, related records and the timeline (activities, stage changes, audit)."""
import re
import uuid

from .conftest import text


def timeline_of(response) -> str:
    return text(response).split('id="timeline-title"', 1)[1]


def test_account_page_lists_its_contacts_and_leads_with_prefilled_add(client, shop):
    account = shop.make("accounts", name="Northwind", website="https://northwind.example", owner="agent")
    shop.make("contacts", first_name="Nancy", last_name="Davolio", account_id=str(account.id))
    shop.make("contacts", first_name="Andrew", last_name="Fuller", account_id=str(account.id))
    shop.make("contacts", first_name="Elsewhere", last_name="Person")
    shop.make("leads", name="Big deal", account_id=str(account.id), stage="opportunity")
    shop.login(client)
    page = client.get(shop.url(f"accounts/{account.id}"))
    body = text(page)
    assert page.status_code == 200
    assert "<h1>" in body and "Northwind" in body and 'href="https://northwind.example"' in body
    assert "Arthur Agent" in body  # the owner's name
    assert "Nancy Davolio" in body and "Andrew Fuller" in body and "Elsewhere" not in body
    assert "Big deal" in body and "Opportunity" in body
    add_contact = shop.url(f"contacts/new?account_id={account.id}")
    assert f'href="{add_contact}"' in body
    form = client.get(add_contact)
    assert re.search(rf'<option value="{account.id}" selected>Northwind</option>', text(form))


def test_lead_timeline_shows_stage_changes_with_author_and_audit_changes(client, shop):
    lead = shop.make("leads", name="Janet", company="Old Co")
    shop.login(client, "manager")
    assert client.post(shop.url(f"leads/{lead.id}/stage"), data={"stage": "prospect"}).status_code == 302
    assert client.post(shop.url(f"leads/{lead.id}/edit"), data={"name": "Janet", "company": "New Co", "stage": "prospect"}).status_code == 302
    timeline = timeline_of(client.get(shop.url(f"leads/{lead.id}")))
    assert "Stage changed from Target to Prospect" in timeline
    assert "by manager@acme.test" in timeline
    assert re.search(r'Company</span>:\s*<span class="old">Old Co</span>.*?<span class="new">New Co</span>', timeline, re.S)
    assert "via web" in timeline
    # Newest first: the company change came after the stage change, which came after creation.
    assert timeline.index("New Co") < timeline.index("Stage changed from Target") < timeline.index("Stage set to Target")


def test_account_timeline_gathers_its_contacts_and_activities(client, shop):
    account = shop.make("accounts", name="Contoso")
    contact = shop.make("contacts", last_name="Anders", account_id=str(account.id))
    shop.make("activities", kind="call", subject="Intro call", contact_id=str(contact.id))
    shop.make("activities", kind="note", subject="Met at fair", account_id=str(account.id))
    shop.make("activities", kind="note", subject="Unrelated note")
    shop.login(client)
    timeline = timeline_of(client.get(shop.url(f"accounts/{account.id}")))
    assert "Intro call" in timeline and "Met at fair" in timeline and "Unrelated" not in timeline
    assert re.search(rf'Contact <a href="/t/acme/contacts/{contact.id}">Anders</a>', timeline)
    assert timeline.index("Met at fair") < timeline.index("Intro call")  # newest first


def test_audit_values_show_names_not_ids(client, shop):
    account = shop.make("accounts", name="Fabrikam")
    contact = shop.make("contacts", last_name="Callahan")
    shop.login(client, "manager")
    client.post(shop.url(f"contacts/{contact.id}/edit"), data={
        "last_name": "Callahan", "account_id": str(account.id), "owner_id": str(shop.members["agent"].id),
    })
    timeline = timeline_of(client.get(shop.url(f"contacts/{contact.id}")))
    assert re.search(r'Account</span>:\s*<span class="old">—</span>.*?<span class="new">Fabrikam</span>', timeline, re.S)
    assert re.search(r'Owner</span>:\s*<span class="old">Unassigned</span>.*?<span class="new">Arthur Agent</span>', timeline, re.S)


def test_activity_page_shows_its_links_and_history(client, shop):
    lead = shop.make("leads", name="Laura")
    task = shop.make("activities", kind="task", subject="Follow up", lead_id=str(lead.id), due_at="2026-03-01T09:00:00+00:00")
    shop.login(client)
    page = text(client.get(shop.url(f"activities/{task.id}")))
    assert "Follow up" in page and f'href="/t/acme/leads/{lead.id}">Laura</a>' in page
    assert "2026-03-01 09:00 UTC" in page and "Mark done" in page
    assert "Created" in timeline_of(client.get(shop.url(f"activities/{task.id}")))


def test_unknown_or_foreign_record_is_404(client, shop, other_shop):
    foreign = other_shop.make("accounts", name="Globex Corp")
    shop.login(client)
    assert client.get(shop.url(f"accounts/{uuid.uuid4()}")).status_code == 404
    assert client.get(shop.url(f"accounts/{foreign.id}")).status_code == 404
    assert client.get(shop.url(f"contacts/{foreign.id}")).status_code == 404
    assert client.get(other_shop.url(f"accounts/{foreign.id}")).status_code == 404  # not a member there


def test_long_related_lists_link_to_the_filtered_list(client, shop):
    account = shop.make("accounts", name="Big customer")
    for i in range(23):
        shop.make("contacts", last_name=f"Person {i:02d}", account_id=str(account.id))
    shop.make("contacts", last_name="Not theirs")
    shop.login(client)
    page = text(client.get(shop.url(f"accounts/{account.id}")))
    section = page.split('id="related-contacts"', 1)[1].split("</section>", 1)[0]
    assert section.count("<li>") == 20
    all_url = shop.url(f"contacts?account_id={account.id}")
    assert f'href="{all_url}"' in section
    full = text(client.get(all_url))
    assert "Person 22" in full and "Not theirs" not in full and "Big customer" in full  # says whose contacts


def test_add_lead_from_a_contact_links_contact_and_account(client, shop):
    account = shop.make("accounts", name="Tailspin")
    contact = shop.make("contacts", last_name="Buchanan", account_id=str(account.id))
    shop.login(client)
    page = text(client.get(shop.url(f"contacts/{contact.id}")))
    add = re.search(r'<a class="button" href="([^"]*/leads/new[^"]*)"', page).group(1).replace("&amp;", "&")
    assert f"contact_id={contact.id}" in add and f"account_id={account.id}" in add
    form = text(client.get(add))
    assert re.search(rf'<option value="{contact.id}" selected>Buchanan</option>', form)
    assert re.search(rf'<option value="{account.id}" selected>Tailspin</option>', form)
