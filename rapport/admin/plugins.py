"""Plugins: every installed plugin with its on/off switch for this tenant, and its settings form when
the plugin supplies a settings schema.

Switching goes through :func:`rapport.plugin_host.set_plugin_enabled`: it takes effect on the next
request and keeps the plugin's data and settings. Settings are validated by the plugin's own
marshmallow schema and stored in ``PluginState.settings``.
"""
from __future__ import annotations

import re

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError, fields, validate
from sqlalchemy import select

from .. import audit, plugin_host
from ..db import db
from ..models import PluginState
from ..pipeline import require
from . import bp

WHOLE_NUMBER = re.compile(r"^[+-]?\d+$")


def _host():
    return plugin_host.current_host()


def _known_plugin_or_404(name: str) -> str:
    if name not in _host().plugin_names:
        abort(404)
    return name


def _summary(name: str) -> str:
    """How a plugin describes itself: its ``PLUGIN_DESCRIPTION`` (translatable), else the first line
    of its module docstring."""
    plugin = _host().pm.get_plugin(name)
    if getattr(plugin, "PLUGIN_DESCRIPTION", None):
        return str(plugin.PLUGIN_DESCRIPTION)
    doc = (plugin.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


@bp.get("/plugins")
@require("plugins.manage")
def plugins():
    states = {s.plugin: s for s in db.session.scalars(select(PluginState))}
    rows = [
        {
            "name": name,
            "summary": _summary(name),
            "enabled": bool(states.get(name) and states[name].enabled),
            "has_settings": plugin_host.settings_schema(_host(), name) is not None,
        }
        for name in _host().plugin_names
    ]
    return render_template("admin/plugins.html", rows=rows)


@bp.post("/plugins/<plugin>/switch")
@require("plugins.manage")
def switch_plugin(plugin: str):
    name = _known_plugin_or_404(plugin)
    wanted = request.form.get("enabled")
    if wanted not in ("0", "1"):
        abort(400)
    before = plugin_host.plugin_state(name)
    was_on = bool(before and before.enabled)
    state = plugin_host.set_plugin_enabled(_host(), g.tenant, name, wanted == "1")
    if was_on != state.enabled:
        audit.log(g.actor, "update", "plugins", state.id, {f"{name}.enabled": (was_on, state.enabled)})
    db.session.commit()
    flash(_("%(plugin)s is on.", plugin=name) if state.enabled else _("%(plugin)s is off; its data is kept.", plugin=name))
    return redirect(url_for("admin.plugins"))


# -- settings -------------------------------------------------------------------------------------
def describe_fields(schema) -> list[dict]:
    """What the form needs to render each settings field: input type, label, help, options, bounds."""
    described = []
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        item = {
            "name": name,
            "label": str(field.metadata.get("label", name)),
            "help": str(field.metadata.get("description", "")) or None,
            "required": field.required,
            "input": "text",
            "options": None,
            "min": None,
            "max": None,
        }
        if isinstance(field, fields.Boolean):
            item["input"] = "checkbox"
        elif isinstance(field, fields.Number):
            item["input"] = "number"
        elif isinstance(field, fields.Email):
            item["input"] = "email"
        for rule in field.validators:
            if isinstance(rule, validate.OneOf):
                labels = list(rule.labels) or [str(c) for c in rule.choices]
                item["input"], item["options"] = "select", list(zip(rule.choices, labels))
            elif isinstance(rule, validate.Range):
                item["min"], item["max"] = rule.min, rule.max
        described.append(item)
    return described


def _form_data(schema, form) -> dict:
    """The form as the schema expects it: checkboxes as booleans, whole numbers as ints (so that
    ``Integer(strict=True)`` still refuses 2.5), and a blank field as 'not given'."""
    data = {}
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        if isinstance(field, fields.Boolean):
            data[name] = name in form
            continue
        raw = (form.get(name) or "").strip()
        if raw == "":
            continue
        if isinstance(field, fields.Integer) and WHOLE_NUMBER.match(raw):
            data[name] = int(raw)
        else:
            data[name] = raw
    return data


@bp.route("/plugins/<plugin>/settings", methods=["GET", "POST"])
@require("plugins.manage")
def plugin_settings(plugin: str):
    name = _known_plugin_or_404(plugin)
    schema = plugin_host.settings_schema(_host(), name)
    if schema is None:
        abort(404)
    if request.method == "GET":
        return _settings_page(name, schema, schema.dump(plugin_host.plugin_settings(_host(), name)), {})
    state = plugin_host.plugin_state(name)
    old = dict(state.settings or {}) if state else {}
    try:
        saved = plugin_host.save_plugin_settings(_host(), name, _form_data(schema, request.form))
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return _settings_page(name, schema, request.form, errors, 422)
    _audit_settings(name, saved, old)
    db.session.commit()
    flash(_("Settings of %(plugin)s saved.", plugin=name))
    return redirect(url_for("admin.plugin_settings", plugin=name))


def _audit_settings(name: str, state: PluginState, old: dict) -> None:
    new = state.settings
    changes = {
        f"{name}.settings.{key}": (old.get(key), new.get(key))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    }
    if changes:
        audit.log(g.actor, "update", "plugins", state.id, changes)


def _settings_page(name, schema, values, errors, status=200):
    return render_template(
        "admin/plugin_settings.html",
        plugin=name,
        items=describe_fields(schema),
        values=values,
        errors=errors,
    ), status
