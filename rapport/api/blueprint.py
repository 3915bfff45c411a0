"""The API blueprint, its pipeline (tenant from the URL, then token, then the view) and shared helpers."""
from __future__ import annotations

import hashlib

import orjson
from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint

from ..security import limit_blueprint
from . import errors
from .auth import authenticate
from .schemas import ProblemSchema

PREFIX = "/t/<tenant_slug>/api/v1"
DEFAULT_RATE_LIMIT = "3000 per minute"

blp = Blueprint("api", __name__, url_prefix=PREFIX, description="Rapport REST API")
blp.before_request(authenticate)
errors.install(blp)


def _rate_key() -> str:
    """Per token (the limit runs before authentication, so key on the presented credential)."""
    header = request.headers.get("Authorization")
    if header:
        return "api:" + hashlib.sha256(header.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return "api-ip:" + get_remote_address()


def limit_api(bp) -> None:
    """The API's rate limit (``API_RATE_LIMIT``, per token) on every call to ``bp``; plugins' API
    blueprints take it too."""
    limit_blueprint(bp, lambda: current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT), _rate_key)


limit_api(blp)


# Keys sorted and dates left to the provider, as Flask's own JSON does (non-ASCII text goes as UTF-8).
_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def json_response(body, status: int = 200, headers: dict | None = None):
    """A JSON answer encoded by orjson (a page of 50 records: about a tenth of the standard library's
    time); what orjson cannot encode itself goes through the app's JSON provider (Decimal, dates)."""
    payload = orjson.dumps(body, default=current_app.json.default, option=_ORJSON_OPTIONS)
    response = current_app.response_class(payload, status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def problems(*statuses: int):
    """Document problem responses for a view."""

    def decorator(view):
        for status in statuses:
            view = blp.alt_response(status, schema=ProblemSchema, content_type="application/problem+json")(view)
        return view

    return decorator
