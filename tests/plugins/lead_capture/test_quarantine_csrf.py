"""Release and discard are CSRF-protected POSTs (the app's CSRF check switched on here)."""
from __future__ import annotations

import re

import pytest

from tests.plugins.lead_capture.public_helpers import PATH, submissions
from tests.security.conftest import log_in

QUARANTINE = "/t/acme/admin/forms/quarantine"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def caught(client, acme, make_form):
    make_form()
    # The public endpoint is CSRF-exempt: a JSON post with no token and no session is accepted.
    assert client.post(PATH, json={"name": "Bot", "email": "bot@example.com", "website": "x"}).status_code == 201
    [row] = submissions(acme)
    return row


@pytest.mark.parametrize("action", ["release", "discard"])
def test_decisions_need_the_csrf_token(app, caught, action):
    client = app.test_client()
    assert log_in(client, "owner@acme.test").status_code == 302
    page = client.get(QUARANTINE).get_data(as_text=True)
    assert client.post(f"{QUARANTINE}/{caught.id}/{action}").status_code == 400
    assert caught.status == "quarantined"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"{QUARANTINE}/{caught.id}/{action}", data={"csrf_token": token}).status_code == 303
    assert caught.status != "quarantined"
