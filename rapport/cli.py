"""The ``rapport`` command line.

Core commands live here (``db``, ``plugins``, ``tokens``); other packages add theirs through the
``rapport.cli`` entry-point group (``tenants`` and ``demo`` come from ``tenants/``).
"""
from __future__ import annotations

import os
from importlib.metadata import entry_points

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from . import tenancy
from .db import db
from .models import Tenant


def _create_app():
    from .app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main():
    """Rapport, the multi-tenant CRM."""


def tenant_by_slug(slug: str) -> Tenant:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"no tenant {slug!r}")
    return tenant


@click.group("plugins")
def plugins_group():
    """Switch plugins on and off for a tenant."""


@plugins_group.command("list")
@with_appcontext
def plugins_list():
    host = current_app.extensions["rapport.plugins"]
    for name in host.plugin_names:
        click.echo(name)


def _switch(slug: str, plugin: str, enabled: bool) -> None:
    from flask import g

    from .plugin_host import set_plugin_enabled

    host = current_app.extensions["rapport.plugins"]
    tenant = tenant_by_slug(slug)
    g.tenant = tenant
    with tenancy.tenant_scope(tenant.id):
        try:
            set_plugin_enabled(host, tenant, plugin, enabled)
        except LookupError:
            raise click.ClickException(f"no plugin {plugin!r}; installed: {', '.join(host.plugin_names)}") from None
        db.session.commit()
    click.echo(f"{plugin} {'enabled' if enabled else 'disabled'} for {slug}")


@plugins_group.command("enable")
@click.argument("slug")
@click.argument("plugin")
@with_appcontext
def plugins_enable(slug, plugin):
    _switch(slug, plugin, True)


@plugins_group.command("disable")
@click.argument("slug")
@click.argument("plugin")
@with_appcontext
def plugins_disable(slug, plugin):
    _switch(slug, plugin, False)


@click.group("tasks")
def tasks_group():
    """The background job queue."""


@tasks_group.command("worker")
@click.option("--workers", default=2, show_default=True, help="Threads running jobs.")
@click.option("--nice", default=19, show_default=True, type=click.IntRange(0, 19),
              help="CPU priority below the web workers' (0: the same). On a host shared with the web "
                   "workers, a burst of requests is answered first and the jobs catch up after.")
@with_appcontext
def tasks_worker(workers, nice):
    """Run jobs and the scheduler (mail, lead processing, periodic sweeps) until stopped."""
    from . import tasks

    if nice:
        os.nice(nice)
    click.echo(f"task worker: {workers} threads on {type(tasks.huey.storage).__name__}, nice {os.nice(0)}")
    tasks.run_worker(workers)


def register_app_commands(app: Flask) -> None:
    from . import migrate

    app.cli.add_command(migrate.db_group)
    app.cli.add_command(plugins_group)
    app.cli.add_command(tasks_group)
    from .api.cli import tokens_group

    app.cli.add_command(tokens_group)
    from .transfer.cli import export_command, import_command

    app.cli.add_command(import_command)
    app.cli.add_command(export_command)
    for ep in entry_points(group="rapport.cli"):
        app.cli.add_command(ep.load(), ep.name)
