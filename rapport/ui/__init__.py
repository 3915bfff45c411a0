"""Staff pages under ``/t/<tenant_slug>/``: dashboard, lists, record pages and forms."""
from flask import Blueprint

bp = Blueprint("ui", __name__, url_prefix="/t/<tenant_slug>")

from . import dashboard, routes  # noqa: E402,F401  (views register on bp)
