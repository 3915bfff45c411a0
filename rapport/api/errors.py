"""Every API error is an RFC 9457 problem (``application/problem+json``).

Errors raised inside an API view (our own :class:`ApiProblem`, marshmallow's ``ValidationError``,
the record service's ``Forbidden``, werkzeug and flask-smorest ``abort``) are turned into problems by
the blueprint handlers installed here. Errors raised before a route matches (404, 405) reach the app's
handler in ``rapport/app.py``, which renders problems for every ``/api/`` path too.
"""
from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from .. import crm
from ..i18n import localize_messages
from ..db import db
from ..problems import problem

# Headers an HTTPException may carry that a client needs (405 Allow, 429 Retry-After, ...).
_KEPT_HEADERS = {"allow", "retry-after", "www-authenticate"}


class ApiProblem(Exception):
    """Stop the request with a problem response."""

    def __init__(self, status: int, title: str, detail: str | None = None, errors: dict | None = None,
                 headers: dict | None = None):
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.errors, self.headers = errors, headers or {}

    def response(self):
        response = problem(self.status, self.title, self.detail, errors=self.errors)
        response.headers.update(self.headers)
        return response


def not_found() -> ApiProblem:
    return ApiProblem(404, _("Not found"), _("There is no such record in this workspace."))


def field_errors(messages) -> dict:
    """marshmallow messages as ``{"field": ["reason", ...]}`` (schema-level ones under ``_schema``)."""
    if isinstance(messages, dict):
        return messages
    return {"_schema": messages if isinstance(messages, list) else [str(messages)]}


def invalid(errors: dict):
    errors = localize_messages(errors)  # marshmallow's own messages, in the client's language
    names = ", ".join(str(name) for name in errors)
    return problem(422, _("Invalid input"), _("Check these fields: %(fields)s.", fields=names), errors=errors)


def _api_problem(exc: ApiProblem):
    db.session.rollback()
    return exc.response()


def _validation_error(exc: ValidationError):
    db.session.rollback()
    return invalid(field_errors(exc.messages))


def _forbidden(_exc: crm.Forbidden):
    db.session.rollback()
    return problem(403, _("Forbidden"), _("You may not change this record."))


def _integrity_error(_exc: IntegrityError):
    """Validation passed but a constraint fired: a concurrent change (e.g. a referenced row deleted)."""
    db.session.rollback()
    return problem(409, _("Conflict"), _("The change conflicts with another one; try again."))


def _http_error(exc: HTTPException):
    """werkzeug errors and flask-smorest/webargs ``abort(...)`` (whose details sit in ``exc.data``)."""
    db.session.rollback()
    data = getattr(exc, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    if isinstance(errors, dict) and set(errors) <= {"json", "query", "headers", "form", "files", "view_args"}:
        # webargs groups messages by location; a client wants the field names.
        errors = {field: reasons for by_location in errors.values() for field, reasons in by_location.items()}
    status = exc.code or 500
    if status == 422 and errors:
        response = invalid(field_errors(errors))
    else:
        response = problem(status, exc.name, data.get("message") or exc.description,
                           errors=field_errors(errors) if errors else None)
    for name, value in exc.get_headers():
        if name.lower() in _KEPT_HEADERS:
            response.headers[name] = value
    response.headers.update(data.get("headers") or {})
    return response


def install(bp: Blueprint) -> None:
    bp.register_error_handler(ApiProblem, _api_problem)
    bp.register_error_handler(ValidationError, _validation_error)
    bp.register_error_handler(crm.Forbidden, _forbidden)
    bp.register_error_handler(IntegrityError, _integrity_error)
    bp.register_error_handler(HTTPException, _http_error)
