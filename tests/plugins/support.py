"""Helpers for the plugin tests: switch a plugin, act as a tenant, log a client in."""
from __future__ import annotations

import contextlib

from flask import current_app
from sqlalchemy import select

from rapport import tenancy
from rapport.db import db
from rapport.models import Membership, PluginState, User
from rapport.pipeline import Actor, grant
from rapport.plugin_host import current_host, set_plugin_enabled
from tests.conftest import PASSWORD

ACTOR = Actor("member", None, "plugin tests", "web")


def switch(tenant, plugin: str, enabled: bool):
    """Switch ``plugin`` for ``tenant`` the way the admin page and the CLI do, and commit."""
    with tenancy.tenant_scope(tenant.id):
        state = set_plugin_enabled(current_host(), tenant, plugin, enabled)
        db.session.commit()
    return state


@contextlib.contextmanager
def acting_in(tenant):
    with tenancy.tenant_scope(tenant.id):
        yield


def member(tenant, email: str) -> Membership:
    """The member with ``email`` in ``tenant``, with its permissions granted."""
    with tenancy.tenant_scope(tenant.id):
        found = db.session.scalar(select(Membership).join(User, User.id == Membership.user_id).where(User.email == email))
        return grant(found)


def stored_state(tenant, plugin: str) -> PluginState | None:
    with tenancy.tenant_scope(tenant.id):
        return db.session.scalar(select(PluginState).where(PluginState.plugin == plugin))


def logged_in(email: str):
    """A new test client logged in as ``email``."""
    client = current_app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
