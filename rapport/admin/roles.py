"""Roles: the built-in ones (read-only, their permissions come from the registry) and custom roles,
each a named set of permissions from the registry (core and plugin-contributed).

Nobody builds a role that carries a permission they do not hold themselves, so ``roles.manage``
cannot be used to climb above one's own rights.
"""
from __future__ import annotations

import uuid
from types import SimpleNamespace

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_pgettext
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from .. import audit
from ..db import db, new_id
from ..models import Membership, Role
from ..pipeline import grant, require
from ..plugin_host import BUILTIN_ROLES, current_host
from . import bp

# A context tells the translator these are role names ("Owner" of a workspace, not of a record).
ROLE_LABELS = {
    "owner": lazy_pgettext("role", "Owner"),
    "admin": lazy_pgettext("role", "Admin"),
    "manager": lazy_pgettext("role", "Manager"),
    "agent": lazy_pgettext("role", "Agent"),
    "viewer": lazy_pgettext("role", "Viewer"),
}


@bp.context_processor
def _role_helpers():
    return {"role_label": role_label}


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role.key]) if role.builtin and role.key in ROLE_LABELS else role.name


def is_owner_role(role: Role | None) -> bool:
    return role is not None and role.builtin and role.key == "owner"


def effective_permissions(role: Role) -> frozenset[str]:
    """What a member holding ``role`` may do: the request pipeline's own rule, reused as is."""
    return grant(SimpleNamespace(role=role)).granted


def may_hand_out(role: Role, member) -> bool:
    """Only an owner makes owners; anyone else hands out roles within their own permissions."""
    if is_owner_role(role):
        return is_owner_role(member.role)
    return effective_permissions(role) <= member.granted


def tenant_roles() -> list[Role]:
    """Built-in roles in their natural order, then custom roles by name."""
    rows = db.session.scalars(select(Role)).all()
    order = {key: i for i, key in enumerate(BUILTIN_ROLES)}
    return sorted(rows, key=lambda r: (not r.builtin, order.get(r.key, 0), r.name.lower()))


def find_role(raw_id) -> Role | None:
    try:
        role_id = raw_id if isinstance(raw_id, uuid.UUID) else uuid.UUID(str(raw_id))
    except ValueError:
        return None
    return db.session.scalar(select(Role).where(Role.id == role_id))


def _host():
    return current_host()


def permission_groups() -> list[tuple[str, list]]:
    """The registry's permissions grouped by the plugin that declared them, core first."""
    groups: dict[str, list] = {}
    for perm in sorted(_host().permissions.values(), key=lambda p: p.name):
        groups.setdefault(perm.plugin, []).append(perm)
    return sorted(groups.items(), key=lambda item: (item[0] != "rapport.core", item[0]))


class RoleForm(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    permissions = fields.List(fields.String(), load_default=list)


def _validated(form, role: Role | None) -> dict:
    """The role's name and permissions from the form, or ValidationError naming the field."""
    data = {"name": (form.get("name") or "").strip(), "permissions": form.getlist("permissions")}
    if not data["name"]:
        raise ValidationError({"name": [_("Give the role a name.")]})
    values = RoleForm().load(data)
    errors = {}
    chosen = set(values["permissions"])
    unknown = sorted(chosen - set(_host().permissions))
    if unknown:
        errors["permissions"] = [_("Unknown permission: %(names)s.", names=", ".join(unknown))]
    elif not chosen <= g.member.granted:
        missing = ", ".join(sorted(chosen - g.member.granted))
        errors["permissions"] = [_("You can only grant permissions you hold yourself: %(names)s.", names=missing)]
    if _name_taken(values["name"], role):
        errors["name"] = [_("A role with this name exists.")]
    if errors:
        raise ValidationError(errors)
    return {"name": values["name"], "permissions": sorted(chosen)}


def _name_taken(name: str, role: Role | None) -> bool:
    lowered = name.lower()
    if lowered in {str(label).lower() for label in ROLE_LABELS.values()} | set(BUILTIN_ROLES):
        return True
    stmt = select(Role.id).where(func.lower(Role.name) == lowered)
    if role is not None:
        stmt = stmt.where(Role.id != role.id)
    return db.session.scalar(stmt) is not None


def _members_holding(role: Role) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Membership).where(
            Membership.role_id == role.id, Membership.status.in_(("active", "invited"))
        )
    )


