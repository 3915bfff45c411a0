"""The plugin host itself: what it refuses at start-up, how it finds plugins, and the per-tenant
switch (read per request, for the right tenant, through cached pluggy subset callers)."""
from __future__ import annotations

import importlib.metadata

import pytest
from flask import Blueprint
from marshmallow import Schema, ValidationError, fields
from sqlalchemy import event, select, update

import plugins.reports
from rapport import hookimpl
from rapport.db import db
from rapport.models import PluginState
from rapport.plugin_host import (
    CORE,
    PluginError,
    current_host,
    plugin_settings,
    save_plugin_settings,
    set_plugin_enabled,
)
from tests.conftest import make_test_app
from tests.plugins.support import acting_in, logged_in, switch


def plugin(name="bad", **hooks):
    """A plugin object implementing ``hooks`` (hook name -> what it returns)."""
    namespace = {"PLUGIN_NAME": name}
    for hook, answer in hooks.items():
        namespace[hook] = hookimpl(staticmethod(lambda answer=answer: answer))
    return type(f"Plugin_{name}", (), namespace)()


def blueprint(name, prefix, rule="/"):
    bp = Blueprint(name, __name__, url_prefix=prefix)
    bp.add_url_rule(rule, "page", lambda **_: "page")
    return bp


REFUSED = {
    "bad permission name": plugin(register_permissions=[{"name": "Bad Name", "roles": []}]),
    "permission without area": plugin(register_permissions=[{"name": "greet", "roles": []}]),
    "duplicate of a core permission": plugin(register_permissions=[{"name": "records.read", "roles": []}]),
    "unknown role": plugin(register_permissions=[{"name": "bad.thing", "roles": ["superuser"]}]),
    "not a blueprint": plugin(register_blueprints=["/t/<tenant_slug>/bad"]),
    "blueprint name clash": plugin(register_blueprints=[blueprint("ui", "/t/<tenant_slug>/bad")]),
    "URL outside the tenant prefix": plugin(register_blueprints=[blueprint("bad", "/bad")]),
    "URL on another tenant variable": plugin(register_blueprints=[blueprint("bad", "/t/<slug>/bad")]),
    "URL the core serves": plugin(register_blueprints=[blueprint("bad", "/t/<tenant_slug>", "/")]),
    "bad usage meter": plugin(register_usage_meters=[{"name": "pings", "unit": "n"}]),
    "duplicate usage meter": plugin(register_usage_meters=[{"name": "records.created", "unit": "n"}]),
    "settings schema class, not instance": plugin(plugin_settings_schema=Schema),
}


@pytest.mark.parametrize("bad", REFUSED.values(), ids=REFUSED.keys())
def test_invalid_registrations_stop_the_app_at_start_up(database, tmp_path, bad):
    with pytest.raises(PluginError):
        make_test_app(database, tmp_path, EXTRA_PLUGINS=[bad])


def test_hook_without_a_spec_stops_the_app(database, tmp_path):
    with pytest.raises(Exception, match="unknown hook"):
        make_test_app(database, tmp_path, EXTRA_PLUGINS=[plugin(register_widgets=[])])


def test_valid_plugin_is_accepted(database, tmp_path):
    good = plugin(
        "good",
        register_permissions=[{"name": "good.use", "label": "Use", "roles": ["agent"]}],
        register_blueprints=[blueprint("good", "/t/<tenant_slug>/good")],
    )
    app = make_test_app(database, tmp_path, EXTRA_PLUGINS=[good])
    host = app.extensions["rapport.plugins"]
    assert "good" in host.names and host.role_permissions("agent") >= {"good.use", "records.read"}


def test_built_in_plugins_come_from_entry_points(app):
    points = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="rapport")}
    assert points["reports"] == "plugins.reports"
    host = current_host()
    assert host.pm.get_plugin("reports") is plugins.reports
    assert CORE not in host.plugin_names  # the core is always on, not a switchable plugin


