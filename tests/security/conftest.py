"""Two stocked tenants (shared with the isolation tests) and helpers for CSRF-protected forms."""
from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD
from tests.isolation.support import populate

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def alpha(app):
    return populate("alpha")


@pytest.fixture
def bravo(alpha):
    return populate("bravo")


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a form page hands to this client's session."""
    page = client.get(path)
    found = CSRF_FIELD.search(page.get_data(as_text=True))
    assert found, f"no csrf_token field on {path}"
    return found.group(1)


def log_in(client, email: str, password: str = PASSWORD, **kwargs):
    """Log in through the real form, CSRF token included."""
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token}, **kwargs)
