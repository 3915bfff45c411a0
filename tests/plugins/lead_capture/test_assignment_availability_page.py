"""The availability page: every member sets their own away flag, time zone and working hours; admins
see and edit everyone's. Errors are named per field (422), input is escaped, CSRF is required."""
from __future__ import annotations

import pytest

from plugins.lead_capture.models import MemberAvailability
from rapport.db import db
from rapport.provisioning import user_by_email
from tests.plugins.support import acting_in, logged_in

PAGE = "/t/acme/lead-capture/availability/"


def stored(acme, member) -> MemberAvailability | None:
    with acting_in(acme):
        row = db.session.get(MemberAvailability, (acme.id, member.id))
        if row is not None:
            db.session.refresh(row)
        return row


def test_a_member_sets_their_own_availability(acme, members):
    client = logged_in("ann@acme.test")
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="timezone"' in html and 'name="start_mon"' in html
    assert "The team" not in html  # agents see only their own
    response = client.post(PAGE, data={"away": "on", "timezone": "Europe/Berlin",
                                       "start_mon": "09:00", "end_mon": "17:30", "start_sat": "", "end_sat": ""})
    assert response.status_code == 302
    row = stored(acme, members["ann@acme.test"])
    assert (row.away, row.timezone, row.working_hours) == (True, "Europe/Berlin", {"mon": ["09:00", "17:30"]})
    again = client.get(PAGE).get_data(as_text=True)
    assert 'value="Europe/Berlin"' in again and 'value="17:30"' in again


@pytest.mark.parametrize("data, field, reason", [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", "IANA"),
    ({"timezone": ""}, "timezone", "Give a time zone"),
    ({"timezone": "UTC", "start_tue": "25:00", "end_tue": "26:00"}, "start_tue", "HH:MM"),
    ({"timezone": "UTC", "start_wed": "9am", "end_wed": "17:00"}, "start_wed", "HH:MM"),
    ({"timezone": "UTC", "start_thu": "17:00", "end_thu": "09:00"}, "end_thu", "after the start"),
    ({"timezone": "UTC", "start_fri": "09:00", "end_fri": ""}, "end_fri", "Give both times"),
])
def test_bad_input_is_named_beside_its_field(acme, members, data, field, reason):
    client = logged_in("ann@acme.test")
    response = client.post(PAGE, data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="e-{field}"' in html and reason in html
    assert f'id="f-{field}" name="{field}"' in html and 'aria-invalid="true"' in html
    assert stored(acme, members["ann@acme.test"]) is None  # nothing saved


def test_typed_values_are_kept_and_escaped(acme):
    response = logged_in("ann@acme.test").post(PAGE, data={"timezone": '"><script>alert(1)</script>'})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_admins_see_everyone_and_edit_anyones(acme, members):
    user_by_email("bob@acme.test").name = "<b>Bob</b>"
    db.session.commit()
    client = logged_in("owner@acme.test")
    html = client.get(PAGE).get_data(as_text=True)
    assert "The team" in html and "ann@acme.test" in html
    assert "&lt;b&gt;Bob&lt;/b&gt;" in html and "<b>Bob</b>" not in html
    bob = members["bob@acme.test"]
    response = client.post(f"{PAGE}{bob.id}", data={"timezone": "Asia/Shanghai", "start_mon": "08:00", "end_mon": "12:00"})
    assert response.status_code == 302
    assert stored(acme, bob).timezone == "Asia/Shanghai"


def test_members_cannot_edit_someone_else(acme, members):
    bob = members["bob@acme.test"]
    response = logged_in("ann@acme.test").post(f"{PAGE}{bob.id}", data={"timezone": "UTC"})
    assert response.status_code == 403
    assert stored(acme, bob) is None


def test_a_member_of_another_tenant_is_not_found(acme, other):
    from tests.plugins.support import member, switch

    switch(other, "lead_capture", True)
    stranger = member(other, "owner@other.test")
    assert logged_in("owner@acme.test").get(f"{PAGE}{stranger.id}").status_code == 404


def test_the_page_is_not_there_where_the_plugin_is_off(acme, other):
    assert logged_in("owner@other.test").get("/t/other/lead-capture/availability/").status_code == 404


def test_saving_needs_the_csrf_token(app, acme, members):
    import re

    client = logged_in("ann@acme.test")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(PAGE, data={"timezone": "UTC"})
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(PAGE).get_data(as_text=True)).group(1)
        assert stored(acme, members["ann@acme.test"]) is None
        accepted = client.post(PAGE, data={"timezone": "UTC", "csrf_token": token})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert refused.status_code == 400
    assert accepted.status_code == 302 and stored(acme, members["ann@acme.test"]).timezone == "UTC"


def test_every_member_finds_the_page_in_the_menu(acme):
    html = logged_in("ann@acme.test").get("/t/acme/").get_data(as_text=True)
    assert 'href="/t/acme/lead-capture/availability/"' in html and "My availability" in html
