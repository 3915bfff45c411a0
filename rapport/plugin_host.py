"""The plugin host: one pluggy manager per app, built in the factory, with per-tenant switching.

Plugins are found through the ``rapport`` entry-point group, built-in and third-party alike. What a
plugin registers (permissions, blueprints, usage meters, a settings schema) is validated once at
start-up. Calls for a tenant reach the core and the plugins that tenant has enabled, nothing else.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import pluggy
from flask import Blueprint, Flask, abort, current_app, g, has_request_context, request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError
from markupsafe import Markup, escape
from sqlalchemy import select

from . import core_hooks, hookspecs, tenancy
from .db import db
from .models import PluginState

CORE = "rapport.core"
EXTENSION = "rapport.plugins"
DOTTED_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
BUILTIN_ROLES = ("owner", "admin", "manager", "agent", "viewer")
# Plugin pages must sit under the tenant prefix, where the per-tenant switch (404) applies.
TENANT_URL = re.compile(r"^/t/<(?:string:)?tenant_slug>/")
_CACHE_KEY = "rapport.enabled_plugins"

log = logging.getLogger(__name__)


class PluginError(RuntimeError):
    """A plugin registered something invalid; raised at start-up, never at request time."""


@dataclass
class Permission:
    name: str
    label: str
    plugin: str
    roles: tuple[str, ...] = ()


@dataclass
class UsageMeter:
    name: str
    label: str
    unit: str
    plugin: str


@dataclass
class PluginHost:
    pm: pluggy.PluginManager
    permissions: dict[str, Permission] = field(default_factory=dict)
    meters: dict[str, UsageMeter] = field(default_factory=dict)
    field_types: dict = field(default_factory=dict)  # custom-field types added by plugins
    blueprint_owner: dict[str, str] = field(default_factory=dict)
    names: frozenset[str] = frozenset()
    # (hook, enabled plugins) -> pluggy subset caller; bounded by hooks x distinct enabled sets.
    _callers: dict = field(default_factory=dict)

    def __post_init__(self):
        self.names = frozenset(name for name, _plugin in self.pm.list_name_plugin() if name != CORE)

    # -- discovery -------------------------------------------------------------------------------
    @property
    def plugin_names(self) -> list[str]:
        return sorted(self.names)

    def call_each(self, hook: str, only: str | None = None, **kwargs) -> list[tuple[str, object]]:
        """Call each implementation of ``hook`` (of plugin ``only`` if given), ignoring the tenant's
        switches, and return ``(plugin name, result)`` pairs for the answers that are not None.

        For start-up collection (``register_*``) and hooks addressed to one plugin.
        """
        pairs = []
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            if impl.wrapper or impl.hookwrapper or (only is not None and impl.plugin_name != only):
                continue
            result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            if result is not None:
                pairs.append((impl.plugin_name, result))
        return pairs

    def call_plugin(self, plugin: str, hook: str, **kwargs):
        """The first answer of ``plugin``'s own implementation of ``hook``, or None."""
        answers = self.call_each(hook, only=plugin, **kwargs)
        return answers[0][1] if answers else None

    # -- per-tenant switching ----------------------------------------------------------------------
    def enabled_plugins(self, tenant) -> frozenset[str]:
        """The plugins ``tenant`` switched on, read once per request (outside requests, once per
        database transaction)."""
        found = _enabled_cache().get(tenant.id)
        if found is None:
            with tenancy.tenant_scope(tenant.id):
                rows = db.session.scalars(
                    select(PluginState.plugin).where(PluginState.tenant_id == tenant.id, PluginState.enabled.is_(True))
                )
                found = frozenset(rows) & self.names
            _enabled_cache()[tenant.id] = found  # after the query: outside requests it began the transaction
        return found

    def remember_enabled(self, tenant_id, plugins) -> None:
        """Record the plugins ``tenant_id`` has on, read by the caller in the same transaction (the
        request pipeline reads them with the tenant, saving ``enabled_plugins`` its own query)."""
        _enabled_cache()[tenant_id] = frozenset(plugins) & self.names

    def is_enabled(self, tenant, plugin: str) -> bool:
        return plugin in self.enabled_plugins(tenant)

    def hooks_for(self, tenant):
        """A hook relay that reaches the core and the plugins enabled for ``tenant`` only."""
        return _TenantHooks(self, tenant)

    def caller(self, hook: str, tenant):
        if not self._plugins_implementing(hook):
            # Only the core implements it: no need to ask which plugins the tenant has on.
            return getattr(self.pm.hook, hook)
        enabled = self.enabled_plugins(tenant)
        key = (hook, enabled)
        found = self._callers.get(key)
        if found is None:
            removed = [self.pm.get_plugin(name) for name in self.names - enabled]
            # setdefault: two threads racing here build equal callers and keep one.
            found = self._callers.setdefault(key, self.pm.subset_hook_caller(hook, remove_plugins=removed))
        return found

    def _plugins_implementing(self, hook: str) -> bool:
        return any(impl.plugin_name in self.names for impl in getattr(self.pm.hook, hook).get_hookimpls())

    def plugin_of_blueprint(self, blueprint_name: str | None) -> str | None:
        if not blueprint_name:
            return None
        return self.blueprint_owner.get(blueprint_name.split(".")[0])

    # -- collected contributions ---------------------------------------------------------------------
    def role_permissions(self, role_key: str) -> frozenset[str]:
        return frozenset(p.name for p in self.permissions.values() if role_key in p.roles)

    def _collect(self, hook: str, tenant, **kwargs) -> list:
        """A per-tenant list hook's answers: the core's first, then plugins' in load order (pluggy
        answers last-registered first, and the core's hooks run last)."""
        return list(reversed(getattr(self.hooks_for(tenant), hook)(tenant=tenant, **kwargs)))

    def menu(self, tenant, member, section: str) -> list[dict]:
        """The ``section`` ("nav" or "admin") entries the member may use, from enabled plugins."""
        items = []
        for batch in self._collect("menu_items", tenant, member=member):
            for item in batch or []:
                if item.get("section", "nav") != section:
                    continue
                if item.get("permission") and not member.can(item["permission"]):
                    continue
                if item.get("endpoint") not in current_app.view_functions:
                    # One plugin's typo must not break every page of the tenant.
                    log.warning("menu item %r names no endpoint; skipped", item)
                    continue
                items.append(item)
        return items

    def dashboard_panels(self, tenant, member) -> list[dict]:
        return self._panels(self._collect("dashboard_panels", tenant, member=member))

    def record_panels(self, tenant, record_type: str, record, member) -> list[dict]:
        return self._panels(self._collect("record_panels", tenant, record_type=record_type, record=record, member=member))

    @staticmethod
    def _panels(batches) -> list[dict]:
        """Panels with their HTML escaped unless a plugin built it as ``Markup``."""
        panels = []
        for batch in batches:
            for panel in batch or []:
                html = panel.get("html", "")
                panels.append({"title": panel["title"], "html": html if isinstance(html, Markup) else escape(html)})
        return panels


