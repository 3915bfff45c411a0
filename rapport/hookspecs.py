"""Every hook a plugin can implement, each with its contract. ``docs/plugins.md`` documents them
all, and ``tests/test_hook_docs.py`` checks that each is documented and tested.

Hooks are called with keyword arguments; an implementation takes only the arguments it needs.
Per-tenant hooks (those with a ``tenant`` argument) reach only plugins enabled for that tenant.
"""
import pluggy

hookspec = pluggy.HookspecMarker("rapport")
hookimpl = pluggy.HookimplMarker("rapport")


@hookspec
def register_permissions():
    """Return a list of ``{"name": "plugin.action", "label": str, "roles": [role keys]}``.

    Names are validated at start-up (``area.action``, lower case, unique across plugins). ``roles``
    lists the built-in roles (owner, admin, manager, agent, viewer) that hold the permission.
    """


@hookspec
def register_blueprints():
    """Return Flask blueprints to mount. Their URLs live under ``/t/<tenant_slug>/``; the host
    answers 404 for a tenant that has not enabled the plugin."""


@hookspec
def menu_items(tenant, member):
    """Return ``[{"section": "nav" | "admin", "label": str, "endpoint": str, "permission": str?}]``."""


@hookspec
def dashboard_panels(tenant, member):
    """Return ``[{"title": str, "html": Markup | str}]``. A plain ``str`` is escaped; return
    ``markupsafe.Markup`` only for HTML you built with escaping."""


@hookspec
def record_created(tenant, record_type, record, actor):
    """A record (account, contact, lead, activity) was created, inside the same transaction."""


@hookspec
def record_updated(tenant, record_type, record, changes, actor):
    """A record changed; ``changes`` maps each field to ``[old, new]``."""


@hookspec
def record_deleted(tenant, record_type, record_id, actor):
    """A record was deleted."""


@hookspec
def lead_stage_changed(tenant, lead, from_stage, to_stage, actor):
    """A lead moved from one stage to another."""


@hookspec
def plugin_enabled(tenant):
    """This plugin was switched on for ``tenant`` (called on that plugin only)."""


@hookspec
def plugin_disabled(tenant):
    """This plugin was switched off for ``tenant`` (called on that plugin only); keep its data."""


@hookspec(firstresult=True)
def plugin_settings_schema():
    """Return a marshmallow ``Schema`` instance validating this plugin's per-tenant settings
    (called on that plugin only)."""


@hookspec
def register_usage_meters():
    """Return ``[{"name": str, "label": str, "unit": str}]`` for meters this plugin reports."""


@hookspec
def usage_event(tenant, meter, quantity):
    """Something billable or measurable happened (``records.created``, ``api.requests``, ...)."""
