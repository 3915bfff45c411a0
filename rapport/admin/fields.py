"""The field builder: a tenant's custom fields on accounts, contacts and leads (``fields.manage``).

Add, edit, reorder, archive/restore, and delete (only after typing the key). An edit that affects
stored values (an option removed, ``required`` turned on, a type change) first shows a confirmation
page with the number of records concerned, through the same :mod:`rapport.fields.changes` as the API.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select

from ..db import db
from ..fields import CUSTOM_RECORD_TYPES, field_types, load_definitions
from ..fields.changes import CONVERSIONS, apply_change, impact, plan
from ..fields.definitions import create_definition, set_status, update_definition
from ..models import FieldDefinition, Role
from ..pipeline import require
from . import bp

RECORD_TYPE_LABELS = {"accounts": _l("Accounts"), "contacts": _l("Contacts"), "leads": _l("Leads")}
# Type-specific settings: form group -> the types it applies to and its inputs (config key, parser).
CONFIG_GROUPS = {
    "text": (("text",), (("max_length", int), ("pattern", str))),
    "number": (("number", "currency"), (("currency", str), ("min", float), ("max", float), ("decimals", int))),
    "date": (("date", "datetime"), (("min", str), ("max", str))),
    "phone": (("phone",), (("default_region", str),)),
}
BLANK_OPTION_ROWS = 3
PORTAL_CHOICES = (("none", _l("Not shown")), ("read", _l("Read only")), ("edit", _l("Editable")))


def _record_type_or_404(record_type: str) -> str:
    if record_type not in CUSTOM_RECORD_TYPES:
        abort(404)
    return record_type


def _definition_or_404(record_type: str, key: str) -> FieldDefinition:
    found = db.session.scalar(select(FieldDefinition).where(
        FieldDefinition.record_type == _record_type_or_404(record_type), FieldDefinition.key == key,
        FieldDefinition.status != "deleted"))
    if found is None:
        abort(404)
    return found


# -- reading the form ------------------------------------------------------------------------------

def _group_of(type_name: str) -> str | None:
    return next((name for name, (types, _inputs) in CONFIG_GROUPS.items() if type_name in types), None)


def _config_from(form, type_name: str) -> dict | None:
    """The type's settings from its inputs (``<group>.<key>``); None when all are blank."""
    group = _group_of(type_name)
    if group is None:
        return None
    config = {}
    for key, parse in CONFIG_GROUPS[group][1]:
        raw = (form.get(f"{group}.{key}") or "").strip()
        if not raw or (key == "currency" and type_name != "currency"):
            continue
        try:
            config[key] = parse(raw)
        except ValueError:
            config[key] = raw  # the schema names the field and the reason
    return config or None


def _options_from(form) -> list[dict]:
    rows = zip(form.getlist("option_value"), form.getlist("option_label"))
    return [{"value": v.strip(), "label": lbl.strip()} for v, lbl in rows if v.strip() or lbl.strip()]


def _default_from(form, type_name: str):
    raw = (form.get("default") or "").strip()
    if not raw:
        return None
    if type_name == "boolean":
        return {"yes": True, "true": True, "no": False, "false": False}.get(raw.lower(), raw)
    if type_name == "multi_select":
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def _mapping_from(form) -> dict:
    """``old text = option_value`` per line (option values never contain ``=``)."""
    mapping = {}
    for line in (form.get("mapping") or "").splitlines():
        old, sep, new = line.rpartition("=")
        if sep and old.strip():
            mapping[old.strip()] = new.strip()
    return mapping


def form_data(form, definition: FieldDefinition | None) -> dict:
    """The definition attributes the form says, in the shape ``create_definition`` takes."""
    type_name = form.get("type") or (definition.type if definition else "")
    data = {
        "label": (form.get("label") or "").strip(),
        "help_text": (form.get("help_text") or "").strip(),
        "type": type_name,
        "required": "required" in form,
        "default": _default_from(form, type_name),
        "show_in": {"staff": "show_in.staff" in form, "api": "show_in.api" in form,
                    "forms": "show_in.forms" in form, "portal": form.get("show_in.portal") or "none"},
        "roles": form.getlist("roles"),
        "pii": "pii" in form,
        "filterable": "filterable" in form,
    }
    if definition is None:
        data["key"] = (form.get("key") or "").strip()
    if type_name in ("select", "multi_select"):
        data["options"] = _options_from(form)
    elif definition is None or definition.type in ("select", "multi_select"):
        data["options"] = []
    config = _config_from(form, type_name)
    if config is not None or definition is None or type_name == definition.type:
        data["config"] = config or {}
    if definition is not None and type_name != definition.type:
        data["mapping"] = _mapping_from(form)
    return data


