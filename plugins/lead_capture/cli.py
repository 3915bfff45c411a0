"""``rapport leads ...`` (registered through the ``rapport.cli`` entry points as ``leads``)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("leads")
def leads():
    """Captured leads: follow-up and housekeeping."""


@leads.command("reassign-stale")
@with_appcontext
def reassign_stale():
    """Reassign leads not followed up within their form's limit, and tell the managers."""
    from .stale import reassign_stale as run

    count = run()
    click.echo(f"reassigned {count} stale lead{'' if count == 1 else 's'}")