def test_switch_is_read_per_request_even_in_a_long_app_context(pair):
    """Tests, the CLI and task workers keep one app context across many requests: the enabled set
    must not be cached there, or a switch made elsewhere (another worker) would never be seen."""
    alpha, _beta = pair
    owner = logged_in("owner@alpha.test")
    assert owner.get("/t/alpha/reports/").status_code == 404
    with acting_in(alpha):
        db.session.add(PluginState(plugin="reports", enabled=True, settings={}))  # as another worker would
        db.session.commit()
    assert owner.get("/t/alpha/reports/").status_code == 200
    with acting_in(alpha):
        db.session.execute(update(PluginState).values(enabled=False))
        db.session.commit()
    assert owner.get("/t/alpha/reports/").status_code == 404


def test_enabled_plugins_are_those_of_the_tenant_asked_about(pair):
    alpha, beta = pair
    switch(alpha, "reports", True)
    host = current_host()
    with acting_in(beta):  # another tenant active: the answer is still alpha's
        assert host.enabled_plugins(alpha) == {"reports"}
        assert host.enabled_plugins(beta) == frozenset()


def test_tenant_callers_are_cached_per_enabled_set(pair):
    alpha, beta = pair
    host = current_host()
    with acting_in(alpha):
        off = host.caller("dashboard_panels", alpha)
    assert host.caller("dashboard_panels", beta) is off  # same plugins enabled, same caller
    switch(alpha, "reports", True)
    with acting_in(alpha):
        on = host.caller("dashboard_panels", alpha)
    assert on is not off
    assert "reports" in {impl.plugin_name for impl in on.get_hookimpls()}
    assert "reports" not in {impl.plugin_name for impl in off.get_hookimpls()}


def test_switching_in_a_request_is_seen_by_the_rest_of_it(app, pair):
    alpha, _beta = pair
    host = current_host()
    with app.test_request_context("/t/alpha/"), acting_in(alpha):
        assert not host.is_enabled(alpha, "reports")
        set_plugin_enabled(host, alpha, "reports", True)
        assert host.is_enabled(alpha, "reports")


def test_unknown_plugin_is_a_lookup_error(pair):
    alpha, _beta = pair
    host = current_host()
    with pytest.raises(LookupError):
        switch(alpha, "nope", True)
    with acting_in(alpha), pytest.raises(LookupError):
        save_plugin_settings(host, "nope", {})
    with acting_in(alpha), pytest.raises(LookupError):
        save_plugin_settings(host, CORE, {})


class Silent:
    PLUGIN_NAME = "silent"  # a plugin without settings


@pytest.fixture
def app_config():
    return {"EXTRA_PLUGINS": [Silent()]}


def test_plugin_without_settings(pair):
    alpha, _beta = pair
    host = current_host()
    with acting_in(alpha):
        with pytest.raises(ValidationError) as refused:
            save_plugin_settings(host, "silent", {"x": 1})
        assert "_schema" in refused.value.messages
        assert plugin_settings(host, "silent") == {}
        assert db.session.scalar(select(PluginState).where(PluginState.plugin == "silent")) is None


def test_settings_saved_under_an_older_schema_keep_what_still_validates(pair):
    alpha, _beta = pair
    host = current_host()
    with acting_in(alpha):
        db.session.add(PluginState(plugin="reports", enabled=True, settings={"default_period_days": 9000, "gone": 1}))
        db.session.flush()
        assert plugin_settings(host, "reports") == {"default_period_days": 30}  # bad value: the default
        save_plugin_settings(host, "reports", {"default_period_days": 14})
        assert plugin_settings(host, "reports") == {"default_period_days": 14}


def test_outside_requests_the_switch_is_read_once_per_transaction(pair):
    """CLI imports and tasks call crm (and so the hooks) many times in one transaction."""
    alpha, _beta = pair
    host = current_host()
    reads = []

    def count(_conn, _cursor, statement, *_args):
        if "FROM plugin_states" in statement:
            reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with acting_in(alpha):
            for _ in range(3):
                assert host.enabled_plugins(alpha) == frozenset()
            assert len(reads) == 1
            db.session.execute(update(PluginState).values(enabled=True))  # nothing to switch yet
            db.session.add(PluginState(plugin="reports", enabled=True, settings={}))
            db.session.commit()  # as another process would: the next transaction sees it
            assert host.enabled_plugins(alpha) == {"reports"} and len(reads) == 2
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
