"""``rapport tenants ...`` and ``rapport demo`` (registered through the ``rapport.cli`` entry points)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from marshmallow import ValidationError

from rapport.cli import tenant_by_slug
from rapport.db import db
from rapport.provisioning import create_tenant

from . import archive as archive_module
from . import lifecycle


@click.group("tenants")
def tenants():
    """Provision and manage tenants."""


@tenants.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--owner-email", required=True)
@click.option("--owner-password", required=True, help="At least 10 characters.")
@with_appcontext
def create(slug, name, owner_email, owner_password):
    try:
        tenant = create_tenant(slug, name, owner_email, owner_password)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        raise click.ClickException("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.messages.items())) from None
    click.echo(f"created tenant {tenant.slug} ({tenant.id})")


@tenants.command("list")
@with_appcontext
def list_():
    for tenant in lifecycle.all_tenants():
        click.echo(f"{tenant.slug}\t{tenant.status}\t{tenant.name}")


@tenants.command("suspend")
@click.argument("slug")
@click.option("--reason", default=None)
@with_appcontext
def suspend(slug, reason):
    lifecycle.suspend(tenant_by_slug(slug), reason)
    db.session.commit()
    click.echo(f"suspended {slug}")


@tenants.command("resume")
@click.argument("slug")
@with_appcontext
def resume(slug):
    lifecycle.resume(tenant_by_slug(slug))
    db.session.commit()
    click.echo(f"resumed {slug}")


@tenants.command("delete")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def delete(slug, yes):
    tenant = tenant_by_slug(slug)
    if not yes:
        click.confirm(f"Delete tenant {slug} and all its data for good?", abort=True)
    lifecycle.delete_tenant(tenant)
    db.session.commit()
    click.echo(f"deleted {slug}")


@tenants.command("export")
@click.argument("slug")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def export(slug, path):
    """Write everything of one tenant to PATH (gzip-compressed JSON)."""
    archive = archive_module.export_tenant(db.session, tenant_by_slug(slug).id)
    archive_module.write_archive(archive, path)
    rows = sum(len(rows) for rows in archive["tables"].values())
    click.echo(f"exported {slug}: {rows} rows in {len(archive['tables'])} tables, {len(archive['users'])} users -> {path}")


@tenants.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore(path):
    """Restore a tenant from an archive made by ``rapport tenants export``."""
    try:
        archive = archive_module.read_archive(path)
        tenant_id = archive_module.restore_tenant(db.session, archive)
    except archive_module.ArchiveError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {archive['tenant']['slug']} ({tenant_id})")


@click.command("demo")
@with_appcontext
def demo():
    """Create the demo tenant with sample data (running it again adds nothing)."""
    from .demo import seed_demo

    created, email, password = seed_demo()
    state = "created" if created else "already present"
    click.echo(f"demo tenant {state}: http://127.0.0.1:8000/t/demo/  login {email} / {password}")
