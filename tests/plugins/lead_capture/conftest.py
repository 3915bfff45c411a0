"""Fixtures for the lead-capture plugin: a tenant ``acme`` with the plugin on (owner, manager, two
agents), a tenant ``other`` with it off, and a factory of forms."""
from __future__ import annotations

import pytest

from plugins.lead_capture.models import LeadForm
from rapport.db import db
from tests.plugins.support import acting_in, member, switch

PLUGIN = "lead_capture"


@pytest.fixture
def acme(world):
    tenant = world.tenant("acme", owner_email="owner@acme.test", name="Acme")
    world.member(tenant, "manager@acme.test", "manager")
    world.member(tenant, "ann@acme.test", "agent")
    world.member(tenant, "bob@acme.test", "agent")
    switch(tenant, PLUGIN, True)
    return tenant


@pytest.fixture
def other(world):
    """A second tenant, plugin off."""
    return world.tenant("other", owner_email="owner@other.test", name="Other")


@pytest.fixture
def make_form(acme):
    """``make_form(tenant=acme, **columns)``: a published form asking name, email, phone and message."""

    def make(tenant=None, **columns):
        tenant = tenant or acme
        values = {
            "slug": "contact-us",
            "name": "Contact us",
            "fields": [
                {"key": "name", "label": None, "required": True},
                {"key": "email", "label": None, "required": True},
                {"key": "phone", "label": None, "required": False},
                {"key": "message", "label": None, "required": False},
            ],
            "thank_you_message": "Thanks, we will be in touch.",
            "published": True,
            "min_fill_seconds": 0,
        }
        values.update(columns)
        with acting_in(tenant):
            form = LeadForm(**values)
            db.session.add(form)
            db.session.commit()
        return form

    return make


@pytest.fixture
def members(acme):
    """The acme members by email, permissions granted."""
    return {e: member(acme, e) for e in ("owner@acme.test", "manager@acme.test", "ann@acme.test", "bob@acme.test")}
