"""Creating a tenant with its built-in roles and owner (used by sign-up and the operator CLI)."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from marshmallow import ValidationError, validate
from sqlalchemy import func, select

from . import tenancy
from .db import db
from .models import Membership, Role, Tenant, User
from .security import hash_password

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED_SLUGS = {"api", "admin", "static", "login", "logout", "signup", "www", "operator"}
BUILTIN_ROLES = {
    "owner": "Owner",
    "admin": "Admin",
    "manager": "Manager",
    "agent": "Agent",
    "viewer": "Viewer",
}
MIN_PASSWORD = 10


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def is_valid_email(value: str) -> bool:
    """The same rule as every email field of the record schemas (marshmallow's Email validator)."""
    try:
        validate.Email()(value or "")
    except ValidationError:
        return False
    return len(value) <= 254


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError({"password": [_("Use at least %(count)d characters.", count=MIN_PASSWORD)]})


def check_slug(slug: str) -> None:
    if not SLUG.match(slug or "") or slug in RESERVED_SLUGS:
        raise ValidationError(
            {"slug": [_("Use 1-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen.")]}
        )
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
        raise ValidationError({"slug": [_("This address is taken.")]})


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def create_tenant(slug: str, name: str, owner_email: str, owner_password: str | None, owner_name: str = "") -> Tenant:
    """Create the tenant, its built-in roles and its owner; the caller commits."""
    slug = (slug or "").strip().lower()
    check_slug(slug)
    if not (name or "").strip():
        raise ValidationError({"name": [_("Give the company a name.")]})
    user = user_by_email(owner_email)
    if user is None:
        if owner_password is not None:
            check_password_strength(owner_password)
        user = User(
            email=normalise_email(owner_email),
            name=owner_name,
            password_hash=hash_password(owner_password) if owner_password else None,
        )
        db.session.add(user)
    tenant = Tenant(slug=slug, name=name.strip())
    db.session.add(tenant)
    db.session.flush()
    with tenancy.tenant_scope(tenant.id):
        roles = {key: Role(key=key, name=label, builtin=True, permissions=[]) for key, label in BUILTIN_ROLES.items()}
        db.session.add_all(roles.values())
        db.session.flush()
        db.session.add(Membership(user_id=user.id, role_id=roles["owner"].id, status="active"))
        db.session.flush()
    return tenant
