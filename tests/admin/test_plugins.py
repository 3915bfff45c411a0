"""Plugins page: the one-click switch (next request, data kept) and per-plugin settings validated by
the plugin's own schema."""
from __future__ import annotations

import pytest
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from rapport import hookimpl
from rapport.db import db
from rapport.models import AuditEvent, PluginState

PLUGINS = "/t/acme/admin/plugins"
REPORTS_SETTINGS = f"{PLUGINS}/reports/settings"


class Spy:
    """Spy: a test plugin whose settings schema counts how often it is asked for."""

    PLUGIN_NAME = "spy"

    def __init__(self):
        self.asked = 0

    @hookimpl
    def plugin_settings_schema(self):
        self.asked += 1

        class SpySettings(Schema):
            loud = fields.Boolean(load_default=False, metadata={"label": "Loud"})
            colour = fields.String(load_default="red", validate=validate.OneOf(["red", "blue"]))

        return SpySettings()


class Quiet:
    """Quiet: a test plugin without settings."""

    PLUGIN_NAME = "quiet"


@pytest.fixture
def spy():
    return Spy()


@pytest.fixture
def app_config(spy):
    return {"EXTRA_PLUGINS": [spy, Quiet()]}


def state(scoped, tenant, plugin="reports"):
    db.session.expire_all()
    with scoped(tenant):
        return db.session.scalar(select(PluginState).where(PluginState.plugin == plugin))


def switch(client, plugin, on: bool):
    return client.post(f"{PLUGINS}/{plugin}/switch", data={"enabled": "1" if on else "0"})


def test_every_installed_plugin_is_listed_with_its_state(owner_client, app):
    html = owner_client.get(PLUGINS).get_data(as_text=True)
    for name in app.extensions["rapport.plugins"].plugin_names:
        assert f'id="plugin-{name}"' in html
    assert "Reports: the sales pipeline by stage" in html  # the plugin's own summary
    assert "Switch on" in html and "Switch off" not in html  # a new tenant starts with every plugin off


def test_switching_takes_effect_on_the_next_request_and_keeps_data(owner_client, acme, scoped):
    assert owner_client.get("/t/acme/reports/").status_code == 404
    assert switch(owner_client, "reports", True).status_code == 302
    assert owner_client.get("/t/acme/reports/").status_code == 200
    assert "Switch off" in owner_client.get(PLUGINS).get_data(as_text=True)
    owner_client.post(REPORTS_SETTINGS, data={"default_period_days": "90"})
    assert switch(owner_client, "reports", False).status_code == 302
    assert owner_client.get("/t/acme/reports/").status_code == 404
    kept = state(scoped, acme)
    assert kept.enabled is False and kept.settings == {"default_period_days": 90}
    switch(owner_client, "reports", True)
    assert state(scoped, acme).settings == {"default_period_days": 90}


def test_switching_is_per_tenant_and_audited(owner_client, world, acme, scoped):
    globex = world.tenant("globex")
    switch(owner_client, "reports", True)
    assert state(scoped, globex) is None
    with scoped(acme):
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.record_type == "plugins"))
    assert event.changes == {"reports.enabled": [False, True]}


def test_unknown_plugins_and_bad_switch_values(owner_client):
    assert switch(owner_client, "nope", True).status_code == 404
    assert owner_client.get(f"{PLUGINS}/nope/settings").status_code == 404
    assert owner_client.post(f"{PLUGINS}/reports/switch", data={"enabled": "yes"}).status_code == 400


def test_settings_form_shows_defaults_and_saves_valid_values(owner_client, acme, scoped):
    page = owner_client.get(REPORTS_SETTINGS).get_data(as_text=True)
    assert 'name="default_period_days"' in page and 'value="30"' in page and 'min="1"' in page
    assert owner_client.post(REPORTS_SETTINGS, data={"default_period_days": "45"}).status_code == 302
    assert state(scoped, acme).settings == {"default_period_days": 45}
    assert 'value="45"' in owner_client.get(REPORTS_SETTINGS).get_data(as_text=True)
    with scoped(acme):
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.record_type == "plugins"))
    assert event.changes == {"reports.settings.default_period_days": [None, 45]}


@pytest.mark.parametrize("bad", ["0", "367", "2.5", "thirty", "1e3"])
def test_settings_are_validated_by_the_plugins_schema(owner_client, acme, scoped, bad):
    owner_client.post(REPORTS_SETTINGS, data={"default_period_days": "45"})
    response = owner_client.post(REPORTS_SETTINGS, data={"default_period_days": bad})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-default_period_days"' in html and f'value="{bad}"' in html
    assert state(scoped, acme).settings == {"default_period_days": 45}


def test_only_the_plugin_itself_is_asked_for_its_schema(owner_client, spy):
    before = spy.asked
    assert owner_client.get(REPORTS_SETTINGS).status_code == 200
    assert spy.asked == before


def test_checkbox_and_choice_settings(owner_client, acme, scoped):
    page = owner_client.get(f"{PLUGINS}/spy/settings").get_data(as_text=True)
    assert 'type="checkbox" name="loud"' in page and '<option value="blue"' in page
    assert owner_client.post(f"{PLUGINS}/spy/settings", data={"loud": "on", "colour": "blue"}).status_code == 302
    assert state(scoped, acme, "spy").settings == {"loud": True, "colour": "blue"}
    assert owner_client.post(f"{PLUGINS}/spy/settings", data={"colour": "red"}).status_code == 302
    assert state(scoped, acme, "spy").settings == {"loud": False, "colour": "red"}
    refused = owner_client.post(f"{PLUGINS}/spy/settings", data={"colour": "green"})
    assert refused.status_code == 422 and 'id="e-colour"' in refused.get_data(as_text=True)


def test_a_plugin_without_settings_has_no_settings_page(owner_client):
    assert owner_client.get(f"{PLUGINS}/quiet/settings").status_code == 404
    html = owner_client.get(PLUGINS).get_data(as_text=True)
    assert f'href="{PLUGINS}/reports/settings"' in html and f'href="{PLUGINS}/quiet/settings"' not in html
