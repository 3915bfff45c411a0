"""Staff pages under ``/t/<tenant_slug>/``: dashboard, lists and record pages."""
from flask import Blueprint

bp = Blueprint("ui", __name__, url_prefix="/t/<tenant_slug>")

from . import dashboard  # noqa: E402,F401  (views register on bp)
