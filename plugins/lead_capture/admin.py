"""The form builder in the tenant's admin pages (``forms.manage``): list, create, edit, publish,
delete, and the embed snippets.

The edit page is one HTML form that works without JavaScript: the asked fields and the routing
rules are rows; moving, removing or adding a row re-renders the page with the rows changed (nothing
is saved until "Save"), so the builder needs no script. Validation is ``forms.validate_form``, the
same as the API's; its dotted error keys (``fields.2.key``) name the row and input they belong to.
"""
from __future__ import annotations

import re
import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from marshmallow import ValidationError
from sqlalchemy import select

from rapport import hookimpl
from rapport.db import db
from rapport.models import Membership
from rapport.pipeline import require

from .forms import (
    DEFAULT_LEAD_SOURCE,
    DEFAULT_MIN_FILL_SECONDS,
    MAX_FIELDS,
    MAX_RULES,
    FormInUse,
    askable_fields,
    create_form,
    delete_form,
    hosted_path,
    hosted_url,
    list_forms,
    load_form,
    submission_counts,
    update_form,
    validate_form,
)
from .models import LeadForm

PERMISSION = "forms.manage"
ENDPOINT = "lead_capture_admin"
MODE_LABELS = {
    "manual": _l("Manual: new leads wait, unassigned, for someone to take them"),
    "round_robin": _l("Round-robin: the chosen members take turns"),
    "rules": _l("Rules: the first rule that matches picks the owner, else the default owner"),
}
OP_LABELS = {"eq": _l("is"), "in": _l("is one of"), "contains": _l("contains")}
TEXT_INPUTS = ("slug", "name", "consent_text", "thank_you_message", "redirect_url", "lead_source",
               "assignment_mode", "default_owner_id", "follow_up_minutes", "min_fill_seconds", "notify_emails",
               "allowed_origins")
LIST_INPUTS = {"notify_emails": re.compile(r"[\s,;]+"), "allowed_origins": re.compile(r"[\s,]+")}
ROW_ACTION = re.compile(r"^(up|down|remove)-(field|rule)-(\d+)$")

bp = Blueprint(ENDPOINT, __name__, url_prefix="/t/<tenant_slug>/admin/forms", template_folder="templates")


@hookimpl(specname="menu_items")
def forms_menu_items(member):
    """The builder's entry in the administration menu (a distinct name, so that other modules of
    the plugin can contribute menu entries of their own)."""
    return [{"section": "admin", "label": _l("Lead forms"), "endpoint": f"{ENDPOINT}.forms", "permission": PERMISSION}]


# -- the builder's state: what the inputs show ------------------------------------------------------
def state_of(form: LeadForm | None) -> dict:
    """The inputs' values for a stored form (or a new one)."""
    if form is None:
        return {**{name: "" for name in TEXT_INPUTS}, "lead_source": DEFAULT_LEAD_SOURCE, "assignment_mode": "manual",
                "min_fill_seconds": str(DEFAULT_MIN_FILL_SECONDS), "published": False, "assignees": [],
                "fields": [{"key": key, "label": "", "required": True} for key in ("name", "email")],
                "rules": []}
    return {
        "slug": form.slug, "name": form.name, "consent_text": form.consent_text or "",
        "thank_you_message": form.thank_you_message or "", "redirect_url": form.redirect_url or "",
        "lead_source": form.lead_source or "", "assignment_mode": form.assignment_mode,
        "default_owner_id": str(form.default_owner_id or ""),
        "follow_up_minutes": "" if form.follow_up_minutes is None else str(form.follow_up_minutes),
        "min_fill_seconds": str(form.min_fill_seconds), "notify_emails": "\n".join(form.notify_emails or ()),
        "allowed_origins": "\n".join(form.allowed_origins or ()), "published": bool(form.published),
        "assignees": list(form.assignees or ()),
        "fields": [{"key": r["key"], "label": r.get("label") or "", "required": bool(r.get("required"))}
                   for r in form.fields or ()],
        "rules": [{"field": r["field"], "op": r["op"], "owner_id": r["owner_id"],
                   "value": ", ".join(r["value"]) if isinstance(r["value"], list) else str(r["value"])}
                  for r in form.rules or ()],
    }


