"""The plugin host: one pluggy manager per app, built in the factory, with per-tenant switching.

Plugins are found through the ``rapport`` entry-point group, built-in and third-party alike. What a
plugin registers (permissions, blueprints) is validated once at start-up. Calls for a tenant reach
the core and the plugins that tenant has enabled, nothing else.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pluggy
from flask import Blueprint, Flask, abort, g, request
from markupsafe import Markup, escape
from sqlalchemy import select

from . import core_hooks, hookspecs
from .db import db
from .models import PluginState

CORE = "rapport.core"
PERMISSION_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
BUILTIN_ROLES = ("owner", "admin", "manager", "agent", "viewer")


class PluginError(RuntimeError):
    """A plugin registered something invalid; raised at start-up, never at request time."""


@dataclass
class Permission:
    name: str
    label: str
    plugin: str
    roles: tuple[str, ...] = ()


@dataclass
class PluginHost:
    pm: pluggy.PluginManager
    permissions: dict[str, Permission] = field(default_factory=dict)
    blueprint_owner: dict[str, str] = field(default_factory=dict)
    _callers: dict = field(default_factory=dict)

    # -- discovery -------------------------------------------------------------------------------
    @property
    def plugin_names(self) -> list[str]:
        return sorted(name for name, _ in self.pm.list_name_plugin() if name != CORE)

    def call_each(self, hook: str, only: str | None = None, **kwargs) -> list[tuple[str, object]]:
        """Call each implementation of ``hook`` and return ``(plugin name, result)`` pairs."""
        pairs = []
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            if only is not None and impl.plugin_name != only:
                continue
            result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            if result is not None:
                pairs.append((impl.plugin_name, result))
        return pairs

    # -- per-tenant switching ----------------------------------------------------------------------
    def enabled_plugins(self, tenant) -> frozenset[str]:
        """The plugins ``tenant`` switched on (cached for the request)."""
        cache = g.setdefault("_enabled_plugins", {})
        if tenant.id not in cache:
            rows = db.session.scalars(select(PluginState.plugin).where(PluginState.enabled.is_(True)))
            cache[tenant.id] = frozenset(rows) & frozenset(self.plugin_names)
        return cache[tenant.id]

    def hooks_for(self, tenant):
        """A hook relay that reaches the core and the plugins enabled for ``tenant`` only."""
        return _TenantHooks(self, tenant)

    def caller(self, hook: str, tenant):
        disabled = frozenset(self.plugin_names) - self.enabled_plugins(tenant)
        key = (hook, disabled)
        if key not in self._callers:
            removed = [self.pm.get_plugin(name) for name in disabled]
            self._callers[key] = self.pm.subset_hook_caller(hook, remove_plugins=removed)
        return self._callers[key]

    def plugin_of_blueprint(self, blueprint_name: str | None) -> str | None:
        if not blueprint_name:
            return None
        return self.blueprint_owner.get(blueprint_name.split(".")[0])

    # -- collected contributions ---------------------------------------------------------------------
    def role_permissions(self, role_key: str) -> frozenset[str]:
        return frozenset(p.name for p in self.permissions.values() if role_key in p.roles)

    def menu(self, tenant, member, section: str) -> list[dict]:
        items = []
        for batch in self.hooks_for(tenant).menu_items(tenant=tenant, member=member):
            for item in batch or []:
                if item.get("section", "nav") != section:
                    continue
                if item.get("permission") and not member.can(item["permission"]):
                    continue
                items.append(item)
        return items

    def dashboard_panels(self, tenant, member) -> list[dict]:
        panels = []
        for batch in self.hooks_for(tenant).dashboard_panels(tenant=tenant, member=member):
            for panel in batch or []:
                html = panel.get("html", "")
                panels.append({"title": panel["title"], "html": html if isinstance(html, Markup) else escape(html)})
        return panels


class _TenantHooks:
    def __init__(self, host: PluginHost, tenant):
        self._host, self._tenant = host, tenant

    def __getattr__(self, hook: str):
        return self._host.caller(hook, self._tenant)


def build_host(app: Flask) -> PluginHost:
    """Build the manager inside the app factory: specs, the core, entry points, then validate."""
    pm = pluggy.PluginManager("rapport")
    pm.add_hookspecs(hookspecs)
    pm.register(core_hooks, name=CORE)
    pm.load_setuptools_entrypoints("rapport")
    for plugin in app.config.get("EXTRA_PLUGINS", ()):
        pm.register(plugin, name=getattr(plugin, "PLUGIN_NAME", plugin.__name__))
    pm.check_pending()
    host = PluginHost(pm)
    _collect_permissions(host)
    _mount_blueprints(host, app)
    app.extensions["rapport.plugins"] = host

    @app.before_request
    def _plugin_switch():
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
            if not PERMISSION_NAME.match(name):
                raise PluginError(f"plugin {plugin!r}: invalid permission name {name!r}")
            if name in host.permissions:
                raise PluginError(
                    f"plugin {plugin!r}: permission {name!r} is already declared by {host.permissions[name].plugin!r}"
                )
            roles = tuple(item.get("roles", ()))
            unknown = set(roles) - set(BUILTIN_ROLES)
            if unknown:
                raise PluginError(f"plugin {plugin!r}: permission {name!r} names unknown roles {sorted(unknown)}")
            host.permissions[name] = Permission(name, str(item.get("label", name)), plugin, roles)


def _mount_blueprints(host: PluginHost, app: Flask) -> None:
    for plugin, blueprints in host.call_each("register_blueprints"):
        for bp in blueprints:
            if not isinstance(bp, Blueprint):
                raise PluginError(f"plugin {plugin!r}: register_blueprints must return Blueprints")
            if bp.name in app.blueprints:
                raise PluginError(f"plugin {plugin!r}: blueprint name {bp.name!r} is taken")
            app.register_blueprint(bp)
            host.blueprint_owner[bp.name] = plugin


def set_plugin_enabled(host: PluginHost, tenant, plugin: str, enabled: bool) -> PluginState:
    """Switch ``plugin`` on or off for the active tenant; its data and settings are kept.

    Takes effect on the next request. The caller commits.
    """
    if plugin not in host.plugin_names:
        raise LookupError(plugin)
    state = db.session.scalar(select(PluginState).where(PluginState.plugin == plugin))
    if state is None:
        state = PluginState(plugin=plugin, enabled=False, settings={})
        db.session.add(state)
    changed = state.enabled != enabled
    state.enabled = enabled
    db.session.flush()
    g.pop("_enabled_plugins", None)
    if changed:
        hook = "plugin_enabled" if enabled else "plugin_disabled"
        host.call_each(hook, only=plugin, tenant=tenant)
    return state