def _enabled_cache() -> dict:
    """Where ``enabled_plugins`` keeps its answers: the request's WSGI environ, not ``g``, because an
    app context can outlive many requests (tests, task workers) and a switch must take effect on the
    next request. Outside requests (CLI, tasks) the current transaction scopes it, so a long import
    asks once, yet a later transaction sees a switch made elsewhere."""
    if has_request_context():
        return request.environ.setdefault(_CACHE_KEY, {})
    session = db.session()  # the scoped session's current Session
    info, transaction = session.info, session.get_transaction()
    if transaction is None:
        return {}
    if info.get(_CACHE_KEY) is None or info[_CACHE_KEY][0] is not transaction:
        info[_CACHE_KEY] = (transaction, {})
    return info[_CACHE_KEY][1]


class _TenantHooks:
    def __init__(self, host: PluginHost, tenant):
        self._host, self._tenant = host, tenant

    def __getattr__(self, hook: str):
        return self._host.caller(hook, self._tenant)


def current_host() -> PluginHost:
    """The plugin host of the current app."""
    return current_app.extensions[EXTENSION]


def build_host(app: Flask) -> PluginHost:
    """Build the manager inside the app factory: specs, the core, entry points, then validate."""
    pm = pluggy.PluginManager("rapport")
    pm.add_hookspecs(hookspecs)
    pm.register(core_hooks, name=CORE)
    pm.load_setuptools_entrypoints("rapport")
    for plugin in app.config.get("EXTRA_PLUGINS", ()):
        pm.register(plugin, name=getattr(plugin, "PLUGIN_NAME", None) or plugin.__name__)
    pm.check_pending()
    host = PluginHost(pm)
    _collect_permissions(host)
    _collect_meters(host)
    _collect_field_types(host)
    _check_settings_schemas(host)
    _mount_blueprints(host, app)
    app.extensions[EXTENSION] = host

    @app.before_request
    def _plugin_switch():
        # Runs after the tenant is resolved from the URL (pipeline.init_app registered first).
        plugin = host.plugin_of_blueprint(request.blueprint)
        if plugin is None:
            return None
        tenant = g.get("tenant")
        if tenant is None or plugin not in host.enabled_plugins(tenant):
            abort(404)
        return None

    return host