def form_errors(messages) -> dict:
    """marshmallow's nested messages, keyed by the form input they belong to."""
    if not isinstance(messages, dict):
        return {"_schema": messages if isinstance(messages, list) else [str(messages)]}
    errors = {}
    for name, reasons in messages.items():
        if name == "config" and isinstance(reasons, dict):
            for key, sub in reasons.items():
                errors[f"config.{key}"] = _texts(sub)
        elif isinstance(reasons, dict):
            errors[name] = _texts(reasons)
        else:
            errors[name] = _texts(reasons)
    return errors


def _texts(reasons) -> list[str]:
    if isinstance(reasons, dict):
        return [f"{k}: {' '.join(_texts(v))}" if not isinstance(k, int) else
                _("Row %(n)d: %(reason)s", n=k + 1, reason=" ".join(_texts(v))) for k, v in reasons.items()]
    if isinstance(reasons, list):
        return [str(r) for r in reasons]
    return [str(reasons)]


# -- pages -----------------------------------------------------------------------------------------

@bp.get("/fields")
@require("fields.manage")
def fields_home():
    return redirect(url_for("admin.fields", record_type=CUSTOM_RECORD_TYPES[0]))


@bp.get("/fields/<record_type>")
@require("fields.manage")
def fields(record_type: str):
    _record_type_or_404(record_type)
    definitions = [d for d in load_definitions(record_type, include_inactive=True) if d.status != "deleted"]
    return render_template("admin/fields.html", record_type=record_type, definitions=definitions,
                           record_types=RECORD_TYPE_LABELS, types=field_types())


def _tenant_roles() -> list[Role]:
    return sorted(db.session.scalars(select(Role)).all(), key=lambda r: (not r.builtin, r.name.lower()))


def _form_page(record_type, definition, values: dict, errors: dict, status: int = 200):
    types = field_types()
    if definition is None:
        type_choices = [(name, kind.label or name) for name, kind in types.items()]
    else:
        targets = [new for (old, new) in CONVERSIONS if old == definition.type and new in types]
        type_choices = [(name, types[name].label or name) for name in (definition.type, *targets)]
    return render_template(
        "admin/fields_form.html", record_type=record_type, definition=definition, values=values,
        errors=errors, type_choices=type_choices, roles=_tenant_roles(), groups=CONFIG_GROUPS,
        portal_choices=PORTAL_CHOICES, blank_rows=BLANK_OPTION_ROWS, record_types=RECORD_TYPE_LABELS,
    ), status


def _values_of(definition: FieldDefinition | None, form=None) -> dict:
    """What the form's inputs show: the typed input after an error, else the stored definition."""
    if form is not None:
        values = {k: form.get(k, "") for k in form}
        values.update(options=list(zip(form.getlist("option_value"), form.getlist("option_label"))),
                      roles=form.getlist("roles"), checked={k for k in form})
        return values
    if definition is None:
        return {"options": [], "roles": [], "checked": {"show_in.staff", "show_in.api"}, "show_in.portal": "none"}
    show = definition.show_in or {}
    values = {"key": definition.key, "label": definition.label, "help_text": definition.help_text or "",
              "type": definition.type, "show_in.portal": show.get("portal", "none"),
              "options": [(o["value"], o["label"]) for o in definition.options or ()], "roles": list(definition.roles or ()),
              "default": _default_text(definition.default), "mapping": ""}
    values["checked"] = {name for name, on in (
        ("required", definition.required), ("pii", definition.pii), ("filterable", definition.filterable),
        ("show_in.staff", show.get("staff", True)), ("show_in.api", show.get("api", True)),
        ("show_in.forms", show.get("forms", False))) if on}
    group = _group_of(definition.type)
    for key, value in (definition.config or {}).items():
        if group:
            values[f"{group}.{key}"] = value
    return values


def _default_text(default) -> str:
    if default is None:
        return ""
    if isinstance(default, bool):
        return "yes" if default else "no"
    if isinstance(default, list):
        return ", ".join(map(str, default))
    return str(default)


def _config_errors_to_inputs(errors: dict, type_name: str) -> dict:
    group = _group_of(type_name)
    return {(f"{group}.{k.split('.', 1)[1]}" if k.startswith("config.") and group else k): v for k, v in errors.items()}


