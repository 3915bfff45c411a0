"""Helpers for the form-builder tests: a valid definition to vary, custom lead fields, stored
submissions, and the validation errors of a definition."""
from __future__ import annotations

import uuid

from marshmallow import ValidationError

from plugins.lead_capture.forms import validate_form
from plugins.lead_capture.models import Submission
from rapport.db import db
from rapport.fields.definitions import create_definition
from rapport.pipeline import Actor
from tests.plugins.support import acting_in

OPERATOR = Actor.operator("tests")


def definition(**overrides) -> dict:
    """A valid form definition, as the API takes it."""
    values = {
        "slug": "contact-us",
        "name": "Contact us",
        "fields": [{"key": "name", "required": True}, {"key": "email", "required": True}],
    }
    values.update(overrides)
    return values


def errors_of(tenant, raw, form=None) -> dict:
    """The errors ``validate_form`` names for ``raw`` ({} when it is valid)."""
    with acting_in(tenant):
        try:
            validate_form(tenant, raw, form)
        except ValidationError as exc:
            return exc.messages
        finally:
            db.session.rollback()
    return {}


def custom_field(tenant, key: str, type_: str = "select", forms: bool = True, required: bool = False, **extra):
    """A custom lead field; selects get the options small, mid and large."""
    data = {"key": key, "label": key.replace("_", " ").title(), "type": type_, "required": required,
            "show_in": {"staff": True, "api": True, "forms": forms, "portal": "none"}, **extra}
    if type_ in ("select", "multi_select"):
        data.setdefault("options", [{"value": v, "label": v.title()} for v in ("small", "mid", "large")])
    with acting_in(tenant):
        created = create_definition(tenant, "leads", data, OPERATOR)
        db.session.commit()
    return created


def store_submission(tenant, form, status: str = "received") -> Submission:
    with acting_in(tenant):
        row = Submission(form_id=form.id, dedupe_key=uuid.uuid4().hex, status=status, data={"email": "x@y.test"})
        db.session.add(row)
        db.session.commit()
    return row
