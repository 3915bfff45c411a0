"""From what a visitor sent to a stored Submission: the fields a form asks, their validation (the
same rules the CRM applies), the visit's context (UTM, referrer, landing page), and the one short
transaction that stores the submission before anyone is thanked.

The data contract with ``processing``: ``Submission.data`` holds only the keys the form asks
(``name``, ``email`` stripped and lower-cased, ``phone`` in E.164, ``company``, ``message``) plus
``custom`` (the lead's custom values, validated for the "forms" audience).
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Mapping

import orjson
from flask import request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rapport import tasks, tenancy
from rapport.db import db, new_id, utcnow
from rapport.fields import validate_custom
from rapport.fields.forms import Widget
from rapport.fields.forms import widgets as custom_widgets
from rapport.fields.types import CleanString, PhoneField
from rapport.i18n import localize_messages

from .models import LeadForm, Submission

log = logging.getLogger(__name__)

CUSTOM_PREFIX = "custom."
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
URL_KEYS = ("referrer", "landing_page")
UTM_MAX, URL_MAX, IP_MAX, USER_AGENT_MAX = 200, 1000, 45, 500
PAYLOAD_BUCKET_SECONDS = 600  # without a token or key, the same payload within 10 minutes is one submission
RECEIVED, QUARANTINED = "received", "quarantined"


@dataclass(frozen=True)
class CoreField:
    label: object
    input: str
    autocomplete: str | None
    max_length: int
    help: object = ""


CORE_FIELDS = {
    "name": CoreField(_l("Name"), "text", "name", 200),
    "email": CoreField(_l("Email"), "email", "email", 254),
    "phone": CoreField(_l("Phone"), "tel", "tel", 40, _l("With the country code, e.g. +44 20 7946 0958.")),
    "company": CoreField(_l("Company"), "text", "organization", 200),
    "message": CoreField(_l("Message"), "textarea", None, 10_000),
}


@dataclass(frozen=True)
class AskedField:
    """One input of a form, as the page, the embed script and the validator see it."""

    name: str  # the input's name: "email", "custom.industry"
    label: str
    input: str  # text, email, tel, textarea, select, checkbox, checkboxes, number, date, ...
    required: bool
    help: str = ""
    autocomplete: str | None = None
    options: tuple = ()  # ((value, label), ...)
    step: str | None = None
    widget: Widget | None = field(default=None, compare=False)

    @property
    def custom(self) -> bool:
        return self.widget is not None

    @property
    def key(self) -> str:
        return self.name[len(CUSTOM_PREFIX):] if self.custom else self.name

    def as_json(self) -> dict:
        return {"name": self.name, "label": self.label, "type": self.input, "required": self.required,
                "help": self.help, "autocomplete": self.autocomplete, "step": self.step,
                "options": [{"value": v, "label": lab} for v, lab in self.options]}


_ASKED_KEPT = 512
_asked: dict = {}


def asked_fields(form: LeadForm, tenant) -> list[AskedField]:
    """The form's inputs in order. A custom field no longer shown in forms (archived, hidden) is
    left out, and so is a member reference: a public page never lists the tenant's staff.

    Remembered per process by what they are made of (the form's field list, the tenant's field
    schema version and the language), so a change to any of them shows on the next request."""
    key = (tenant.id, tenant.fields_version, str(get_locale()), orjson.dumps(form.fields or []))
    found = _asked.get(key)
    if found is None:
        if len(_asked) >= _ASKED_KEPT:
            _asked.clear()
        found = _asked[key] = tuple(_asked_fields(form, tenant))
    return list(found)


def _asked_fields(form: LeadForm, tenant) -> list[AskedField]:
    widgets = {w.spec.key: w for w in custom_widgets(tenant, "leads", None, audience="forms")}
    asked = []
    for item in form.fields or []:
        key, label = str(item.get("key", "")), (item.get("label") or "").strip()
        if key in CORE_FIELDS:
            core = CORE_FIELDS[key]
            asked.append(AskedField(key, label or str(core.label), core.input, bool(item.get("required")),
                                    str(core.help), core.autocomplete))
        elif key.startswith(CUSTOM_PREFIX) and key[len(CUSTOM_PREFIX):] in widgets:
            w = widgets[key[len(CUSTOM_PREFIX):]]
            if w.input == "member":
                continue
            asked.append(AskedField(w.name, label or w.label, w.input, bool(item.get("required")) or w.spec.required,
                                    w.help, None, tuple(w.options), w.step if w.input == "number" else None, w))
    return asked


# --- validation -----------------------------------------------------------------------------------
def _core_field(name: str, required: bool) -> fields.Field:
    missing = _("This field is required.")
    messages = {"required": missing, "null": missing}
    if name == "email":
        return fields.Email(required=required, allow_none=not required, error_messages=messages,
                            validate=validate.Length(max=CORE_FIELDS[name].max_length))
    if name == "phone":
        # No default region: a number without its country code cannot be read unambiguously.
        return PhoneField(None, required=required, allow_none=not required, error_messages=messages)
    return CleanString(required=required, allow_none=not required, error_messages=messages,
                       validate=validate.Length(max=CORE_FIELDS[name].max_length))


@functools.lru_cache(maxsize=256)
def _core_schema(core: tuple[tuple[str, bool], ...], _locale: str) -> Schema:
    """The schema of a form's core fields, built once per set of fields and language (its messages
    are translated when it is built). One instance serves every submission: loading keeps no state
    on it, and making one per submission was 3% of the intake's CPU."""
    fields_ = {name: _core_field(name, required) for name, required in core}
    return Schema.from_dict(fields_, name="LeadFormCore")(unknown=RAISE)


