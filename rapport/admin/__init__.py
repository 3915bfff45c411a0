"""Tenant admin pages under ``/t/<tenant_slug>/admin/``: members, roles, plugins, audit log, API tokens.

Each page requires its own permission (``members.manage``, ``roles.manage``, ``plugins.manage``,
``audit.read``, ``tokens.manage``); changes made here are written to the audit log like any other.
"""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/t/<tenant_slug>/admin")

from . import api_tokens, audit_log, fields, members, plugins, roles  # noqa: E402,F401  (views register on bp)
