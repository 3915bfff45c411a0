"""The tenant's OpenAPI 3.1 document (``openapi.json``) and a docs page rendered from it (``docs``).

Only the tenant's own people may read them (the document will carry the tenant's custom fields, and
no tenant page tells outsiders anything): an API token of this tenant, or a member logged in to the
web UI, so that the docs page can be browsed. Both are read-only GET pages, so the session brings no
CSRF risk; every other API call takes a bearer token only.

The document is built per request from the paths and components that flask-smorest collected at
start-up, re-rooted at the tenant's base URL (``servers``), with the tenant's custom fields (those the
reader's role may see through the API) in the record schemas and list parameters: a change to a
definition shows on the next request. Paths served by a plugin's blueprint (a plugin may add its
routes to the document) are listed only for tenants that switched that plugin on.
"""
from __future__ import annotations

import copy

from flask import Blueprint, current_app, g, render_template, request
from flask_login import current_user
from flask_smorest.spec.plugins import FlaskPlugin

from ..pipeline import session_member
from . import errors
from .auth import authenticate
from .blueprint import PREFIX, json_response
from .docs_page import page_context
from .schemas import add_custom_fields

SPEC_PREFIX = PREFIX.replace("<tenant_slug>", "{tenant_slug}")
SECURITY_SCHEME = {"type": "http", "scheme": "bearer", "description": "An API token: `Authorization: Bearer rpt_...`"}
DESCRIPTION = (
    "JSON REST API of one Rapport workspace. Authenticate every call with an API token "
    "(`Authorization: Bearer <token>`). Errors are RFC 9457 problem details. "
    "Lists page with `limit` and `cursor` (use `next_cursor` until it is null)."
)

docs_bp = Blueprint("api_docs", __name__, url_prefix=PREFIX, template_folder="templates")
errors.install(docs_bp)


@docs_bp.before_request
def _authorize():
    """A bearer token of this tenant, else the logged-in member of this tenant."""
    if "Authorization" in request.headers:
        return authenticate()
    member = session_member()
    if member is not None:
        g.member = member
        return None
    if request.endpoint == "api_docs.docs" and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # a browser: log in, then come back here
    return authenticate()  # no credentials that count here: the API's 401


def _global_spec() -> dict:
    """The app-wide document flask-smorest built, computed once per app."""
    cache = current_app.extensions.setdefault("rapport.api.spec", {})
    if "spec" not in cache:
        cache["spec"] = current_app.extensions["rapport.api"].spec.to_dict()
    return cache["spec"]


def _plugin_paths() -> dict[str, str]:
    """``{spec path: plugin}`` for the API paths that plugins' blueprints serve, computed once per app."""
    cache = current_app.extensions.setdefault("rapport.api.spec", {})
    if "plugin_paths" not in cache:
        host = current_app.extensions["rapport.plugins"]
        cache["plugin_paths"] = {
            FlaskPlugin.flaskpath2openapi(rule.rule): plugin
            for rule in current_app.url_map.iter_rules()
            if (plugin := host.plugin_of_blueprint(rule.endpoint.rpartition(".")[0]))
        }
    return cache["plugin_paths"]


def _only_enabled_plugins(spec: dict, tenant) -> None:
    """Drop the paths of plugins the tenant has off, and the schemas only they used."""
    enabled = current_app.extensions["rapport.plugins"].enabled_plugins(tenant)
    owned = _plugin_paths()
    dropped = {path: item for path, item in spec["paths"].items() if owned.get(path, "") not in ("", *enabled)}
    if not dropped:
        return
    spec["paths"] = {path: item for path, item in spec["paths"].items() if path not in dropped}
    schemas = spec.get("components", {}).get("schemas", {})
    unused = _closure(_refs(dropped), schemas) - _closure(_refs(spec["paths"]), schemas)
    for name in unused:
        del schemas[name]


def _refs(node) -> set[str]:
    """The component schemas that ``node`` names with ``$ref``."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        found = {ref.rsplit("/", 1)[1]} if isinstance(ref, str) and ref.startswith("#/components/schemas/") else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def _closure(names: set[str], schemas: dict) -> set[str]:
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in seen and name in schemas:
            seen.add(name)
            todo.extend(_refs(schemas[name]))
    return seen


def tenant_spec(tenant, member=None) -> dict:
    spec = copy.deepcopy(_global_spec())
    _only_enabled_plugins(spec, tenant)
    spec["paths"] = {
        path[len(SPEC_PREFIX):]: _without_tenant_parameter(item)
        for path, item in spec["paths"].items()
        if path.startswith(SPEC_PREFIX)
    }
    spec["servers"] = [{"url": f"/t/{tenant.slug}/api/v1", "description": tenant.name}]
    spec["info"]["description"] = DESCRIPTION
    spec.setdefault("components", {})["securitySchemes"] = {"bearerAuth": SECURITY_SCHEME}
    spec["security"] = [{"bearerAuth": []}]
    used = {tag for item in spec["paths"].values() for op in _operations(item) for tag in op.get("tags", [])}
    spec["tags"] = [{"name": tag} for tag in sorted(used)]
    add_custom_fields(spec, tenant, member)
    return spec


def _without_tenant_parameter(item: dict) -> dict:
    """The tenant is part of the server URL, not a parameter of each path."""
    for holder in (item, *_operations(item)):
        params = [p for p in holder.get("parameters", []) if p.get("name") != "tenant_slug"]
        if params:
            holder["parameters"] = params
        else:
            holder.pop("parameters", None)
    return item


def _operations(item: dict) -> list[dict]:
    return [op for method, op in item.items() if method in ("get", "put", "post", "patch", "delete")]


@docs_bp.get("/openapi.json")
def openapi_json():
    return json_response(tenant_spec(g.tenant, g.get("member")))


@docs_bp.get("/docs")
def docs():
    return render_template("api/docs.html", **page_context(tenant_spec(g.tenant, g.get("member"))))
