"""Record-level rules on the staff pages: agents see and change only their own or unassigned
records (others are 404), managers see all, viewers read but never write (403)."""
import pytest

from .conftest import count, reload, text


@pytest.fixture
def records(shop):
    return {
        "mine": shop.make("leads", owner="agent", name="Agent lead"),
        "free": shop.make("leads", name="Unassigned lead"),
        "theirs": shop.make("leads", owner="agent2", name="Colleague lead"),
    }


def test_agent_lists_only_own_and_unassigned(client, shop, records):
    shop.login(client, "agent")
    page = text(client.get(shop.url("leads")))
    assert "Agent lead" in page and "Unassigned lead" in page and "Colleague lead" not in page
    # Filtering by the colleague shows nothing rather than their records.
    by_colleague = text(client.get(shop.url(f"leads?owner={shop.members['agent2'].id}")))
    assert "Colleague lead" not in by_colleague and "No records match." in by_colleague


def test_agent_gets_404_on_others_records_for_every_action(client, shop, records):
    theirs = records["theirs"]
    shop.login(client, "agent")
    base = f"leads/{theirs.id}"
    assert client.get(shop.url(base)).status_code == 404
    assert client.get(shop.url(f"{base}/edit")).status_code == 404
    assert client.post(shop.url(f"{base}/edit"), data={"name": "Hijacked"}).status_code == 404
    assert client.post(shop.url(f"{base}/stage"), data={"stage": "lost"}).status_code == 404
    assert client.get(shop.url(f"{base}/delete")).status_code == 404
    assert client.post(shop.url(f"{base}/delete")).status_code == 404
    stored = reload(theirs)
    assert stored.name == "Colleague lead" and stored.stage == "target"


def test_agent_edits_own_and_unassigned_but_assigns_only_self(client, shop, records):
    shop.login(client, "agent")
    for key in ("mine", "free"):
        lead = records[key]
        response = client.post(shop.url(f"leads/{lead.id}/edit"), data={"name": f"{key} edited", "owner_id": str(shop.members["agent"].id)})
        assert response.status_code == 302
        assert reload(lead).name == f"{key} edited"
    form = text(client.get(shop.url(f"leads/{records['mine'].id}/edit")))
    assert "Bea Agent" not in form.split('id="f-owner_id"')[1].split("</select>")[0]
    handover = client.post(shop.url(f"leads/{records['mine'].id}/edit"), data={
        "name": "mine edited", "owner_id": str(shop.members["agent2"].id)})
    assert handover.status_code == 422 and 'id="e-owner_id"' in text(handover)
    assert reload(records["mine"]).owner_id == shop.members["agent"].id


def test_manager_sees_and_edits_all(client, shop, records):
    shop.login(client, "manager")
    page = text(client.get(shop.url("leads")))
    assert all(name in page for name in ("Agent lead", "Unassigned lead", "Colleague lead"))
    theirs = records["theirs"]
    assert client.post(shop.url(f"leads/{theirs.id}/stage"), data={"stage": "prospect"}).status_code == 302
    assert reload(theirs).stage == "prospect"


def test_viewer_reads_everything_but_cannot_write(client, shop, records):
    theirs = records["theirs"]
    task = shop.make("activities", kind="task", subject="Viewer cannot close", owner="agent2")
    shop.login(client, "viewer")
    assert client.get(shop.url(f"leads/{theirs.id}")).status_code == 200
    page = text(client.get(shop.url(f"leads/{theirs.id}")))
    assert "Change stage" not in page and "Log an activity" not in page and "/edit" not in page
    assert client.get(shop.url("leads/new")).status_code == 403
    assert client.post(shop.url("leads/new"), data={"name": "Viewer lead"}).status_code == 403
    assert client.get(shop.url(f"leads/{theirs.id}/edit")).status_code == 403
    assert client.post(shop.url(f"leads/{theirs.id}/edit"), data={"name": "Changed"}).status_code == 403
    assert client.post(shop.url(f"leads/{theirs.id}/stage"), data={"stage": "lost"}).status_code == 403
    assert client.post(shop.url(f"leads/{theirs.id}/delete")).status_code == 403
    assert client.post(shop.url(f"activities/{task.id}/done")).status_code == 403
    assert count("leads", shop.tenant) == 3 and reload(theirs).stage == "target"
    assert reload(task).done_at is None


def test_unknown_record_is_404_before_403_for_viewer(client, shop):
    import uuid

    shop.login(client, "viewer")
    assert client.post(shop.url(f"leads/{uuid.uuid4()}/edit"), data={"name": "x"}).status_code == 404


def test_second_tenant_records_never_appear(client, shop, other_shop):
    other_shop.make("accounts", name="Globex Secret")
    other_contact = other_shop.make("contacts", last_name="Scorpio", email="hank@globex.test")
    shop.make("accounts", name="Acme Visible")
    shop.login(client)
    for path in ("accounts", "accounts?q=Globex", "contacts?q=scorpio", "leads", "activities", "contacts/new", ""):
        body = text(client.get(shop.url(path)))
        assert "Globex Secret" not in body and "Scorpio" not in body
    assert "Acme Visible" in text(client.get(shop.url("accounts")))
    # Its ids in our URLs, or as a filter or a link on our forms, find nothing.
    assert client.get(shop.url(f"contacts/{other_contact.id}")).status_code == 404
    assert client.get(shop.url(f"leads?contact_id={other_contact.id}")).status_code == 200
    response = client.post(shop.url("leads/new"), data={"name": "Cross", "contact_id": str(other_contact.id)})
    assert response.status_code == 422 and 'id="e-contact_id"' in text(response)
