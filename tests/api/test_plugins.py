"""``/plugins``: list with enabled flags, and switch a plugin on and off with PUT."""
from __future__ import annotations

import pytest
from sqlalchemy import select

import rapport
from rapport import tenancy
from rapport.db import db
from rapport.models import PluginState


class Recorder:
    """A tiny plugin that notes when a tenant switches it."""

    PLUGIN_NAME = "recorder"

    def __init__(self):
        self.calls = []

    @rapport.hookimpl
    def plugin_enabled(self, tenant):
        self.calls.append(("enabled", tenant.slug))

    @rapport.hookimpl
    def plugin_disabled(self, tenant):
        self.calls.append(("disabled", tenant.slug))

    @rapport.hookimpl
    def usage_event(self, tenant, meter, quantity):
        if meter == "api.requests":
            self.calls.append((meter, tenant.slug, quantity))


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def app_config(recorder):
    return {"EXTRA_PLUGINS": [recorder]}


def flags(api) -> dict:
    response = api.get("/plugins")
    assert response.status_code == 200
    return {item["name"]: item["enabled"] for item in response.get_json()["items"]}


def test_put_switches_and_get_reflects_it(api, acme, recorder):
    assert flags(api)["recorder"] is False
    response = api.put("/plugins/recorder", json={"enabled": True})
    assert response.status_code == 200 and response.get_json() == {"name": "recorder", "enabled": True}
    assert flags(api)["recorder"] is True
    assert api.get("/plugins/recorder").get_json()["enabled"] is True
    with tenancy.tenant_scope(acme.id):
        assert db.session.scalars(select(PluginState.enabled).where(PluginState.plugin == "recorder")).one() is True
    assert api.put("/plugins/recorder", json={"enabled": False}).get_json()["enabled"] is False
    assert flags(api)["recorder"] is False
    assert [call for call in recorder.calls if call[0] != "api.requests"] == [("enabled", "acme"), ("disabled", "acme")]


def test_api_requests_are_metered_for_plugins_that_are_on(api, anonymous, recorder):
    api.put("/plugins/recorder", json={"enabled": True})
    recorder.calls.clear()
    api.get("/accounts")
    api.get("/accounts")
    anonymous.get("/accounts")  # refused: not counted
    assert recorder.calls == [("api.requests", "acme", 1)] * 2


def test_switching_is_per_tenant(api, world, client):
    from .conftest import ApiClient, token_for

    beta = world.tenant("beta", owner_email="owner@beta.test")
    b = ApiClient(client, "beta", token_for(beta, "owner@beta.test"))
    api.put("/plugins/recorder", json={"enabled": True})
    assert flags(api)["recorder"] is True and flags(b)["recorder"] is False


def test_unknown_plugin_is_404_before_the_body(api):
    for response in (api.put("/plugins/nope", json={"enabled": True}), api.put("/plugins/nope", data="{bad"),
                     api.get("/plugins/nope")):
        assert response.status_code == 404 and response.mimetype == "application/problem+json"


@pytest.mark.parametrize("body", [{}, {"enabled": "yes"}, {"enabled": 1}, {"enabled": None},
                                  {"enabled": True, "extra": 1}])
def test_bad_switch_body_is_422_naming_the_field(api, body):
    response = api.put("/plugins/recorder", json=body)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) & {"enabled", "extra"}
    assert flags(api)["recorder"] is False


def test_switching_needs_plugins_manage(api_as):
    agent = api_as("agent")
    assert "recorder" in flags(agent)  # anyone with a token may see what is on
    response = agent.put("/plugins/recorder", json={"enabled": True})
    assert response.status_code == 403 and "plugins.manage" in response.get_json()["detail"]
    assert flags(agent)["recorder"] is False
