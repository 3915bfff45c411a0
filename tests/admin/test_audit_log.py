"""Audit log page: newest first, keyset pages, filters, escaped values, and no way to change it."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from rapport import crm
from rapport.db import db
from rapport.pipeline import Actor

AUDIT = "/t/acme/admin/audit"
WEB = Actor("member", None, "Web <i>user</i>", "web")
API = Actor("token", None, "Sync token", "api")
FORM = Actor("form", None, "Contact form", "form")


@pytest.fixture
def records(acme, scoped):
    """Five events in acme: creates by three actors, an update and a delete."""
    with scoped(acme):
        first = crm.create("accounts", {"name": "First"}, WEB)
        crm.create("contacts", {"last_name": "<script>alert(1)</script>"}, API)
        lead = crm.create("leads", {"name": "Lead"}, FORM)
        crm.update(first, {"name": "Renamed"}, WEB)
        crm.delete(lead, WEB)
        db.session.commit()
    return {"account": first, "lead": lead}


def rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [r for r in re.findall(r"<tr>(.*?)</tr>", body, re.S) if "No events match" not in r]


def test_newest_first_with_old_and_new_values_escaped(owner_client, records):
    html = owner_client.get(AUDIT).get_data(as_text=True)
    listed = rows(html)
    assert len(listed) == 5
    assert "delete" in listed[0] and "update" in listed[1] and "Renamed" in listed[1] and "First" in listed[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "Web &lt;i&gt;user&lt;/i&gt;" in html


def test_keyset_pages_cover_every_event_once(owner_client, records):
    seen, pages, url = [], 0, f"{AUDIT}?limit=2"
    while url:
        html = owner_client.get(url).get_data(as_text=True)
        seen += rows(html)  # each row carries its event's exact time and record id
        found = re.search(r'rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
        pages += 1
    assert len(seen) == 5 and len(set(seen)) == 5 and pages == 3


def test_filters_narrow_the_list(owner_client, records):
    today = dt.datetime.now(dt.timezone.utc).date()
    expected = {
        "record_type=accounts": 2,
        "action=create": 3,
        "actor_type=token": 1,
        "channel=form": 1,
        f"record_id={records['lead'].id}": 2,
        "action=update&record_type=accounts": 1,
        f"date_from={today}": 5,
        f"date_to={today}": 5,
        f"date_from={today + dt.timedelta(days=1)}": 0,
        f"date_to={today - dt.timedelta(days=1)}": 0,
    }
    for query, count in expected.items():
        response = owner_client.get(f"{AUDIT}?{query}")
        assert response.status_code == 200, query
        assert len(rows(response.get_data(as_text=True))) == count, query


def test_filters_keep_their_values_across_pages(owner_client, records):
    html = owner_client.get(f"{AUDIT}?record_type=accounts&limit=1").get_data(as_text=True)
    older = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "record_type=accounts" in older and "limit=1" in older
    assert len(rows(owner_client.get(older).get_data(as_text=True))) == 1


@pytest.mark.parametrize(
    "query, field",
    [
        ("record_id=42", "record_id"),
        ("action=nuke", "action"),
        ("actor_type=robot", "actor_type"),
        ("channel=fax", "channel"),
        ("date_from=yesterday", "date_from"),
        ("date_to=2026-13-01", "date_to"),
        ("record_type=%3Cb%3E", "record_type"),
    ],
)
def test_bad_filters_name_the_field(owner_client, records, query, field):
    response = owner_client.get(f"{AUDIT}?{query}")
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.get_data(as_text=True)


def test_a_bad_cursor_is_a_clear_error(owner_client, records):
    response = owner_client.get(f"{AUDIT}?cursor=zz")
    assert response.status_code == 422 and "Invalid cursor" in response.get_data(as_text=True)


def test_another_tenants_events_are_not_shown(owner_client, world, scoped, records):
    globex = world.tenant("globex")
    with scoped(globex):
        crm.create("accounts", {"name": "Globex secret"}, WEB)
        db.session.commit()
    assert "Globex secret" not in owner_client.get(AUDIT).get_data(as_text=True)


def test_no_route_can_change_the_audit_log(app, owner_client, records):
    audit_rules = [r for r in app.url_map.iter_rules() if "audit" in r.rule or "audit" in r.endpoint]
    assert audit_rules, "the audit page exists"
    for rule in audit_rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    for method in ("post", "put", "patch", "delete"):
        assert getattr(owner_client, method)(AUDIT).status_code == 405
    assert len(rows(owner_client.get(AUDIT).get_data(as_text=True))) == 5
