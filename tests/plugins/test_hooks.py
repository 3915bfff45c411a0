"""One test per hook (``test_hook_<name>``, checked by test_hook_docs.py): each shows the hook called
with its documented arguments at the documented moment, and, for per-tenant hooks, only for the
tenant that enabled the plugin. ``alpha`` has the recording plugin on, ``beta`` has it off."""
from __future__ import annotations

import datetime as dt

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from rapport import crm
from rapport.db import db
from rapport.models import Account, AuditEvent, Lead, LeadStageChange, PluginState
from rapport.plugin_host import current_host, plugin_settings, save_plugin_settings
from tests.plugins.support import ACTOR, acting_in, logged_in, member, stored_state, switch


@pytest.fixture
def app_config(recorder):
    return {"EXTRA_PLUGINS": [recorder]}


@pytest.fixture
def tenants(pair, recorder):
    alpha, beta = pair
    switch(alpha, "recorder", True)
    recorder.calls.clear()  # forget start-up and switching; each test looks at what it causes
    return alpha, beta


def args(call) -> dict:
    """A call's arguments, with the tenant shown by its slug."""
    return {**call.kwargs, "tenant": call.kwargs["tenant"].slug}


def create_in(tenant, record_type, data):
    with acting_in(tenant):
        record = crm.create(record_type, data, ACTOR)
        db.session.commit()
    return record


# -- start-up hooks ----------------------------------------------------------------------------------
def test_hook_register_permissions(app, recorder, pair):
    assert len(recorder.calls_of("register_permissions")) == 1  # once, when the app was built
    declared = current_host().permissions["recorder.use"]
    assert (declared.plugin, declared.roles) == ("recorder", ("owner", "admin"))
    alpha, _beta = pair
    switch(alpha, "recorder", True)
    assert member(alpha, "owner@alpha.test").can("recorder.use")
    assert not member(alpha, "agent@alpha.test").can("recorder.use")
    assert logged_in("owner@alpha.test").get("/t/alpha/recorder/").status_code == 200
    assert logged_in("agent@alpha.test").get("/t/alpha/recorder/").status_code == 403


def test_hook_register_blueprints(app, client, recorder, tenants):
    rules = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    assert rules["/t/<tenant_slug>/recorder/"] == "recorder.page"
    assert current_host().plugin_of_blueprint("recorder") == "recorder"
    page = logged_in("owner@alpha.test").get("/t/alpha/recorder/")
    assert page.status_code == 200 and page.get_data(as_text=True) == "recorder page"
    assert logged_in("owner@beta.test").get("/t/beta/recorder/").status_code == 404
    # The switch comes before login: where the plugin is off, its pages do not exist for anyone.
    assert client.get("/t/alpha/recorder/").status_code == 302
    assert client.get("/t/beta/recorder/").status_code == 404
    assert recorder.calls_of("register_blueprints") == []  # only at start-up, never per request


def test_hook_register_usage_meters(app, recorder):
    assert len(recorder.calls_of("register_usage_meters")) == 1
    meters = current_host().meters
    assert (meters["recorder.pings"].plugin, meters["recorder.pings"].unit) == ("recorder", "pings")
    assert meters["records.created"].plugin == "rapport.core"


# -- per-request hooks -----------------------------------------------------------------------------
def test_hook_menu_items(recorder, tenants):
    alpha, beta = tenants
    page = logged_in("owner@alpha.test").get("/t/alpha/").get_data(as_text=True)
    assert 'href="/t/alpha/recorder/">Recorder nav<' in page
    assert 'href="/t/alpha/recorder/">Recorder admin<' in page
    call = recorder.calls_of("menu_items")[-1]
    assert call.kwargs["tenant"].id == alpha.id
    assert call.kwargs["member"].user.email == "owner@alpha.test"
    owner = member(alpha, "owner@alpha.test")
    with acting_in(alpha):
        nav = [item["endpoint"] for item in current_host().menu(alpha, owner, "nav")]
        assert nav[0] == "ui.dashboard" and nav[-1] == "recorder.page"  # the core's entries first
        assert "Recorder nav" not in [str(i["label"]) for i in current_host().menu(alpha, owner, "admin")]
    # An entry whose permission the member lacks is left out.
    assert "Recorder nav" not in logged_in("agent@alpha.test").get("/t/alpha/").get_data(as_text=True)
    recorder.calls.clear()
    page = logged_in("owner@beta.test").get("/t/beta/").get_data(as_text=True)
    assert "Recorder nav" not in page and "Recorder admin" not in page
    assert "beta" not in recorder.tenants_of("menu_items")


