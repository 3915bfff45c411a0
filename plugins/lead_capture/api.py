"""``/t/<slug>/api/v1/forms``: the tenant's lead forms over the REST API (``forms.manage``, reading
too: a form holds routing configuration and recipients).

The blueprint behaves like the core API (``rapport.api``): bearer token, problem details, the same
rate limit, no CSRF (no cookie authenticates here), ``Idempotency-Key`` on POST. Each view checks the
permission, then loads the form (404 for an id of another tenant), then reads the body. When the
app is built, the routes are added to the API's OpenAPI document; the tenant's document lists them
only where the plugin is on.
"""
from __future__ import annotations

import uuid

from flask import g, url_for
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields as ma

from rapport.api import idempotency
from rapport.api.auth import authenticate, needs
from rapport.api.blueprint import json_response, limit_api, problems
from rapport.api.body import json_body
from rapport.api.errors import ApiProblem, install
from rapport.api.records import IDEMPOTENCY_HEADER
from rapport.db import db
from rapport.security import csrf

from .forms import (
    FormInUse,
    LeadFormIn,
    create_form,
    delete_form,
    dump_form,
    hosted_url,
    list_forms,
    load_form,
    update_form,
    validate_form,
)

TAGS = ["forms"]
COLLECTION, ITEM = "/forms", "/forms/<uuid:form_id>"

bp = Blueprint("lead_capture_api", __name__, url_prefix="/t/<tenant_slug>/api/v1",
               description="Lead capture forms")
bp.before_request(authenticate)
install(bp)
csrf.exempt(bp)
limit_api(bp)


# -- documentation schemas (the input is documented by forms.LeadFormIn itself) --------------------
class LeadFormFieldSchema(Schema):
    key = ma.String(required=True)
    label = ma.String(required=True, allow_none=True)
    required = ma.Boolean(required=True)


class LeadFormRuleSchema(Schema):
    field = ma.String(required=True)
    op = ma.String(required=True, metadata={"enum": ["eq", "in", "contains"]})
    value = ma.Raw(required=True, metadata={"description": "Text; for `in`, a list of texts."})
    owner_id = ma.UUID(required=True)


class LeadFormSchema(Schema):
    """A lead form as the API answers it."""

    id = ma.UUID(required=True)
    slug = ma.String(required=True)
    name = ma.String(required=True)
    asked = ma.List(ma.Nested(LeadFormFieldSchema), required=True, data_key="fields")
    consent_text = ma.String(required=True, allow_none=True)
    consent_version = ma.Integer(required=True, metadata={"description": "Bumped whenever consent_text changes."})
    thank_you_message = ma.String(required=True)
    redirect_url = ma.String(required=True, allow_none=True)
    notify_emails = ma.List(ma.String(), required=True)
    lead_source = ma.String(required=True)
    published = ma.Boolean(required=True)
    allowed_origins = ma.List(ma.String(), required=True)
    assignment_mode = ma.String(required=True, metadata={"enum": ["manual", "round_robin", "rules"]})
    assignees = ma.List(ma.UUID(), required=True)
    rules = ma.List(ma.Nested(LeadFormRuleSchema), required=True)
    default_owner_id = ma.UUID(required=True, allow_none=True)
    follow_up_minutes = ma.Integer(required=True, allow_none=True)
    min_fill_seconds = ma.Integer(required=True)
    hosted_url = ma.String(required=True, metadata={"description": "The hosted page of the form."})
    created_at = ma.DateTime(required=True)
    updated_at = ma.DateTime(required=True)


class LeadFormListSchema(Schema):
    items = ma.List(ma.Nested(LeadFormSchema), required=True)


def _body_doc(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}


# -- helpers -------------------------------------------------------------------------------------------
def _shown(form) -> dict:
    return {**dump_form(form), "hosted_url": hosted_url(g.tenant, form.slug)}


def _form_or_404(form_id: uuid.UUID):
    form = load_form(form_id)
    if form is None:
        raise ApiProblem(404, _("Not found"), _("There is no such form in this workspace."))
    return form


def _location(form_id) -> str:
    return url_for("lead_capture_api.get_form", form_id=form_id)


# -- views ---------------------------------------------------------------------------------------------
@bp.route(COLLECTION, methods=["GET"], endpoint="list_forms", tags=TAGS)
@bp.doc(operationId="listLeadForms", summary="List the lead forms")
@bp.alt_response(200, schema=LeadFormListSchema, success=True)
@problems(401, 403)
@needs("forms.manage")
def list_view():
    return json_response({"items": [_shown(form) for form in list_forms()]})


@bp.route(COLLECTION, methods=["POST"], endpoint="create_form", tags=TAGS)
@bp.doc(operationId="createLeadForm", summary="Create a lead form", requestBody=_body_doc(LeadFormIn),
        parameters=[IDEMPOTENCY_HEADER])
@bp.alt_response(201, schema=LeadFormSchema, success=True)
@problems(400, 401, 403, 409, 413, 415, 422)
@needs("forms.manage")
def create_view():
    data = json_body()

    def create():
        form = create_form(validate_form(g.tenant, data), g.actor)
        return _shown(form), form.id

    return idempotency.create_once(data, create, _location)


@bp.route(ITEM, methods=["GET"], endpoint="get_form", tags=TAGS)
@bp.doc(operationId="getLeadForm", summary="Read a lead form")
@bp.alt_response(200, schema=LeadFormSchema, success=True)
@problems(401, 403, 404)
@needs("forms.manage")
def read_view(form_id):
    return json_response(_shown(_form_or_404(form_id)))


@bp.route(ITEM, methods=["PATCH"], endpoint="update_form", tags=TAGS)
@bp.doc(operationId="updateLeadForm", summary="Change some settings of a lead form",
        requestBody=_body_doc(LeadFormIn(partial=True)))
@bp.alt_response(200, schema=LeadFormSchema, success=True)
@problems(400, 401, 403, 404, 409, 413, 415, 422)
@needs("forms.manage")
def update_view(form_id):
    form = _form_or_404(form_id)
    data = json_body()
    update_form(form, validate_form(g.tenant, data, form), g.actor)
    db.session.commit()
    return json_response(_shown(form))


@bp.route(ITEM, methods=["DELETE"], endpoint="delete_form", tags=TAGS)
@bp.doc(operationId="deleteLeadForm",
        summary="Delete a lead form (refused while submissions wait for processing or review)")
@bp.alt_response(204, description="Deleted.", success=True)
@problems(401, 403, 404, 409)
@needs("forms.manage")
def delete_view(form_id):
    form = _form_or_404(form_id)
    try:
        delete_form(form, g.actor)
    except FormInUse as exc:
        raise ApiProblem(409, _("Form in use"), _(
            "%(waiting)d submissions wait for processing and %(quarantined)d are in quarantine: release or "
            "discard them first, or unpublish the form instead.", waiting=exc.waiting, quarantined=exc.quarantined,
        )) from None
    db.session.commit()
    return "", 204


# -- the OpenAPI document --------------------------------------------------------------------------------
def _document(state) -> None:
    """Add these routes to the API's document (flask-smorest does so only for blueprints registered
    through its ``Api``; the plugin host registers ours as a plain Flask blueprint)."""
    api = state.app.extensions.get("rapport.api")
    if api is not None:
        bp.register_views_in_doc(api, state.app, api.spec, name=bp.name, parameters=None)


bp.record(_document)
