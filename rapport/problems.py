"""Errors as RFC 9457 problem details (``application/problem+json``)."""
from __future__ import annotations

from flask import Response, json
from werkzeug.exceptions import HTTPException


def problem(status: int, title: str, detail: str | None = None, errors: dict | None = None, **extra) -> Response:
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")


def from_http_exception(exc: HTTPException) -> Response:
    response = problem(exc.code or 500, exc.name, exc.description)
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response
