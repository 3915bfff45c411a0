"""Who reaches the admin pages: every route of the admin blueprint is enumerated, so a new page is
covered without touching this file."""
from __future__ import annotations

import uuid

from rapport.db import db
from rapport.models import Membership

# tokens.manage is a staff permission (agents manage their own API tokens), so agents reach these.
OPEN_TO_STAFF = {"admin.tokens", "admin.create_token", "admin.revoke_token"}


def admin_requests(app, slug: str):
    """(method, url, endpoint) for every admin route, URL variables filled with plausible values."""
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        values = {"tenant_slug": slug, "plugin": "reports", "record_type": "accounts", "field_key": "industry"}
        values.update({arg: str(uuid.uuid4()) for arg in rule.arguments if arg.endswith("_id")})
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url, rule.endpoint


def test_every_admin_route_is_enumerated(app):
    endpoints = {e for _m, _u, e in admin_requests(app, "acme")}
    assert {"admin.members", "admin.roles", "admin.plugins", "admin.audit", "admin.tokens"} <= endpoints


def test_an_agent_gets_403_on_every_admin_page(app, client, world, acme):
    world.member(acme, "agent@acme.test", "agent")
    world.login(client, "agent@acme.test")
    checked = 0
    for method, url, endpoint in admin_requests(app, "acme"):
        if endpoint in OPEN_TO_STAFF:
            continue
        assert client.open(url, method=method).status_code == 403, (method, url)
        checked += 1
    assert checked >= 10
    assert client.get("/t/acme/admin/tokens").status_code == 200


def test_a_viewer_has_no_admin_page_at_all(app, client, world, acme):
    world.member(acme, "v@acme.test", "viewer")
    world.login(client, "v@acme.test")
    for method, url, _endpoint in admin_requests(app, "acme"):
        assert client.open(url, method=method).status_code == 403, (method, url)


def test_a_user_who_is_not_a_member_gets_404(app, client, world, acme):
    world.tenant("globex", owner_email="boss@globex.test")
    world.login(client, "boss@globex.test")
    for method, url, _endpoint in admin_requests(app, "acme"):
        assert client.open(url, method=method).status_code == 404, (method, url)


def test_an_invited_member_who_has_not_joined_gets_404(app, client, world, acme, scoped):
    member = world.member(acme, "pending@acme.test", "admin")
    with scoped(acme):
        db.session.get(Membership, (acme.id, member.id)).status = "invited"
        db.session.commit()
    world.login(client, "pending@acme.test")
    assert client.get("/t/acme/admin/members").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(app, client, acme):
    for method, url, _endpoint in admin_requests(app, "acme"):
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)


def test_admin_pages_render_for_an_owner(owner_client):
    for page in ("members", "roles", "roles/new", "plugins", "plugins/reports/settings", "audit", "tokens"):
        response = owner_client.get(f"/t/acme/admin/{page}")
        assert response.status_code == 200, page
        assert 'aria-label="Administration"' in response.get_data(as_text=True)
