"""CSV import and export of accounts, contacts and leads (web pages; the CLI is in rapport.cli)."""
from flask import Blueprint

bp = Blueprint("transfer", __name__, url_prefix="/t/<tenant_slug>")