def _cleaned(raw: Mapping) -> dict:
    """Strings stripped; an empty string is "not given" (as the CRM's input schemas do)."""
    out = {}
    for key, value in raw.items():
        if isinstance(value, str):
            value = value.strip() or None
        out[key] = value
    return out


def validate_submission(asked: list[AskedField], core_raw: Mapping, custom_raw, tenant) -> tuple[dict, dict]:
    """``(data, errors)``: the submission's data as the contract says, or errors keyed by input name."""
    core = tuple((f.name, f.required) for f in asked if not f.custom)
    data, errors = {}, {}
    try:
        data = _core_schema(core, str(get_locale())).load(_cleaned(core_raw))
    except ValidationError as exc:
        errors.update(exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages})
        data = dict(exc.valid_data or {})
    given = custom_raw if isinstance(custom_raw, dict) else {}
    for f in asked:
        if f.custom and f.required and not f.widget.spec.required and given.get(f.key) in (None, "", []):
            # The form makes this optional field required (a required definition is checked below).
            errors[f.name] = [_("This field is required.")]
    try:
        custom = validate_custom("leads", custom_raw, tenant, "forms")
    except ValidationError as exc:
        errors.update(exc.messages)
        custom = {}
    if errors:
        return {}, plain_messages(errors)
    data = {k: v for k, v in data.items() if v is not None}
    if "email" in data:
        data["email"] = data["email"].strip().lower()
    if custom or any(f.custom for f in asked):
        data["custom"] = custom
    return data, {}


def consent_errors(form: LeadForm, given: object, version: object) -> dict:
    """The person must tick the consent box when the form has one, and must have been shown the
    current text: we keep the exact text agreed to, so an outdated page is asked to agree again."""
    if not form.consent_text:
        return {}
    if given is not True:
        return {"consent": [_("Please tick the box to agree.")]}
    if version is not None and str(version) != str(form.consent_version):
        return {"consent": [_("The consent text has changed since the page was loaded. Read it again and tick the box.")]}
    return {}


def plain_messages(messages):
    """Validation messages as plain strings in the visitor's language (lazy ones resolved)."""
    messages = localize_messages(messages)
    if isinstance(messages, dict):
        return {str(k): plain_messages(v) for k, v in messages.items()}
    if isinstance(messages, (list, tuple)):
        return [plain_messages(m) for m in messages]
    return str(messages)


# --- the visit's context --------------------------------------------------------------------------
def visit_context(source: Mapping) -> dict:
    """UTM parameters, referrer and landing page from a submission's hidden inputs (or JSON keys).
    Only text is kept, cut to the columns' sizes; a URL that is not http(s) is dropped."""
    utm = {k: source[k].strip()[:UTM_MAX] for k in UTM_KEYS if isinstance(source.get(k), str) and source[k].strip()}
    urls = {}
    for key in URL_KEYS:
        value = source.get(key)
        if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
            urls[key] = value.strip()[:URL_MAX]
    return {"utm": utm, "referrer": urls.get("referrer"), "landing_page": urls.get("landing_page")}


def context_errors(source: Mapping) -> dict:
    """JSON clients: a context key that is neither text nor null is refused by name."""
    return {k: [_("Send text or null.")] for k in (*UTM_KEYS, *URL_KEYS)
            if k in source and source[k] is not None and not isinstance(source[k], str)}


def landing_context() -> dict:
    """The context of the page being rendered now: its URL, the page that linked to it and the
    UTM parameters of its query string (carried through the form in hidden inputs)."""
    return visit_context({**{k: request.args.get(k) for k in UTM_KEYS},
                          "referrer": request.referrer, "landing_page": request.url})