def _roles_page(error: str | None = None, status: int = 200):
    roles = tenant_roles()
    usage = {r.id: _members_holding(r) for r in roles}
    perms = {r.id: sorted(effective_permissions(r)) for r in roles}
    labels = {p.name: p.label for p in _host().permissions.values()}
    return render_template(
        "admin/roles.html", roles=roles, usage=usage, perms=perms, labels=labels, error=error
    ), status


@bp.get("/roles")
@require("roles.manage")
def roles():
    return _roles_page()


def _form_page(role: Role | None, form, errors: dict, status: int = 200):
    chosen = set(form.getlist("permissions")) if form else set(role.permissions if role else ())
    name = form.get("name", "") if form else (role.name if role else "")
    return render_template(
        "admin/role_form.html", role=role, name=name, chosen=chosen, groups=permission_groups(), errors=errors
    ), status


@bp.route("/roles/new", methods=["GET", "POST"])
@require("roles.manage")
def new_role():
    if request.method == "GET":
        return _form_page(None, None, {})
    try:
        values = _validated(request.form, None)
    except ValidationError as exc:
        return _form_page(None, request.form, exc.messages, 422)
    role = Role(id=new_id(), key=f"custom-{uuid.uuid4().hex[:16]}", builtin=False, **values)
    db.session.add(role)
    db.session.flush()
    audit.log(g.actor, "create", "roles", role.id, {k: (None, v) for k, v in values.items()})
    db.session.commit()
    flash(_("Role %(name)s created.", name=role.name))
    return redirect(url_for("admin.roles"))


def _custom_role_or_404(role_id: uuid.UUID) -> Role:
    role = find_role(role_id)
    if role is None or role.builtin:
        abort(404)  # built-in roles follow the registry and are not edited per tenant
    return role


@bp.route("/roles/<uuid:role_id>", methods=["GET", "POST"])
@require("roles.manage")
def edit_role(role_id: uuid.UUID):
    role = _custom_role_or_404(role_id)
    if request.method == "GET":
        return _form_page(role, None, {})
    try:
        values = _validated(request.form, role)
    except ValidationError as exc:
        return _form_page(role, request.form, exc.messages, 422)
    changes = {k: (getattr(role, k), v) for k, v in values.items() if getattr(role, k) != v}
    role.name, role.permissions = values["name"], values["permissions"]
    if changes:
        audit.log(g.actor, "update", "roles", role.id, changes)
    db.session.commit()
    flash(_("Role %(name)s saved.", name=role.name))
    return redirect(url_for("admin.roles"))


@bp.post("/roles/<uuid:role_id>/delete")
@require("roles.manage")
def delete_role(role_id: uuid.UUID):
    role = _custom_role_or_404(role_id)
    in_use = _members_holding(role)
    if in_use:
        message = _(
            "The role %(name)s is held by %(count)d member(s): give them another role before deleting it.",
            name=role.name,
            count=in_use,
        )
        return _roles_page(error=message, status=409)
    _release_former_members(role)
    audit.log(g.actor, "delete", "roles", role.id, {"name": (role.name, None), "permissions": (role.permissions, None)})
    db.session.delete(role)
    db.session.commit()
    flash(_("Role %(name)s deleted.", name=role.name))
    return redirect(url_for("admin.roles"))


def _release_former_members(role: Role) -> None:
    """Removed members keep their row (records may name them as owner), and that row still points
    at a role; move them to the built-in viewer role so the custom role can go."""
    viewer = db.session.scalar(select(Role).where(Role.builtin.is_(True), Role.key == "viewer"))
    former = db.session.scalars(
        select(Membership).where(Membership.role_id == role.id, Membership.status == "removed")
    ).all()
    for member in former:
        member.role_id = viewer.id
    db.session.flush()
