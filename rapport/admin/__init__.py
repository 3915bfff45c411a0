"""Tenant admin pages: members, roles, plugins, audit log, API tokens."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/t/<tenant_slug>/admin")

from . import views  # noqa: E402,F401