def test_hook_dashboard_panels(recorder, tenants):
    alpha, _beta = tenants
    page = logged_in("owner@alpha.test").get("/t/alpha/").get_data(as_text=True)
    assert "Recorder panel" in page
    assert "&lt;b&gt;plain text, escaped&lt;/b&gt;" in page and "<b>plain text" not in page
    [call] = recorder.calls_of("dashboard_panels")
    assert call.kwargs["tenant"].id == alpha.id and call.kwargs["member"].user.email == "owner@alpha.test"
    recorder.calls.clear()
    page = logged_in("owner@beta.test").get("/t/beta/").get_data(as_text=True)
    assert "Recorder panel" not in page and recorder.calls_of("dashboard_panels") == []


def test_hook_record_panels(recorder, tenants):
    alpha, beta = tenants
    lead = create_in(alpha, "leads", {"name": "Panel lead"})
    page = logged_in("owner@alpha.test").get(f"/t/alpha/leads/{lead.id}").get_data(as_text=True)
    assert "Recorder record panel" in page
    assert f"&lt;b&gt;leads {lead.id}&lt;/b&gt;" in page  # a plain str is escaped
    [call] = recorder.calls_of("record_panels")
    assert call.kwargs["record"].id == lead.id and call.kwargs["record_type"] == "leads"
    assert call.kwargs["member"].user.email == "owner@alpha.test"
    recorder.calls.clear()
    other = create_in(beta, "leads", {"name": "Beta lead"})
    page = logged_in("owner@beta.test").get(f"/t/beta/leads/{other.id}").get_data(as_text=True)
    assert "Recorder record panel" not in page and recorder.calls_of("record_panels") == []


# -- record events -------------------------------------------------------------------------------------
def test_hook_record_created(recorder, tenants):
    alpha, beta = tenants
    recorder.probes["record_created"] = lambda record, **_: (
        db.session.get(Account, (record.tenant_id, record.id)) is not None,
        db.session.scalar(select(AuditEvent.action).where(AuditEvent.record_id == record.id)),
    )
    account = create_in(alpha, "accounts", {"name": "Northwind"})
    [call] = recorder.calls_of("record_created")
    assert args(call) == {"tenant": "alpha", "record_type": "accounts", "record": account, "actor": ACTOR}
    assert call.seen == (True, "create")  # stored and audited before plugins hear of it
    create_in(beta, "accounts", {"name": "Elsewhere"})
    assert recorder.tenants_of("record_created") == ["alpha"]


def test_hook_record_updated(recorder, tenants):
    alpha, beta = tenants
    lead = create_in(alpha, "leads", {"name": "Old name"})
    with acting_in(alpha):
        crm.update(lead, {"name": "New name"}, ACTOR)
        crm.update(lead, {"name": "New name"}, ACTOR)  # no change, no event
        db.session.commit()
    [call] = recorder.calls_of("record_updated")
    assert args(call) == {
        "tenant": "alpha", "record_type": "leads", "record": lead, "changes": {"name": ("Old name", "New name")}, "actor": ACTOR
    }
    other = create_in(beta, "leads", {"name": "Beta lead"})
    with acting_in(beta):
        crm.update(other, {"name": "Renamed"}, ACTOR)
        db.session.commit()
    assert recorder.tenants_of("record_updated") == ["alpha"]