def state_from(posted) -> dict:
    """The inputs' values as posted; blank rows (the "add" rows) are dropped, so row numbers in
    errors match the rows shown again."""
    state = {name: posted.get(name, "") for name in TEXT_INPUTS}
    state["published"] = posted.get("published") == "1"
    state["assignees"] = posted.getlist("assignees")
    state["fields"] = [row for row in _rows(posted, "fields", ("key", "label"), MAX_FIELDS + 1) if row["key"]]
    rules = _rows(posted, "rules", ("field", "op", "value", "owner_id"), MAX_RULES + 1)
    state["rules"] = [rule for rule in rules if rule["field"] or rule["value"] or rule["owner_id"]]
    return state


def _rows(posted, prefix: str, names: tuple[str, ...], limit: int) -> list[dict]:
    rows = []
    for index in range(limit):
        if f"{prefix}-{index}-{names[0]}" not in posted:
            break
        row = {name: posted.get(f"{prefix}-{index}-{name}", "").strip() for name in names}
        if prefix == "fields":
            row["required"] = posted.get(f"{prefix}-{index}-required") == "1"
        rows.append(row)
    return rows


def apply_row_action(state: dict, action: str) -> bool:
    """Move or remove a row as a button asked; True when the action was a row action."""
    if action in ("add-field", "add-rule"):
        return True  # the filled "add" row is now a row; the page shows a new blank one
    match = ROW_ACTION.match(action)
    if not match:
        return False
    verb, kind, index = match.group(1), match.group(2), int(match.group(3))
    rows = state["fields" if kind == "field" else "rules"]
    if index >= len(rows):
        return True
    if verb == "remove":
        rows.pop(index)
    else:
        to = index - 1 if verb == "up" else index + 1
        if 0 <= to < len(rows):
            rows[index], rows[to] = rows[to], rows[index]
    return True


def raw_of(state: dict) -> dict:
    """The builder's inputs as a form definition for ``validate_form``."""
    raw = {name: state[name] for name in ("slug", "name", "consent_text", "thank_you_message", "redirect_url",
                                           "lead_source", "assignment_mode", "default_owner_id")}
    raw["published"] = state["published"]
    raw["follow_up_minutes"] = _number(state["follow_up_minutes"])
    raw["min_fill_seconds"] = _number(state["min_fill_seconds"])
    for name, separators in LIST_INPUTS.items():
        raw[name] = [item for item in separators.split(state[name]) if item]
    raw["assignees"] = list(state["assignees"])
    raw["fields"] = [{"key": row["key"], "label": row["label"], "required": row["required"]} for row in state["fields"]]
    raw["rules"] = [{"field": rule["field"], "op": rule["op"], "owner_id": rule["owner_id"],
                     "value": [v.strip() for v in rule["value"].split(",") if v.strip()] if rule["op"] == "in"
                     else rule["value"]} for rule in state["rules"]]
    return raw


def _number(text: str):
    """Digits as a number; anything else as typed, for the schema to name."""
    text = text.strip()
    return int(text) if text.isdigit() else (text or None)


def input_errors(errors: dict, raw: dict) -> dict:
    """Errors keyed by the inputs shown: ``notify_emails.3`` belongs to the one text area, with the
    address it is about; ``assignees.1`` to the list of checkboxes."""
    shown = {}
    for key, reasons in errors.items():
        name, _dot, index = key.partition(".")
        if name in LIST_INPUTS and index.isdigit() and int(index) < len(raw[name]):
            reasons = [f"{raw[name][int(index)]}: {reason}" for reason in reasons]
            key = name
        elif name == "assignees" and index.isdigit():
            key = name
        shown.setdefault(key, []).extend(str(reason) for reason in reasons)
    return shown


def suggest_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")


# -- pages ---------------------------------------------------------------------------------------------
def _form_or_404(form_id: uuid.UUID) -> LeadForm:
    form = load_form(form_id)
    if form is None:
        abort(404)
    return form


def _members() -> list[tuple[str, str]]:
    rows = db.session.scalars(select(Membership).where(Membership.status == "active"))
    return sorted(((str(m.id), m.user.display_name) for m in rows), key=lambda pair: pair[1].lower())


