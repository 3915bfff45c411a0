"""The public form works with the app's CSRF check on: it is exempt (no session to protect; the
signed fill token plays the anti-forgery role), while staff pages stay protected."""
from __future__ import annotations

import pytest

from tests.plugins.lead_capture.public_helpers import PATH, fill_and_send, submissions
from tests.security.conftest import log_in


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def test_hosted_form_posts_without_a_csrf_token(client, acme, make_form):
    make_form()
    response = fill_and_send(client, {"name": "Ann", "email": "ann@example.com"})
    assert response.status_code == 200
    assert "csrf_token" not in client.get(PATH).get_data(as_text=True)
    [row] = submissions(acme)
    assert row.spam_reason is None  # the fill token was there and genuine


def test_a_logged_in_visitor_posts_the_same_way(app, acme, make_form):
    make_form()
    client = app.test_client()
    assert log_in(client, "owner@acme.test").status_code == 302
    assert fill_and_send(client, {"name": "Ann", "email": "ann@example.com"}).status_code == 200
    assert client.post("/t/acme/admin/forms/quarantine/00000000-0000-0000-0000-000000000000/discard").status_code == 400
