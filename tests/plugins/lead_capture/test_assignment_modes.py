"""Assignment per form: round-robin fair across available members, rules on any field in order with
a fallback, manual into the unassigned queue that the lead list can filter."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from plugins.lead_capture.assignment import DAYS
from plugins.lead_capture.models import LeadForm
from rapport import crm
from rapport.db import db
from rapport.models import AuditEvent
from tests.plugins.lead_capture.processing_support import (
    OPERATOR, define_lead_field, email_data, lead_of, set_availability, submit,
)
from tests.plugins.support import acting_in, logged_in


@pytest.fixture
def ids(members):
    return {email.split("@")[0]: m.id for email, m in members.items()}


def owners_of(acme, form, count: int, start: int = 0, **extra) -> list:
    return [submit(acme, form, email_data(i, **extra)).owner_id for i in range(start, start + count)]


def test_round_robin_is_fair(acme, make_form, ids):
    form = make_form(assignment_mode="round_robin", assignees=[str(ids["ann"]), str(ids["bob"]), str(ids["manager"])])
    owners = owners_of(acme, form, 30)
    assert Counter(owners) == {ids["ann"]: 10, ids["bob"]: 10, ids["manager"]: 10}
    assert owners[:4] == [ids["ann"], ids["bob"], ids["manager"], ids["ann"]]  # strict rotation


def test_the_lead_is_created_with_its_owner_and_audited(acme, make_form, ids):
    form = make_form(assignment_mode="round_robin", assignees=[str(ids["bob"])])
    submission = submit(acme, form, email_data(1))
    lead = lead_of(acme, submission)
    assert lead.owner_id == ids["bob"] == submission.owner_id and submission.assigned_at is not None
    with acting_in(acme):
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.record_id == lead.id)).all()
    assert [e.action for e in events] == ["create"]  # one write: no update to assign it afterwards
    assert events[0].changes["owner_id"] == [None, str(ids["bob"])] and events[0].actor_type == "form"


def test_round_robin_skips_an_away_member(acme, make_form, members, ids):
    set_availability(acme, members["bob@acme.test"], away=True)
    form = make_form(assignment_mode="round_robin", assignees=[str(ids["ann"]), str(ids["bob"]), str(ids["manager"])])
    assert owners_of(acme, form, 4) == [ids["ann"], ids["manager"], ids["ann"], ids["manager"]]


def test_round_robin_skips_a_member_outside_working_hours(acme, make_form, members, ids):
    tokyo = ZoneInfo("Asia/Tokyo")
    today = dt.datetime.now(tokyo).weekday()
    # Bob works only on a day three days from today (Tokyo time): off now whatever the hour.
    set_availability(acme, members["bob@acme.test"], timezone="Asia/Tokyo",
                     hours={DAYS[(today + 3) % 7]: ["00:00", "23:59"]})
    # Ann works all day today in her zone: on.
    berlin_today = dt.datetime.now(ZoneInfo("Europe/Berlin")).weekday()
    set_availability(acme, members["ann@acme.test"], timezone="Europe/Berlin",
                     hours={DAYS[berlin_today]: ["00:00", "23:59"], DAYS[(berlin_today + 1) % 7]: ["00:00", "23:59"]})
    form = make_form(assignment_mode="round_robin", assignees=[str(ids["bob"]), str(ids["ann"])])
    assert owners_of(acme, form, 3) == [ids["ann"], ids["ann"], ids["ann"]]


def test_round_robin_with_nobody_available_uses_the_default_owner(acme, make_form, members, ids):
    set_availability(acme, members["ann@acme.test"], away=True)
    form = make_form(assignment_mode="round_robin", assignees=[str(ids["ann"])], default_owner_id=ids["owner"])
    assert owners_of(acme, form, 2) == [ids["owner"], ids["owner"]]
    with acting_in(acme):
        assert db.session.get(LeadForm, (acme.id, form.id)).round_robin_position == 0  # no turn was used


def test_round_robin_with_nobody_and_no_default_leaves_the_lead_unassigned(acme, make_form, members, ids):
    set_availability(acme, members["ann@acme.test"], away=True)
    form = make_form(assignment_mode="round_robin", assignees=[str(ids["ann"])])
    submission = submit(acme, form, email_data(1))
    assert submission.owner_id is None and lead_of(acme, submission).owner_id is None


@pytest.fixture
def rules_form(acme, make_form, ids):
    define_lead_field(acme, key="industry", type="select",
                      options=[{"value": "retail", "label": "Retail"}, {"value": "energy", "label": "Energy"},
                               {"value": "mining", "label": "Mining"}, {"value": "media", "label": "Media"}])
    define_lead_field(acme, key="regions", type="multi_select",
                      options=[{"value": "emea", "label": "EMEA"}, {"value": "apac", "label": "APAC"}])
    return make_form(assignment_mode="rules", default_owner_id=ids["owner"], rules=[
        {"field": "custom.industry", "op": "eq", "value": "RETAIL", "owner_id": str(ids["ann"])},
        {"field": "custom.industry", "op": "in", "value": ["energy", "mining"], "owner_id": str(ids["bob"])},
        {"field": "custom.industry", "op": "in", "value": ["energy"], "owner_id": str(ids["manager"])},
        {"field": "custom.regions", "op": "eq", "value": "apac", "owner_id": str(ids["manager"])},
        {"field": "company", "op": "contains", "value": "bank", "owner_id": str(ids["ann"])},
    ])


def test_rules_on_custom_selects_in_order_with_fallback(acme, rules_form, ids):
    def owner_for(i, **values):
        return submit(acme, rules_form, email_data(i, **values)).owner_id

    assert owner_for(1, custom={"industry": "retail"}) == ids["ann"]  # case-insensitive
    assert owner_for(2, custom={"industry": "mining"}) == ids["bob"]
    assert owner_for(3, custom={"industry": "energy"}) == ids["bob"]  # first matching rule wins
    assert owner_for(4, custom={"regions": ["emea", "apac"]}) == ids["manager"]  # multi-select holds it
    assert owner_for(5, company="First National BANK") == ids["ann"]  # contains, any case
    assert owner_for(6, custom={"industry": "media"}) == ids["owner"]  # no rule: the default owner


def test_a_rule_whose_owner_is_away_gives_way_to_the_next(acme, rules_form, members, ids):
    set_availability(acme, members["bob@acme.test"], away=True)
    assert submit(acme, rules_form, email_data(1, custom={"industry": "energy"})).owner_id == ids["manager"]
    assert submit(acme, rules_form, email_data(2, custom={"industry": "mining"})).owner_id == ids["owner"]


def test_manual_leaves_leads_in_the_unassigned_queue(acme, make_form, ids):
    submission = submit(acme, make_form(assignment_mode="manual", default_owner_id=ids["owner"]),
                        email_data(1, name="Queue Person"))
    assert submission.owner_id is None and submission.assigned_at is None
    with acting_in(acme):
        crm.create("leads", {"name": "Owned Person", "owner_id": str(ids["ann"])}, OPERATOR)
        db.session.commit()
    page = logged_in("manager@acme.test").get("/t/acme/leads?owner=none").get_data(as_text=True)
    assert "Queue Person" in page and "Owned Person" not in page


def test_an_attached_submission_keeps_the_existing_owner(acme, make_form, ids):
    with acting_in(acme):
        crm.create("leads", {"name": "Known", "email": "known@example.com", "owner_id": str(ids["bob"])}, OPERATOR)
        db.session.commit()
    form = make_form(assignment_mode="round_robin", assignees=[str(ids["ann"])])
    submission = submit(acme, form, {"name": "Known", "email": "known@example.com"})
    assert submission.outcome == "attached" and submission.owner_id == ids["bob"]