def test_hook_record_deleted(recorder, tenants):
    alpha, beta = tenants
    account = create_in(alpha, "accounts", {"name": "Gone soon"})
    recorder.probes["record_deleted"] = lambda record_id, **_: db.session.scalar(
        select(Account.id).where(Account.id == record_id)
    )
    with acting_in(alpha):
        crm.delete(account, ACTOR)
        db.session.commit()
    [call] = recorder.calls_of("record_deleted")
    assert args(call) == {"tenant": "alpha", "record_type": "accounts", "record_id": account.id, "actor": ACTOR}
    assert call.seen is None  # the row is already gone when plugins hear of it
    other = create_in(beta, "accounts", {"name": "Beta account"})
    with acting_in(beta):
        crm.delete(other, ACTOR)
        db.session.commit()
    assert recorder.tenants_of("record_deleted") == ["alpha"]


def test_hook_lead_stage_changed(recorder, tenants):
    alpha, beta = tenants
    lead = create_in(alpha, "leads", {"name": "Deal", "stage": "target"})
    assert recorder.calls_of("lead_stage_changed") == []  # a lead's first stage is not a change
    recorder.probes["lead_stage_changed"] = lambda lead, **_: db.session.scalars(
        select(LeadStageChange.to_stage).where(LeadStageChange.lead_id == lead.id).order_by(LeadStageChange.changed_at)
    ).all()
    with acting_in(alpha):
        crm.update(lead, {"stage": "prospect"}, ACTOR)
        db.session.commit()
    [call] = recorder.calls_of("lead_stage_changed")
    assert args(call) == {"tenant": "alpha", "lead": lead, "from_stage": "target", "to_stage": "prospect", "actor": ACTOR}
    assert call.seen == ["target", "prospect"]  # the stage history is written first
    hooks = [c.hook for c in recorder.calls if c.hook in ("lead_stage_changed", "record_updated")]
    assert hooks == ["lead_stage_changed", "record_updated"]
    other = create_in(beta, "leads", {"name": "Beta deal"})
    with acting_in(beta):
        crm.update(other, {"stage": "customer"}, ACTOR)
        db.session.commit()
    assert recorder.tenants_of("lead_stage_changed") == ["alpha"]


# -- the plugin's own life in a tenant -------------------------------------------------------------
def _enabled_in_db(tenant) -> bool:
    with acting_in(tenant):
        return db.session.scalar(select(PluginState.enabled).where(PluginState.plugin == "recorder"))


def test_hook_plugin_enabled(recorder, pair):
    alpha, beta = pair
    recorder.probes["plugin_enabled"] = lambda tenant: _enabled_in_db(tenant)
    switch(alpha, "recorder", True)
    switch(alpha, "recorder", True)  # already on: not called again
    switch(alpha, "reports", True)  # another plugin's switch is not this plugin's business
    [call] = recorder.calls_of("plugin_enabled")
    assert args(call) == {"tenant": "alpha"} and call.seen is True
    assert "beta" not in recorder.tenants_of("plugin_enabled") and stored_state(beta, "recorder") is None


def test_hook_plugin_disabled(recorder, tenants):
    alpha, beta = tenants
    with acting_in(alpha):
        save_plugin_settings(current_host(), "recorder", {"greeting": "Hi"})
        db.session.commit()
    recorder.probes["plugin_disabled"] = lambda tenant: _enabled_in_db(tenant)
    switch(alpha, "recorder", False)
    switch(alpha, "recorder", False)
    switch(beta, "recorder", False)  # never on in beta: nothing to switch off
    [call] = recorder.calls_of("plugin_disabled")
    assert args(call) == {"tenant": "alpha"} and call.seen is False
    assert stored_state(alpha, "recorder").settings == {"greeting": "Hi", "repeat": 1, "since": None}  # kept
    assert logged_in("owner@alpha.test").get("/t/alpha/recorder/").status_code == 404