# --- storage --------------------------------------------------------------------------------------
def payload_dedupe_key(form: LeadForm, data: dict, now: float | None = None) -> str:
    """For a submission with neither a fill token nor an Idempotency-Key: the same payload to the
    same form within one 10-minute bucket counts once."""
    bucket = int((time.time() if now is None else now) // PAYLOAD_BUCKET_SECONDS)
    blob = json.dumps([str(form.id), data, bucket], sort_keys=True, default=str)
    return "h:" + hashlib.sha256(blob.encode()).hexdigest()


def token_dedupe_key(nonce: str, data: dict) -> str:
    """One rendering of a form (its token's nonce) with one payload: a double click or a retry is the
    same submission, while other data sent with a replayed token is stored as its own."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:24]
    return f"t:{nonce[:40]}:{digest}"


def find_submission(form: LeadForm, dedupe_key: str) -> Submission | None:
    return db.session.scalar(select(Submission).where(Submission.form_id == form.id, Submission.dedupe_key == dedupe_key))


@dataclass(frozen=True)
class Stored:
    """A submission just stored: what the answer and the queue need."""

    id: uuid.UUID
    status: str


def store(form: LeadForm, dedupe_key: str, data: dict, *, consent: bool, context: dict,
          spam: str | None) -> tuple[Stored | Submission, bool]:
    """Store and COMMIT the submission (the visitor is thanked only after this); ``(row, created)``.
    One statement: ``INSERT ... ON CONFLICT DO NOTHING`` on the dedupe key, so a repeat -- even one
    racing this request -- stores nothing and answers the first row."""
    agreed = bool(consent and form.consent_text)  # a form without a consent box records no consent
    _end_read_snapshot()
    values = {
        "tenant_id": tenancy.current_tenant_id(), "id": new_id(), "form_id": form.id, "dedupe_key": dedupe_key,
        "data": data, "status": QUARANTINED if spam else RECEIVED, "spam_reason": spam,
        "consent_version": form.consent_version if agreed else None,
        "consent_text": form.consent_text if agreed else None,
        "utm": context["utm"], "referrer": context["referrer"], "landing_page": context["landing_page"],
        "ip": (request.remote_addr or "")[:IP_MAX] or None,
        "user_agent": (request.user_agent.string or "")[:USER_AGENT_MAX] or None,
        "received_at": utcnow(), "reassigned_count": 0,
    }
    created = db.session.execute(_insert_statement(), values).scalar() is not None
    db.session.commit()
    if created:
        return Stored(values["id"], values["status"]), True
    existing = find_submission(form, dedupe_key)
    if existing is None:  # cannot happen: the conflicting row is committed and never deleted alone
        raise RuntimeError(f"submission with dedupe key {dedupe_key!r} vanished")
    return existing, False


_INSERTS: dict = {}


def _insert_statement():
    """The INSERT, built once per dialect with the values as parameters (values written into the
    statement made SQLAlchemy build and key a new statement for every submission)."""
    dialect = db.session.get_bind().dialect.name
    found = _INSERTS.get(dialect)
    if found is None:
        table = Submission.__table__
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        found = _INSERTS[dialect] = insert(table).on_conflict_do_nothing(
            index_elements=["tenant_id", "form_id", "dedupe_key"]).returning(table.c.id)
    return found


def _end_read_snapshot() -> None:
    """SQLite (WAL) refuses at once, whatever the busy timeout, to let a transaction that has read
    start writing once another worker has committed since (SQLITE_BUSY_SNAPSHOT): under concurrent
    submissions that is a 500. Ending the reads here makes the INSERT open a fresh transaction, which
    waits for the write lock instead. PostgreSQL has no such limit and keeps its one transaction."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.commit()


def enqueue_processing(tenant_id: uuid.UUID, submission_id: uuid.UUID) -> bool:
    """Hand a stored "received" submission to the queue (dedupe, lead, assignment, notification).
    If the queue is down the submission stays "received" and the periodic sweep picks it up."""
    try:
        from .processing import process_submission
    except ModuleNotFoundError as exc:  # processing not installed yet: the sweep will find the row
        if exc.name != f"{__package__}.processing":
            raise
        log.warning("lead_capture.processing is missing; submission %s waits for the sweep", submission_id)
        return False
    return tasks.enqueue(process_submission, str(tenant_id), str(submission_id))


def public_status(submission: Submission) -> str:
    """What a client is told, now and on a repeat: "received", whatever became of the submission since
    (processed, quarantined, discarded), so that a bot learns nothing from asking again."""
    return RECEIVED