def _inactive_assignees(state: dict, active: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Assignees who are no longer active members: shown (checked) so the admin sees and unticks them."""
    known = {member_id for member_id, _name in active}
    ids = []
    for raw in state["assignees"]:
        try:
            if raw not in known:
                ids.append(uuid.UUID(raw))
        except ValueError:
            continue
    rows = db.session.scalars(select(Membership).where(Membership.id.in_(ids))) if ids else ()
    return [(str(m.id), m.user.display_name) for m in rows]


def embed_snippets(form: LeadForm) -> dict[str, str]:
    """The HTML a tenant pastes into its site (the page shows it as text: the template escapes it)."""
    url = hosted_url(g.tenant, form.slug)
    iframe = (f'<iframe src="{escape(url)}?embed=1" title="{escape(form.name)}" width="100%" height="640" '
              f'style="border:0" loading="lazy"></iframe>')
    script = f'<div data-rapport-form></div>\n<script src="{escape(url)}/embed.js" async></script>'
    return {"iframe": iframe, "script": script}


def _edit_page(form: LeadForm | None, state: dict, errors: dict, status: int = 200, notice: str | None = None):
    counts = submission_counts([form.id]).get(form.id, {}) if form is not None else {}
    members = _members()
    return render_template(
        "lead_capture/admin_form.html", form=form, state=state, errors=errors, notice=notice,
        askable=askable_fields(g.tenant), members=members, inactive=_inactive_assignees(state, members),
        modes=MODE_LABELS, ops=OP_LABELS,
        snippets=embed_snippets(form) if form is not None else None, counts=counts,
        hosted=hosted_url(g.tenant, form.slug) if form is not None else None,
    ), status


def _save(form: LeadForm | None):
    """Handle a POST of the builder: a row action re-renders, "Save" validates and writes."""
    state = state_from(request.form)
    if apply_row_action(state, request.form.get("action", "save")):
        return _edit_page(form, state, {}, notice=_("Not saved yet: press Save form to keep the changes."))
    if form is None and not state["slug"]:
        state["slug"] = suggest_slug(state["name"])
    raw = raw_of(state)
    try:
        values = validate_form(g.tenant, raw, form)
    except ValidationError as exc:
        db.session.rollback()
        return _edit_page(form, state, input_errors(exc.messages, raw), 422)
    if form is None:
        form = create_form(values, g.actor)
        message = _("Form %(name)s created.", name=form.name)
    else:
        update_form(form, values, g.actor)
        message = _("Form %(name)s saved.", name=form.name)
    db.session.commit()
    flash(message)
    return redirect(url_for(f"{ENDPOINT}.edit_form", form_id=form.id))


@bp.get("")
@require(PERMISSION)
def forms():
    found = list_forms()
    return render_template("lead_capture/admin_forms.html", forms=found, counts=submission_counts(),
                           paths={form.id: hosted_path(g.tenant, form.slug) for form in found},
                           urls={form.id: hosted_url(g.tenant, form.slug) for form in found})


@bp.route("/new", methods=["GET", "POST"])
@require(PERMISSION)
def new_form():
    if request.method == "GET":
        return _edit_page(None, state_of(None), {})
    return _save(None)


@bp.route("/<uuid:form_id>", methods=["GET", "POST"])
@require(PERMISSION)
def edit_form(form_id: uuid.UUID):
    form = _form_or_404(form_id)
    if request.method == "GET":
        return _edit_page(form, state_of(form), {})
    return _save(form)


@bp.post("/<uuid:form_id>/publish")
@require(PERMISSION)
def publish_form(form_id: uuid.UUID):
    form = _form_or_404(form_id)
    published = request.form.get("published") == "1"
    try:
        update_form(form, validate_form(g.tenant, {"published": published}, form), g.actor)
    except ValidationError as exc:
        db.session.rollback()
        form = _form_or_404(form_id)
        state = state_of(form)
        return _edit_page(form, state, input_errors(exc.messages, raw_of(state)), 422,
                          notice=_("Fix these settings first, then publish again."))
    db.session.commit()
    flash(_("Form %(name)s published.", name=form.name) if published else
          _("Form %(name)s unpublished: its page and embeds now answer \"not found\".", name=form.name))
    return redirect(url_for(f"{ENDPOINT}.forms"))


@bp.route("/<uuid:form_id>/delete", methods=["GET", "POST"])
@require(PERMISSION)
def delete_form_page(form_id: uuid.UUID):
    form = _form_or_404(form_id)
    error = None
    if request.method == "POST":
        name = form.name
        try:
            delete_form(form, g.actor)
        except FormInUse as exc:
            db.session.rollback()
            form = _form_or_404(form_id)
            error = _("%(waiting)d submissions wait for processing and %(quarantined)d are in quarantine: release "
                      "or discard them first, or unpublish the form instead.",
                      waiting=exc.waiting, quarantined=exc.quarantined)
        else:
            db.session.commit()
            flash(_("Form %(name)s deleted.", name=name))
            return redirect(url_for(f"{ENDPOINT}.forms"))
    counts = submission_counts([form.id]).get(form.id, {})
    page = render_template("lead_capture/admin_form_delete.html", form=form, counts=counts, error=error)
    return page, 409 if error else 200
