"""Fixtures for the admin pages and the email flows: a tenant with a logged-in owner, and a real
SMTP server (aiosmtpd, from tests/livesupport.py) on a free local port."""
from __future__ import annotations

import re

import pytest

from rapport import tenancy
from tests.livesupport import SMTPServer, body_of

BASE_URL = "http://rapport.test"


def link_in(message) -> str:
    """The path of the one link under BASE_URL in a mail's text."""
    body = body_of(message)
    found = re.findall(re.escape(BASE_URL) + r"(/\S+)", body)
    assert len(found) == 1, body
    return found[0]


@pytest.fixture
def smtp_server():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def acme(world):
    return world.tenant("acme", owner_email="owner@acme.test", name="Acme")


@pytest.fixture
def owner_client(client, world, acme):
    world.login(client, "owner@acme.test")
    return client


@pytest.fixture
def scoped():
    """``with scoped(tenant):`` -- read a tenant's rows from the test, as a job would."""
    return lambda tenant: tenancy.tenant_scope(tenant.id)
