from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from marshmallow import ValidationError
from sqlalchemy import select

from .. import mail, tenancy
from ..db import db
from ..models import Membership, Tenant, User
from ..provisioning import check_password_strength, create_tenant, is_valid_email, normalise_email, user_by_email
from ..security import hash_password, limiter, verify_password
from . import tokens

bp = Blueprint("auth", __name__)


def _login_account_key() -> str:
    return f"{request.remote_addr}|{normalise_email(request.form.get('email', ''))}"


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _log_in(user: User) -> None:
    session.clear()  # a fresh session at log-in: nothing from before survives (no fixation)
    login_user(user)


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return render_template("auth/home.html")
    with tenancy.unscoped():  # a user's own memberships across tenants
        rows = db.session.execute(
            select(Tenant)
            .join(Membership, Membership.tenant_id == Tenant.id)
            .where(Membership.user_id == current_user.id, Membership.status == "active")
            .order_by(Tenant.name)
        ).scalars().all()
    if len(rows) == 1:
        return redirect(url_for("ui.dashboard", tenant_slug=rows[0].slug))
    return render_template("auth/choose_tenant.html", tenants=rows)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_RATE_LIMIT"], methods=["POST"])
def signup():
    if not current_app.config["SIGNUP_ENABLED"]:
        abort(404)
    errors, form = {}, request.form
    if request.method == "POST":
        if user_by_email(form.get("email", "")):
            errors["email"] = [_("An account with this email exists: log in and create the company from there.")]
        elif not is_valid_email(form.get("email", "")):
            errors["email"] = [_("Enter a valid email address.")]
        else:
            try:
                check_password_strength(form.get("password", ""))
                tenant = create_tenant(
                    form.get("slug", ""), form.get("name", ""), form["email"], form["password"], form.get("owner_name", "")
                )
                db.session.commit()
            except ValidationError as exc:
                db.session.rollback()
                errors = exc.messages
            else:
                _log_in(user_by_email(form["email"]))
                return redirect(url_for("ui.dashboard", tenant_slug=tenant.slug))
    return render_template("auth/signup.html", errors=errors, form=form), 422 if errors else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"], methods=["POST"], key_func=_login_account_key)
def login():
    error = None
    if request.method == "POST":
        user = user_by_email(request.form.get("email", ""))
        if verify_password(user.password_hash if user else None, request.form.get("password", "")):
            _log_in(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.home"))
        error = _("Wrong email or password.")
    return render_template("auth/login.html", error=error), 401 if error else 200


@bp.post("/logout")
@login_required
def logout():
    current_user.session_nonce = secrets.token_hex(8)  # copies of this session's cookie die too
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_RATE_LIMIT"], methods=["POST"])
def forgot():
    sent = False
    if request.method == "POST":
        user = user_by_email(request.form.get("email", ""))
        if user is not None and user.password_hash:
            link = current_app.config["BASE_URL"].rstrip("/") + url_for("auth.reset", token=tokens.reset_token(user))
            mail.send(
                user.email,
                _("Reset your Rapport password"),
                _("Open this link within an hour to choose a new password:\n\n%(link)s\n", link=link),
            )
        sent = True  # the same answer whether or not the account exists
    return render_template("auth/forgot.html", sent=sent)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_RATE_LIMIT"], methods=["POST"])
def reset(token: str):
    user = tokens.read_reset_token(token, lambda uid: db.session.get(User, uid))
    if user is None:
        return render_template("auth/link_invalid.html"), 410
    errors = {}
    if request.method == "POST":
        try:
            check_password_strength(request.form.get("password", ""))
        except ValidationError as exc:
            errors = exc.messages
        else:
            user.password_hash = hash_password(request.form["password"])
            db.session.commit()
            _log_in(user)
            flash(_("Your password was changed."))
            return redirect(url_for("auth.home"))
    return render_template("auth/reset.html", errors=errors), 422 if errors else 200


@bp.route("/t/<tenant_slug>/invite/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_RATE_LIMIT"], methods=["POST"])
def accept_invite(token: str):
    parsed = tokens.read_invite_token(token)
    if parsed is None or parsed[0] != g.tenant.id:
        return render_template("auth/link_invalid.html"), 410
    member = db.session.scalar(select(Membership).where(Membership.id == parsed[1], Membership.status == "invited"))
    if member is None:
        return render_template("auth/link_invalid.html"), 410
    user = member.user
    # An existing account proves it is theirs (logged in, or its password): the link alone is not
    # a log-in for an account that already has a password.
    confirm = bool(user.password_hash) and not (current_user.is_authenticated and current_user.id == user.id)
    errors = {}
    if request.method == "POST":
        try:
            if not user.password_hash:
                check_password_strength(request.form.get("password", ""))
            elif confirm and not verify_password(user.password_hash, request.form.get("password", "")):
                raise ValidationError({"password": [_("Wrong password.")]})
        except ValidationError as exc:
            errors = exc.messages
        else:
            if not user.password_hash:
                user.password_hash = hash_password(request.form["password"])
                user.name = request.form.get("name", "").strip()[:200]
            member.status = "active"
            db.session.commit()
            _log_in(user)
            return redirect(url_for("ui.dashboard"))
    return render_template(
        "auth/accept_invite.html", member=member, user=user, errors=errors, confirm=confirm
    ), 422 if errors else 200


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    if request.method == "POST":
        locale = request.form.get("locale") or None
        if locale is not None and locale not in current_app.config["LANGUAGES"]:
            abort(400)
        current_user.locale = locale
        current_user.name = request.form.get("name", current_user.name).strip()[:200]
        db.session.commit()
        flash(_("Profile saved."))
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", languages=current_app.config["LANGUAGES"])