@bp.route("/fields/<record_type>/new", methods=["GET", "POST"])
@require("fields.manage")
def new_field(record_type: str):
    _record_type_or_404(record_type)
    if request.method == "GET":
        return _form_page(record_type, None, _values_of(None), {})
    data = form_data(request.form, None)
    try:
        definition = create_definition(g.tenant, record_type, data, g.actor)
    except ValidationError as exc:
        db.session.rollback()
        errors = _config_errors_to_inputs(form_errors(exc.messages), data["type"])
        return _form_page(record_type, None, _values_of(None, request.form), errors, 422)
    db.session.commit()
    flash(_("Field %(label)s added.", label=definition.label))
    return redirect(url_for("admin.fields", record_type=record_type))


@bp.route("/fields/<record_type>/<field_key>/edit", methods=["GET", "POST"])
@require("fields.manage")
def edit_field(record_type: str, field_key: str):
    definition = _definition_or_404(record_type, field_key)
    if request.method == "GET":
        return _form_page(record_type, definition, _values_of(definition), {})
    data = form_data(request.form, definition)
    try:
        p = plan(definition, data)
        if request.form.get("confirmed") != "1" and (p.type_change or p.removed_options or p.newly_required):
            found = impact(p)
            if p.type_change or found.affected:
                return _confirm_page(definition, p, found)
        apply_change(g.tenant, definition, data, g.actor, drop_unconvertible=request.form.get("drop") == "1")
    except ValidationError as exc:
        db.session.rollback()
        definition = _definition_or_404(record_type, field_key)
        errors = _config_errors_to_inputs(form_errors(exc.messages), data["type"])
        return _form_page(record_type, definition, _values_of(definition, request.form), errors, 422)
    db.session.commit()
    flash(_("Field %(label)s saved.", label=definition.label))
    return redirect(url_for("admin.fields", record_type=record_type))


def _confirm_page(definition: FieldDefinition, p, found):
    replay = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirmed", "drop")]
    return render_template(
        "admin/fields_confirm.html", definition=definition, found=found, replay=replay,
        type_change=p.type_change, new_type=p.new.type, removed=sorted(p.removed_options),
        newly_required=p.newly_required, record_types=RECORD_TYPE_LABELS,
    )


@bp.post("/fields/<record_type>/<field_key>/move")
@require("fields.manage")
def move_field(record_type: str, field_key: str):
    definition = _definition_or_404(record_type, field_key)
    ordered = [d for d in load_definitions(record_type, include_inactive=True) if d.status != "deleted"]
    at = ordered.index(definition)
    to = at - 1 if request.form.get("direction") == "up" else at + 1
    if 0 <= to < len(ordered):
        ordered[at], ordered[to] = ordered[to], ordered[at]
        for index, item in enumerate(ordered):
            if item.position != (index + 1) * 10:
                update_definition(g.tenant, item, {"position": (index + 1) * 10}, g.actor)
        db.session.commit()
    return redirect(url_for("admin.fields", record_type=record_type) + f"#field-{definition.key}")


def _switch(record_type: str, field_key: str, status: str, message):
    definition = _definition_or_404(record_type, field_key)
    if definition.status != status:
        set_status(g.tenant, definition, status, g.actor)
        db.session.commit()
        flash(message(definition.label))
    return redirect(url_for("admin.fields", record_type=record_type))


@bp.post("/fields/<record_type>/<field_key>/archive")
@require("fields.manage")
def archive_field(record_type: str, field_key: str):
    return _switch(record_type, field_key, "archived",
                   lambda label: _("Field %(label)s archived: hidden, its values kept.", label=label))


@bp.post("/fields/<record_type>/<field_key>/restore")
@require("fields.manage")
def restore_field(record_type: str, field_key: str):
    return _switch(record_type, field_key, "active", lambda label: _("Field %(label)s restored.", label=label))


@bp.route("/fields/<record_type>/<field_key>/delete", methods=["GET", "POST"])
@require("fields.manage")
def delete_field(record_type: str, field_key: str):
    definition = _definition_or_404(record_type, field_key)
    errors, typed = {}, ""
    if request.method == "POST":
        typed = (request.form.get("confirm") or "").strip()
        if typed == definition.key:
            set_status(g.tenant, definition, "deleted", g.actor)
            db.session.commit()
            flash(_("Field %(label)s deleted with its values.", label=definition.label))
            return redirect(url_for("admin.fields", record_type=record_type))
        errors["confirm"] = [_("Type the field's key exactly to delete it.")]
    page = render_template("admin/fields_delete.html", definition=definition, errors=errors, typed=typed,
                           record_types=RECORD_TYPE_LABELS)
    return page, 422 if errors else 200
