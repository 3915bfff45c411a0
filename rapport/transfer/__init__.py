"""CSV import and export of accounts, contacts and leads: web pages here, commands in ``.cli``."""
from flask import Blueprint

bp = Blueprint("transfer", __name__, url_prefix="/t/<tenant_slug>")

from . import views  # noqa: E402,F401  (views register on bp)