def test_hook_plugin_settings_schema(app, recorder, tenants):
    alpha, beta = tenants
    host = current_host()
    with acting_in(alpha):
        save_plugin_settings(host, "recorder", {"greeting": "Hi", "since": "2026-01-02"})
        db.session.commit()
        assert stored_state(alpha, "recorder").settings == {"greeting": "Hi", "repeat": 1, "since": "2026-01-02"}
        assert plugin_settings(host, "recorder") == {"greeting": "Hi", "repeat": 1, "since": dt.date(2026, 1, 2)}
        with pytest.raises(ValidationError) as bad:
            save_plugin_settings(host, "recorder", {"greeting": "", "repeat": 2.5})
        assert set(bad.value.messages) == {"greeting", "repeat"}
        assert stored_state(alpha, "recorder").settings["greeting"] == "Hi"  # nothing written
    with acting_in(beta):  # settings are per tenant: beta has none, only the schema's defaults
        assert plugin_settings(host, "recorder") == {"repeat": 1, "since": None}
        assert db.session.scalar(select(PluginState).where(PluginState.plugin == "recorder")) is None
    assert len(recorder.calls_of("plugin_settings_schema")) == 4  # asked each time, the recorder only


# -- metering ------------------------------------------------------------------------------------------
def test_hook_usage_event(recorder, tenants):
    alpha, beta = tenants
    create_in(alpha, "leads", {"name": "Counted"})
    [call] = recorder.calls_of("usage_event")
    assert args(call) == {"tenant": "alpha", "meter": "records.created", "quantity": 1}
    assert [c.hook for c in recorder.calls] == ["record_created", "usage_event"]  # once the record exists
    create_in(beta, "leads", {"name": "Not counted here"})
    assert recorder.tenants_of("usage_event") == ["alpha"]


def test_hook_register_field_types(database, tmp_path):
    """A plugin's field type joins the registry and validates custom values like a built-in one."""
    from marshmallow import ValidationError, fields, validate

    from rapport import crm, hookimpl, tenancy
    from rapport.db import db
    from rapport.fields import field_types
    from rapport.fields.definitions import create_definition
    from rapport.fields.types import FieldType
    from rapport.pipeline import Actor
    from rapport.plugin_host import PluginError
    from rapport.provisioning import create_tenant
    from tests.conftest import make_test_app

    class Rating(FieldType):
        name, label, kind = "rating", "Rating", "number"

        def field(self, definition):
            return fields.Integer(strict=True, validate=validate.Range(1, 5), allow_none=not definition.required)

    class RatingPlugin:
        PLUGIN_NAME = "rating"

        @hookimpl
        def register_field_types(self):
            return [Rating()]

    app = make_test_app(database, tmp_path / "i", EXTRA_PLUGINS=[RatingPlugin()])
    connection = db.engine.connect()
    outer = connection.begin()
    db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        with app.test_request_context():
            assert isinstance(field_types()["rating"], Rating)
            tenant = create_tenant("rated", "Rated", "o@rated.test", "long enough pw")
            from flask import g

            g.tenant = tenant
            with tenancy.tenant_scope(tenant.id):
                create_definition(tenant, "contacts", {"key": "mood", "label": "Mood", "type": "rating"}, Actor.operator())
                contact = crm.create("contacts", {"last_name": "Li", "custom": {"mood": 4}}, Actor.operator())
                assert contact.custom == {"mood": 4}
                with pytest.raises(ValidationError) as exc:
                    crm.create("contacts", {"last_name": "Li", "custom": {"mood": 9}}, Actor.operator())
                assert "custom.mood" in exc.value.messages
    finally:
        db.session.remove()
        outer.rollback()
        connection.close()
        db.factory.configure(bind=db.engine)

    class Clash(RatingPlugin):
        PLUGIN_NAME = "clash"

        @hookimpl
        def register_field_types(self):
            clash = Rating()
            clash.name = "text"
            return [clash]

    with pytest.raises(PluginError, match="already exists"):
        make_test_app(database, tmp_path / "j", EXTRA_PLUGINS=[Clash()])