def _collect_permissions(host: PluginHost) -> None:
    for plugin, declared in host.call_each("register_permissions"):
        for item in declared:
            name = item.get("name", "")
            if not DOTTED_NAME.match(name):
                raise PluginError(f"plugin {plugin!r}: invalid permission name {name!r}")
            if name in host.permissions:
                raise PluginError(
                    f"plugin {plugin!r}: permission {name!r} is already declared by {host.permissions[name].plugin!r}"
                )
            roles = tuple(item.get("roles", ()))
            unknown = set(roles) - set(BUILTIN_ROLES)
            if unknown:
                raise PluginError(f"plugin {plugin!r}: permission {name!r} names unknown roles {sorted(unknown)}")
            host.permissions[name] = Permission(name, item.get("label", name), plugin, roles)


def _collect_meters(host: PluginHost) -> None:
    for plugin, declared in host.call_each("register_usage_meters"):
        for item in declared:
            name = item.get("name", "")
            if not DOTTED_NAME.match(name):
                raise PluginError(f"plugin {plugin!r}: invalid usage meter name {name!r}")
            if name in host.meters:
                raise PluginError(
                    f"plugin {plugin!r}: usage meter {name!r} is already declared by {host.meters[name].plugin!r}"
                )
            host.meters[name] = UsageMeter(name, item.get("label", name), item.get("unit", ""), plugin)


def _collect_field_types(host: PluginHost) -> None:
    from .fields.types import BUILTIN_TYPES, FieldType

    taken = {t.name for t in BUILTIN_TYPES}
    for plugin, declared in host.call_each("register_field_types"):
        for kind in declared:
            if not isinstance(kind, FieldType) or not DOTTED_NAME.match(f"x.{kind.name}"):
                raise PluginError(f"plugin {plugin!r}: register_field_types must return named FieldType instances")
            if kind.name in taken:
                raise PluginError(f"plugin {plugin!r}: field type {kind.name!r} already exists")
            taken.add(kind.name)
            host.field_types[kind.name] = kind


def _check_settings_schemas(host: PluginHost) -> None:
    for plugin, schema in host.call_each("plugin_settings_schema"):
        if not isinstance(schema, Schema):
            raise PluginError(f"plugin {plugin!r}: plugin_settings_schema must return a marshmallow Schema instance")


def _mount_blueprints(host: PluginHost, app: Flask) -> None:
    for plugin, blueprints in host.call_each("register_blueprints"):
        for bp in blueprints:
            if not isinstance(bp, Blueprint):
                raise PluginError(f"plugin {plugin!r}: register_blueprints must return Blueprints")
            if bp.name in app.blueprints:
                raise PluginError(f"plugin {plugin!r}: blueprint name {bp.name!r} is taken")
            app.register_blueprint(bp)
            host.blueprint_owner[bp.name] = plugin
            _check_urls(app, plugin, bp.name)


