"""``rapport import`` and ``rapport export``: the same CSV import and export as the web pages.

The operator acts for the whole tenant; ``--as EMAIL`` acts as one member instead, so their record
rules apply and the audit log names them. Either way the audit channel is ``cli``.
"""
from __future__ import annotations

import contextlib
import os
import sys

import click
from flask import g
from flask.cli import with_appcontext
from sqlalchemy import func, select

from .. import tenancy
from ..cli import tenant_by_slug
from ..db import db
from ..models import Membership, User
from ..pipeline import Actor, grant
from .columns import RECORD_TYPES
from .csv_export import export_csv
from .csv_import import FileError, import_csv


@contextlib.contextmanager
def _tenant(slug: str):
    tenant = tenant_by_slug(slug)
    g.tenant = tenant
    with tenancy.tenant_scope(tenant.id):
        yield tenant


def _member(email: str, permission: str) -> Membership:
    member = db.session.scalar(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(func.lower(User.email) == email.strip().lower(), Membership.status == "active")
    )
    if member is None:
        raise click.ClickException(f"no active member {email!r} in this tenant")
    grant(member)
    if not member.can(permission):
        raise click.ClickException(f"{email} lacks the permission {permission}")
    return member


def _progress(items, label: str):
    # On standard error, so the command's output stays clean for scripts.
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar


as_option = click.option(
    "--as", "as_email", metavar="EMAIL", help="Act as this member: their record rules apply and the audit log names them."
)


@click.command("import")
@click.argument("slug")
@click.argument("record_type", type=click.Choice(RECORD_TYPES))
@click.argument("file", type=click.File("rb"))
@click.option("--good-rows-only", is_flag=True, help="Import the good rows and skip the bad ones.")
@as_option
@with_appcontext
def import_command(slug, record_type, file, good_rows_only, as_email):
    """Import RECORD_TYPE from a CSV FILE into tenant SLUG (all rows are checked first)."""
    with _tenant(slug):
        member = _member(as_email, "records.import") if as_email else None
        actor = Actor("member", str(member.id), member.user.email, "cli") if member else Actor.operator()
        try:
            report = import_csv(file, record_type, actor, member, good_rows_only, progress=_progress)
        except FileError as exc:
            raise click.ClickException(str(exc)) from None
    for error in report.errors:
        click.echo(f"line {error.line}, column {error.column or '-'}: {error.reason}", err=True)
    if report.errors and not report.imported:
        click.echo(f"nothing imported: {len(report.bad_lines)} of {report.rows} rows have problems", err=True)
        sys.exit(1)
    bad = len(report.bad_lines)
    skipped = f", skipped {bad} bad row{'s' if bad != 1 else ''}" if bad else ""
    click.echo(f"imported {report.imported} {record_type}{skipped}")


@click.command("export")
@click.argument("slug")
@click.argument("record_type", type=click.Choice(RECORD_TYPES))
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to FILE, not standard output.")
@as_option
@with_appcontext
def export_command(slug, record_type, output, as_email):
    """Export RECORD_TYPE of tenant SLUG as CSV."""
    with _tenant(slug):
        member = _member(as_email, "records.export") if as_email else None
        if output is None:
            for chunk in export_csv(record_type, member, bom=False):
                click.echo(chunk, nl=False)
            return
        # Written beside the target and moved into place, so a failure never leaves half a file.
        partial = f"{output}.part"
        try:
            with open(partial, "w", encoding="utf-8", newline="") as fh:
                for chunk in export_csv(record_type, member):
                    fh.write(chunk)
            os.replace(partial, output)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(partial)
    click.echo(f"exported {record_type} to {output}", err=True)
