"""A test plugin that implements every hook and records each call, for ``test_hooks.py``.

Registered through the app config key ``EXTRA_PLUGINS``, which ``build_host`` registers like an
entry point. ``probes`` lets a test look at the world at the moment a hook is called.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint
from marshmallow import Schema, fields, validate

from rapport import hookimpl
from rapport.pipeline import require

bp = Blueprint("recorder", __name__, url_prefix="/t/<tenant_slug>/recorder")


@bp.get("/")
@require("recorder.use")
def page():
    return "recorder page"


class RecorderSettings(Schema):
    greeting = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={"label": "Greeting"})
    repeat = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=5))
    since = fields.Date(load_default=None, allow_none=True)


@dataclass
class Call:
    hook: str
    kwargs: dict
    seen: object = None  # what the hook's probe saw when it was called


class Recorder:
    PLUGIN_NAME = "recorder"

    def __init__(self):
        self.calls: list[Call] = []
        self.probes: dict = {}

    def _record(self, hook: str, **kwargs) -> None:
        probe = self.probes.get(hook)
        self.calls.append(Call(hook, kwargs, probe(**kwargs) if probe else None))

    def calls_of(self, hook: str) -> list[Call]:
        return [call for call in self.calls if call.hook == hook]

    def tenants_of(self, hook: str) -> list:
        return [call.kwargs["tenant"].slug for call in self.calls_of(hook)]

    @hookimpl
    def register_permissions(self):
        self._record("register_permissions")
        return [{"name": "recorder.use", "label": "Use the recorder", "roles": ["owner", "admin"]}]

    @hookimpl
    def register_blueprints(self):
        self._record("register_blueprints")
        return [bp]

    @hookimpl
    def register_usage_meters(self):
        self._record("register_usage_meters")
        return [{"name": "recorder.pings", "label": "Pings", "unit": "pings"}]

    @hookimpl
    def menu_items(self, tenant, member):
        self._record("menu_items", tenant=tenant, member=member)
        return [
            {"section": "nav", "label": "Recorder nav", "endpoint": "recorder.page", "permission": "recorder.use"},
            {"section": "admin", "label": "Recorder admin", "endpoint": "recorder.page", "permission": "recorder.use"},
        ]

    @hookimpl
    def dashboard_panels(self, tenant, member):
        self._record("dashboard_panels", tenant=tenant, member=member)
        return [{"title": "Recorder panel", "html": "<b>plain text, escaped</b>"}]

    @hookimpl
    def record_panels(self, tenant, record_type, record, member):
        self._record("record_panels", tenant=tenant, record_type=record_type, record=record, member=member)
        return [{"title": "Recorder record panel", "html": f"<b>{record_type} {record.id}</b>"}]

    @hookimpl
    def record_created(self, tenant, record_type, record, actor):
        self._record("record_created", tenant=tenant, record_type=record_type, record=record, actor=actor)

    @hookimpl
    def record_updated(self, tenant, record_type, record, changes, actor):
        self._record("record_updated", tenant=tenant, record_type=record_type, record=record, changes=changes, actor=actor)

    @hookimpl
    def record_deleted(self, tenant, record_type, record_id, actor):
        self._record("record_deleted", tenant=tenant, record_type=record_type, record_id=record_id, actor=actor)

    @hookimpl
    def lead_stage_changed(self, tenant, lead, from_stage, to_stage, actor):
        self._record("lead_stage_changed", tenant=tenant, lead=lead, from_stage=from_stage, to_stage=to_stage, actor=actor)

    @hookimpl
    def plugin_enabled(self, tenant):
        self._record("plugin_enabled", tenant=tenant)

    @hookimpl
    def plugin_disabled(self, tenant):
        self._record("plugin_disabled", tenant=tenant)

    @hookimpl
    def plugin_settings_schema(self):
        self._record("plugin_settings_schema")
        return RecorderSettings()

    @hookimpl
    def usage_event(self, tenant, meter, quantity):
        self._record("usage_event", tenant=tenant, meter=meter, quantity=quantity)
