"""Every hook a plugin can implement, each with its contract. ``docs/plugins.md`` documents them
all, and ``tests/plugins/test_hook_docs.py`` checks that each is documented and tested.

Hooks are called with keyword arguments; an implementation takes only the arguments it needs.
Per-tenant hooks (those with a ``tenant`` argument) reach the core and the plugins enabled for that
tenant only; start-up hooks (``register_*``) are called once, for every installed plugin.
"""
import pluggy

hookspec = pluggy.HookspecMarker("rapport")
hookimpl = pluggy.HookimplMarker("rapport")


# -- start-up: what a plugin contributes, validated once when the app is built --------------------
@hookspec
def register_permissions():
    """Return a list of ``{"name": "plugin.action", "label": str, "roles": [role keys]}``.

    Called once at start-up. Names are validated (``area.action``, lower case, unique across
    plugins); ``roles`` lists the built-in roles (owner, admin, manager, agent, viewer) that hold the
    permission. Custom roles may include it too. A bad name, a duplicate or an unknown role stops the
    app with ``PluginError``.
    """


@hookspec
def register_blueprints():
    """Return a list of Flask ``Blueprint`` objects to mount.

    Called once at start-up. Every URL must live under ``/t/<tenant_slug>/``, blueprint names must be
    free and URLs must not already be served, else ``PluginError``. The host answers 404 on these
    URLs for a tenant that has not enabled the plugin.
    """


@hookspec
def register_usage_meters():
    """Return ``[{"name": "area.thing", "label": str, "unit": str}]``: the meters this plugin reports
    through :func:`usage_event`.

    Called once at start-up; names are validated and unique across plugins (``PluginError``).
    """


# -- per request: what the tenant's pages show ----------------------------------------------------
@hookspec
def menu_items(tenant, member):
    """Return ``[{"section": "nav" | "admin", "label": str, "endpoint": str, "permission": str?}]``.

    Called while rendering every staff page of ``tenant`` for ``member``. An entry with a
    ``permission`` the member lacks is left out; ``endpoint`` is a Flask endpoint taking at most
    ``tenant_slug``.
    """


@hookspec
def dashboard_panels(tenant, member):
    """Return ``[{"title": str, "html": Markup | str}]`` for the dashboard of ``tenant``.

    Called when ``member`` opens the dashboard. A plain ``str`` is escaped; return
    ``markupsafe.Markup`` only for HTML you built with escaping (``Markup.format`` escapes its arguments).
    """


@hookspec
def record_panels(tenant, record_type, record, member):
    """Return ``[{"title": str, "html": Markup | str}]`` to show on the page of ``record``.

    Called when ``member`` opens a record page (``accounts``, ``contacts``, ``leads``,
    ``activities``) of ``tenant``. Escaping as for :func:`dashboard_panels`.
    """


# -- record events, inside the transaction of the change -----------------------------------------
@hookspec
def record_created(tenant, record_type, record, actor):
    """A record (``accounts``, ``contacts``, ``leads``, ``activities``) was created.

    Called by ``crm.create`` after the row is flushed and audited, inside the same transaction:
    raising rolls the creation back.
    """


@hookspec
def record_updated(tenant, record_type, record, changes, actor):
    """A record changed; ``changes`` maps each changed field to ``(old, new)``.

    Called by ``crm.update`` after the flush, only when something changed.
    """


@hookspec
def record_deleted(tenant, record_type, record_id, actor):
    """A record was deleted; only its id remains.

    Called by ``crm.delete`` after the row is gone, inside the same transaction.
    """


@hookspec
def lead_stage_changed(tenant, lead, from_stage, to_stage, actor):
    """A lead moved from ``from_stage`` to ``to_stage``.

    Called by ``crm.update`` when a lead's stage changes, after the stage history row is written
    and before ``record_updated``. Not called for a lead's first stage at creation.
    """


# -- the plugin's own life in a tenant -----------------------------------------------------------
@hookspec
def plugin_enabled(tenant):
    """This plugin was switched on for ``tenant``.

    Called on that plugin only, by ``set_plugin_enabled``, when the switch actually changes, inside
    the transaction that flips it. Prepare per-tenant data here.
    """


@hookspec
def plugin_disabled(tenant):
    """This plugin was switched off for ``tenant``.

    Called on that plugin only, when the switch actually changes. Keep the tenant's data: switching
    back on must find it again.
    """


@hookspec(firstresult=True)
def plugin_settings_schema():
    """Return a marshmallow ``Schema`` instance validating this plugin's per-tenant settings.

    Called on that plugin only: once at start-up (it must be a ``Schema`` instance, else
    ``PluginError``), then whenever settings are shown, saved (``save_plugin_settings``) or read
    (``plugin_settings``). Field ``metadata`` ``label`` and ``description`` label the admin form.
    """


# -- metering ------------------------------------------------------------------------------------
@hookspec
def usage_event(tenant, meter, quantity):
    """Something measurable happened in ``tenant``: ``quantity`` more of ``meter``.

    Called by the core at the moment it happens, e.g. ``records.created`` (1 per record, by
    ``crm.create``) and ``api.requests`` (1 per API request). ``meter`` is a name from
    :func:`register_usage_meters`.
    """


@hookspec
def register_field_types():
    """Return custom-field types (instances of ``rapport.fields.types.FieldType``) to add to the
    registry, e.g. a "rating" type with its own validation. Called once at start-up; a name that is
    already taken, or an object that is not a FieldType, stops the app with ``PluginError``."""
