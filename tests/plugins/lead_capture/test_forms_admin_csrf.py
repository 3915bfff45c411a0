"""With CSRF protection on (as in production), every form of the builder carries a token and a post
without it changes nothing."""
from __future__ import annotations

import re

import pytest

from plugins.lead_capture.models import LeadForm
from rapport.db import db
from tests.conftest import PASSWORD
from tests.plugins.support import acting_in

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def owner(client, acme, members):
    token = TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": "owner@acme.test", "password": PASSWORD, "csrf_token": token})
    return client


def forms_on(page: str) -> list[str]:
    return re.findall(r'<form method="post".*?</form>', page, re.S)


def test_every_builder_form_carries_a_token_and_posts_without_it_fail(owner, acme, make_form):
    form = make_form()
    base = f"/t/acme/admin/forms/{form.id}"
    for path in ("/t/acme/admin/forms", "/t/acme/admin/forms/new", base, f"{base}/delete"):
        page = owner.get(path).get_data(as_text=True)
        assert forms_on(page) and all('name="csrf_token"' in f for f in forms_on(page)), path
    data = {"slug": "x", "name": "X", "fields-0-key": "email", "action": "save"}
    for path, sent in (("/t/acme/admin/forms/new", data), (base, data), (f"{base}/publish", {"published": "0"}),
                       (f"{base}/delete", {})):
        assert owner.post(path, data=sent).status_code == 400, path
    with acting_in(acme):
        stored = db.session.get(LeadForm, (acme.id, form.id))
        assert (stored.published, stored.name) == (True, "Contact us")
        assert db.session.query(LeadForm).count() == 1

    token = TOKEN.search(owner.get(base).get_data(as_text=True)).group(1)
    assert owner.post(f"{base}/publish", data={"published": "0", "csrf_token": token}).status_code == 302
    with acting_in(acme):
        assert db.session.get(LeadForm, (acme.id, form.id)).published is False
