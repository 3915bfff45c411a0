"""Members of the tenant: list, invite by email with a role, re-send an invitation, change a role,
remove a member.

Rules that keep a tenant governable: at least one active owner always remains; only an owner makes,
demotes or removes an owner; nobody hands out a role carrying permissions they lack. A removed member
keeps their row with status ``removed`` (records and the audit log still name them) and loses access.
"""
from __future__ import annotations

import uuid

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_pgettext
from sqlalchemy import func, select

from .. import audit, mail
from ..auth.tokens import invite_token
from ..db import db, new_id
from ..models import Membership, Role, User
from ..pipeline import require
from ..provisioning import is_valid_email, normalise_email, user_by_email
from . import bp
from .roles import find_role, is_owner_role, may_hand_out, role_label, tenant_roles

SHOWN_STATUSES = ("active", "invited")
STATUS_LABELS = {"active": lazy_pgettext("member status", "Active"), "invited": lazy_pgettext("member status", "Invited")}


class Refused(Exception):
    """A change the membership rules forbid; ``status`` is the HTTP answer (403 or 409)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message, self.status = message, status


# -- reading ----------------------------------------------------------------------------------------
def _member_or_404(membership_id: uuid.UUID) -> Membership:
    member = db.session.scalar(
        select(Membership).where(Membership.id == membership_id, Membership.status.in_(SHOWN_STATUSES))
    )
    if member is None:
        abort(404)
    return member


def _active_owner_ids() -> list[uuid.UUID]:
    """Locked on PostgreSQL, so two admins demoting the last two owners at once cannot both win."""
    return list(
        db.session.scalars(
            select(Membership.id)
            .join(Role, (Role.tenant_id == Membership.tenant_id) & (Role.id == Membership.role_id))
            .where(Role.builtin.is_(True), Role.key == "owner", Membership.status == "active")
            .with_for_update(of=Membership)
        )
    )


def _may_manage(target: Membership) -> bool:
    return may_hand_out(target.role, g.member)


def _members_page(errors=None, form=None, problem: str | None = None, status: int = 200):
    rows = db.session.scalars(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.status.in_(SHOWN_STATUSES))
        .order_by(func.lower(User.email))
    ).all()
    assignable = [r for r in tenant_roles() if may_hand_out(r, g.member)]
    return render_template(
        "admin/members.html",
        rows=[{"member": m, "manageable": _may_manage(m), "is_self": m.id == g.member.id} for m in rows],
        roles=assignable,
        role_options=[(r.id, role_label(r)) for r in assignable],
        default_role_id=next((r.id for r in assignable if r.builtin and r.key == "agent"), ""),
        status_labels=STATUS_LABELS,
        errors=errors or {},
        form=form or {},
        problem=problem,
    ), status


@bp.get("/members")
@require("members.manage")
def members():
    return _members_page()


# -- invitations ------------------------------------------------------------------------------------
def _checked_email(raw: str, errors: dict) -> str | None:
    raw = (raw or "").strip()
    if not raw:
        errors["email"] = [_("Enter the colleague's email address.")]
        return None
    # The rule of sign-up and of every record's email field, so a colleague at the owner's own
    # domain can always be invited.
    if not is_valid_email(raw):
        errors["email"] = [_("This is not a valid email address.")]
        return None
    return normalise_email(raw)


def _checked_role(raw: str | None, errors: dict) -> Role | None:
    role = find_role(raw) if raw else None
    if role is None:
        errors["role_id"] = [_("Choose a role.")]
    elif not may_hand_out(role, g.member):
        errors["role_id"] = [_refusal_for(role)]
        role = None
    return role


def _refusal_for(role: Role) -> str:
    if is_owner_role(role):
        return _("Only an owner can make someone an owner.")
    return _("You cannot give a role with permissions you do not hold yourself.")


def send_invitation(member: Membership, user: User, role: Role) -> bool:
    """Mail the invitation link; False (and a message) when the mail server refused it."""
    link = current_app.config["BASE_URL"].rstrip("/") + url_for("auth.accept_invite", token=invite_token(member))
    subject = _("You are invited to %(tenant)s on Rapport", tenant=g.tenant.name)
    body = _(
        "%(inviter)s invited you to join %(tenant)s on Rapport as %(role)s.\n\n"
        "Open this link to accept the invitation:\n\n%(link)s\n",
        inviter=g.actor.label,
        tenant=g.tenant.name,
        role=role_label(role),
        link=link,
    )
    try:
        mail.send(user.email, subject, body)
    except OSError:  # smtplib's errors are OSErrors too: the invitation stays, it can be re-sent
        current_app.logger.exception("invitation mail to %s failed", user.email)
        flash(_("The invitation is saved, but the email could not be sent. Use Re-send to try again."))
        return False
    return True


@bp.post("/members")
@require("members.manage")
def invite():
    errors: dict = {}
    email = _checked_email(request.form.get("email", ""), errors)
    role = _checked_role(request.form.get("role_id"), errors)
    user = user_by_email(email) if email else None
    existing = db.session.scalar(select(Membership).where(Membership.user_id == user.id)) if user else None
    if existing is not None and existing.status in SHOWN_STATUSES:
        errors["email"] = [
            _("%(email)s is already a member of this workspace.", email=email)
            if existing.status == "active"
            else _("%(email)s is already invited: use Re-send on the list.", email=email)
        ]
    if errors:
        return _members_page(errors=errors, form=request.form, status=422)
    member = _record_invitation(email, user, existing, role)
    db.session.commit()
    if send_invitation(member, user or db.session.get(User, member.user_id), role):
        flash(_("Invitation sent to %(email)s.", email=email))
    return redirect(url_for("admin.members"))


def _record_invitation(email: str, user: User | None, existing: Membership | None, role: Role) -> Membership:
    """A new user (no password until the link is used) and membership, or a former member re-invited."""
    if user is None:
        user = User(id=new_id(), email=email, name="", password_hash=None)
        db.session.add(user)
        db.session.flush()
    if existing is not None:
        changes = {"status": (existing.status, "invited"), "role": (existing.role.key, role.key)}
        existing.status, existing.role_id = "invited", role.id
        audit.log(g.actor, "update", "memberships", existing.id, changes)
        return existing
    member = Membership(id=new_id(), user_id=user.id, role_id=role.id, status="invited")
    db.session.add(member)
    db.session.flush()
    audit.log(g.actor, "create", "memberships", member.id, {"email": (None, email), "role": (None, role.key), "status": (None, "invited")})
    return member


@bp.post("/members/<uuid:membership_id>/resend")
@require("members.manage")
def resend_invite(membership_id: uuid.UUID):
    member = _member_or_404(membership_id)
    if member.status != "invited":
        return _members_page(problem=_("%(email)s has already joined.", email=member.user.email), status=409)
    if send_invitation(member, member.user, member.role):
        flash(_("Invitation sent again to %(email)s.", email=member.user.email))
    return redirect(url_for("admin.members"))


# -- changes ----------------------------------------------------------------------------------------
def _check_keeps_an_owner(target: Membership, leaving_owner_role: bool) -> None:
    if not leaving_owner_role or not is_owner_role(target.role) or target.status != "active":
        return
    if _active_owner_ids() == [target.id]:
        if target.id == g.member.id:
            raise Refused(_("You are the last owner: make someone else an owner first."), 409)
        raise Refused(_("%(email)s is the last owner of this workspace.", email=target.user.email), 409)


def _check_may_manage(target: Membership) -> None:
    if not _may_manage(target):
        if is_owner_role(target.role):
            raise Refused(_("Only an owner can change or remove an owner."), 403)
        raise Refused(_("This member holds permissions you do not have."), 403)


@bp.post("/members/<uuid:membership_id>/role")
@require("members.manage")
def change_role(membership_id: uuid.UUID):
    target = _member_or_404(membership_id)
    errors: dict = {}
    role = _checked_role(request.form.get("role_id"), errors)
    if errors:
        return _members_page(problem=" ".join(errors["role_id"]), status=422)
    try:
        _check_may_manage(target)
        _check_keeps_an_owner(target, leaving_owner_role=not is_owner_role(role))
    except Refused as refused:
        return _members_page(problem=refused.message, status=refused.status)
    if role.id != target.role_id:
        audit.log(g.actor, "update", "memberships", target.id, {"role": (target.role.key, role.key)})
        target.role_id = role.id
        db.session.commit()
    flash(_("%(email)s is now %(role)s.", email=target.user.email, role=role_label(role)))
    return redirect(url_for("admin.members") if target.id != g.member.id else url_for("ui.dashboard"))


@bp.post("/members/<uuid:membership_id>/remove")
@require("members.manage")
def remove_member(membership_id: uuid.UUID):
    target = _member_or_404(membership_id)
    try:
        _check_may_manage(target)
        _check_keeps_an_owner(target, leaving_owner_role=True)
    except Refused as refused:
        return _members_page(problem=refused.message, status=refused.status)
    audit.log(g.actor, "delete", "memberships", target.id, {"status": (target.status, "removed")})
    target.status = "removed"
    db.session.commit()
    flash(_("%(email)s was removed from this workspace.", email=target.user.email))
    return redirect(url_for("admin.members") if target.id != g.member.id else url_for("auth.home"))