def _check_urls(app: Flask, plugin: str, blueprint: str) -> None:
    """A plugin's URLs live under ``/t/<tenant_slug>/`` and take no URL already served."""
    rules = list(app.url_map.iter_rules())
    for rule in rules:
        if rule.endpoint.split(".")[0] != blueprint:
            continue
        if not TENANT_URL.match(rule.rule):
            raise PluginError(f"plugin {plugin!r}: URL {rule.rule!r} is not under /t/<tenant_slug>/")
        for other in rules:
            if other.endpoint != rule.endpoint and other.rule == rule.rule and other.methods & rule.methods - {"HEAD", "OPTIONS"}:
                raise PluginError(f"plugin {plugin!r}: URL {rule.rule!r} is already served by {other.endpoint!r}")


# -- per-tenant state: switch and settings (the active tenant's; callers commit) -------------------
def _known(host: PluginHost, plugin: str) -> None:
    if plugin not in host.names:
        raise LookupError(plugin)


def plugin_state(plugin: str, create: bool = False) -> PluginState | None:
    """The active tenant's row for ``plugin``; with ``create``, a new switched-off row if none."""
    state = db.session.scalar(select(PluginState).where(PluginState.plugin == plugin))
    if state is None and create:
        state = PluginState(plugin=plugin, enabled=False, settings={})
        db.session.add(state)
        db.session.flush()
    return state


def set_plugin_enabled(host: PluginHost, tenant, plugin: str, enabled: bool) -> PluginState:
    """Switch ``plugin`` on or off for ``tenant``; its data and settings are kept.

    Takes effect on the next request (and on the rest of this one). The caller commits.
    """
    _known(host, plugin)
    with tenancy.tenant_scope(tenant.id):
        state = plugin_state(plugin, create=True)
        changed = state.enabled != enabled
        state.enabled = enabled
        db.session.flush()
        _enabled_cache().pop(tenant.id, None)
        if changed:
            host.call_plugin(plugin, "plugin_enabled" if enabled else "plugin_disabled", tenant=tenant)
    return state


def settings_schema(host: PluginHost, plugin: str) -> Schema | None:
    """``plugin``'s settings schema (asking that plugin only), or None when it has no settings."""
    _known(host, plugin)
    return host.call_plugin(plugin, "plugin_settings_schema")


def plugin_settings(host: PluginHost, plugin: str) -> dict:
    """The active tenant's settings for ``plugin``, loaded through its schema (defaults filled in).

    Settings saved under an older schema keep the values that still validate; the others fall back
    to the schema's defaults, so reading settings never fails a request.
    """
    state = plugin_state(plugin)
    stored = dict(state.settings or {}) if state else {}
    schema = settings_schema(host, plugin)
    if schema is None:
        return stored
    try:
        return schema.load(stored)
    except ValidationError as exc:
        still_valid = {key: value for key, value in stored.items() if key not in exc.messages}
    try:
        return schema.load(still_valid)
    except ValidationError as exc:  # a required field without a default: what remains
        return dict(exc.valid_data or {})


def save_plugin_settings(host: PluginHost, plugin: str, data: dict) -> PluginState:
    """Validate ``data`` with ``plugin``'s schema and store it for the active tenant.

    Raises ``LookupError`` for an unknown plugin and marshmallow ``ValidationError`` (field ->
    reasons) for bad data, writing nothing. Stores ``schema.dump(schema.load(data))`` (JSON-safe);
    the plugin need not be switched on. The caller audits and commits.
    """
    schema = settings_schema(host, plugin)
    if schema is None:
        raise ValidationError({"_schema": [_("This plugin has no settings.")]})
    values = schema.load(data)
    state = plugin_state(plugin, create=True)
    state.settings = schema.dump(values)
    db.session.flush()
    return state
