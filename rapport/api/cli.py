"""``rapport tokens create <slug> <email> --name NAME``: prints only the new token, for scripts."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from .. import tenancy
from ..cli import tenant_by_slug
from ..db import db
from ..models import Membership, User
from ..provisioning import normalise_email
from ..tokens import create_token


@click.group("tokens")
def tokens_group():
    """API tokens of a tenant's members."""


@tokens_group.command("create")
@click.argument("slug")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for, e.g. 'billing sync'.")
@with_appcontext
def create(slug: str, email: str, name: str) -> None:
    """Create an API token for the member EMAIL of tenant SLUG and print it (shown only once)."""
    tenant = tenant_by_slug(slug)
    with tenancy.tenant_scope(tenant.id):
        member = db.session.scalar(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(func.lower(User.email) == normalise_email(email), Membership.status == "active")
        )
        if member is None:
            raise click.ClickException(f"{email} is not an active member of {slug}")
        _row, secret = create_token(member, name)
        db.session.commit()
    click.echo(secret)
