"""Form definitions: what a lead form asks and how its leads are routed, validated once for the admin
pages and the API.

``validate_form`` checks a whole definition (a PATCH is merged over the stored form first, so a change
can never leave a rule pointing at a removed field) and answers errors keyed by the bad input:
``slug``, ``fields.2.key``, ``rules.0.owner_id``, ``notify_emails.3``. ``create_form``,
``update_form`` and ``delete_form`` write validated values, audited as ``lead_forms`` records;
callers commit.

``askable_fields`` is the list of fields a form may ask: the core lead fields and the custom lead
fields shown in forms; ``asked_fields`` resolves one form's rows for rendering.
"""
from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, post_load, pre_load, validate
from marshmallow import fields as ma
from sqlalchemy import func, select

from rapport import audit
from rapport.db import db
from rapport.fields import FieldSpec, compiled
from rapport.fields.types import LowerDomainEmail, StrictBoolean
from rapport.models import Membership

from .models import ASSIGNMENT_MODES, LeadForm, Submission

# -- what a form may ask ---------------------------------------------------------------------------
# Core lead fields a form may ask, with the input the hosted page uses. ``message`` is not a lead
# column: processing turns it into a note on the lead.
CORE_FIELDS = {
    "name": (_l("Name"), "text"),
    "email": (_l("Email"), "email"),
    "phone": (_l("Phone"), "tel"),
    "company": (_l("Company"), "text"),
    "message": (_l("Message"), "textarea"),
}
CONTACT_KEYS = ("email", "phone")  # a lead nobody can answer is no lead: one of them must be asked
CUSTOM_PREFIX = "custom."
RECORD_TYPE = "leads"
AUDIENCE = "forms"

MAX_FIELDS = 100
MAX_NOTIFY = 20
MAX_ORIGINS = 50
MAX_RULES = 100
MAX_ASSIGNEES = 200
MAX_RULE_VALUES = 100
RULE_OPS = ("eq", "in", "contains")
DEFAULT_LEAD_SOURCE = "web form"
DEFAULT_MIN_FILL_SECONDS = 3
MAX_FOLLOW_UP_MINUTES = 7 * 24 * 60
AUDIT_RECORD_TYPE = "lead_forms"

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HOST_NAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
DEFAULT_PORTS = {"http": 80, "https": 443}

# The settings a client may send, in the order the API shows them.
SETTINGS = (
    "slug", "name", "fields", "consent_text", "thank_you_message", "redirect_url", "notify_emails",
    "lead_source", "published", "allowed_origins", "assignment_mode", "assignees", "rules",
    "default_owner_id", "follow_up_minutes", "min_fill_seconds",
)


@dataclass(frozen=True)
class AskableField:
    """A field a form may ask. ``input`` is an HTML input type (text, email, tel, textarea) for core
    fields; ``custom`` holds the definition of a custom field (its type, options, help)."""

    key: str
    label: str
    input: str
    custom: FieldSpec | None = None


@dataclass(frozen=True)
class AskedField:
    """One row of a form, resolved: the label shown (the form's override, else the field's own)."""

    key: str
    label: str
    required: bool
    field: AskableField


def askable_fields(tenant) -> dict[str, AskableField]:
    """Every field a form of ``tenant`` may ask, by key, in the order a builder lists them."""
    found = {key: AskableField(key, str(label), kind) for key, (label, kind) in CORE_FIELDS.items()}
    for spec in compiled(tenant, RECORD_TYPE, AUDIENCE).definitions:
        key = CUSTOM_PREFIX + spec.key
        found[key] = AskableField(key, spec.label, spec.type, spec)
    return found


def asked_fields(tenant, form: LeadForm) -> list[AskedField]:
    """The form's rows that can still be asked (a custom field archived or hidden from forms since
    the form was saved is left out), with their labels resolved."""
    available = askable_fields(tenant)
    return [
        AskedField(row["key"], row.get("label") or available[row["key"]].label, bool(row.get("required")),
                   available[row["key"]])
        for row in form.fields or () if row.get("key") in available
    ]


def hosted_path(tenant, form_slug: str) -> str:
    return f"/t/{tenant.slug}/f/{form_slug}"


def hosted_url(tenant, form_slug: str) -> str:
    return current_app.config.get("BASE_URL", "").rstrip("/") + hosted_path(tenant, form_slug)


# -- allowed origins ---------------------------------------------------------------------------------
def normalise_origin(raw: str) -> str:
    """``raw`` as a browser writes it in an ``Origin`` header (``scheme://host[:port]``, lower case,
    no default port, international names in punycode); ``ValueError`` with the reason otherwise.
    The public side compares request origins with the stored ones through the same function."""
    text = raw.strip().lower()
    if text.endswith("/"):
        text = text[:-1]  # a pasted "https://example.com/" means the same site
    parts = urlsplit(text)
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(_("Start with http:// or https://, e.g. https://www.example.com."))
    if parts.path or parts.query or parts.fragment or "?" in text or "#" in text or "@" in parts.netloc \
            or not parts.hostname:
        raise ValueError(_("Give only the scheme, the host and an optional port, e.g. https://www.example.com."))
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(_("The port must be a number from 1 to 65535."))
    host = _origin_host(parts.hostname)
    if port in (None, DEFAULT_PORTS[parts.scheme]):
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def _origin_host(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    if not HOST_NAME.match(ascii_host):
        raise ValueError(_("This is not a valid host name."))
    return ascii_host


class OriginField(ma.String):
    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return normalise_origin(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


# -- the schema --------------------------------------------------------------------------------------
def member_id_field(**options) -> ma.UUID:
    """A member's id; a blank or malformed one reads as "choose a member" in the builder."""
    message = _l("Choose an active member of this workspace.")
    return ma.UUID(error_messages={"invalid_uuid": message, "null": message, "required": message}, **options)


class CleanSchema(Schema):
    """Strips text, refuses NUL characters; blank inputs named in ``BLANK_IS_NONE`` mean "none"."""

    BLANK_IS_NONE: tuple[str, ...] = ()

    @pre_load
    def _clean(self, data, **_kwargs):
        if not isinstance(data, dict):
            raise ValidationError(_("Send an object."), field_name="_schema")
        cleaned = {}
        for key, value in data.items():
            if isinstance(value, str):
                if "\x00" in value:
                    raise ValidationError(_("NUL characters are not allowed."), field_name=key)
                value = value.strip()
                if value == "" and key in self.BLANK_IS_NONE:
                    value = None
            cleaned[key] = value
        return cleaned


class LeadFormFieldIn(CleanSchema):
    """One asked field: ``label`` None shows the field's own label."""

    BLANK_IS_NONE = ("label",)

    key = ma.String(required=True)
    label = ma.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    required = StrictBoolean(load_default=False)


class LeadFormRuleIn(CleanSchema):
    """One routing rule; the value's shape depends on ``op`` (checked in ``validate_form``)."""

    field = ma.String(required=True)
    op = ma.String(required=True, validate=validate.OneOf(RULE_OPS, error=_l("Choose one of: eq, in, contains.")))
    value = ma.Raw(required=True, allow_none=True)
    owner_id = member_id_field(required=True)


class LeadFormIn(CleanSchema):
    """A whole form definition; the API documents its input with this schema."""

    BLANK_IS_NONE = ("consent_text", "redirect_url", "default_owner_id", "follow_up_minutes", "lead_source",
                     "min_fill_seconds")

    slug = ma.String(required=True, validate=[
        validate.Length(1, 64),
        validate.Regexp(SLUG, error=_l("Use lower-case letters, digits and hyphens (not at the start or end).")),
    ])
    name = ma.String(required=True, validate=validate.Length(1, 200))
    # "fields" names a Schema attribute, hence another attribute name for the input "fields".
    asked = ma.List(ma.Nested(LeadFormFieldIn), required=True, data_key="fields",
                    validate=validate.Length(1, MAX_FIELDS))
    consent_text = ma.String(load_default=None, allow_none=True, validate=validate.Length(max=5000),
                                 metadata={"description": "A consent checkbox's text; a change bumps consent_version."})
    thank_you_message = ma.String(load_default="", allow_none=True, validate=validate.Length(max=5000))
    redirect_url = ma.URL(load_default=None, allow_none=True, schemes={"http", "https"}, require_tld=False,
                              validate=validate.Length(max=500))
    notify_emails = ma.List(LowerDomainEmail(validate=validate.Length(max=254)), load_default=list,
                                validate=validate.Length(max=MAX_NOTIFY))
    lead_source = ma.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    published = StrictBoolean(load_default=False)
    allowed_origins = ma.List(OriginField(), load_default=list, validate=validate.Length(max=MAX_ORIGINS))
    assignment_mode = ma.String(load_default="manual", validate=validate.OneOf(
        ASSIGNMENT_MODES, error=_l("Choose one of: manual, round_robin, rules.")))
    assignees = ma.List(member_id_field(), load_default=list, validate=validate.Length(max=MAX_ASSIGNEES))
    rules = ma.List(ma.Nested(LeadFormRuleIn), load_default=list, validate=validate.Length(max=MAX_RULES))
    default_owner_id = member_id_field(load_default=None, allow_none=True)
    follow_up_minutes = ma.Integer(strict=True, load_default=None, allow_none=True,
                                       validate=validate.Range(1, MAX_FOLLOW_UP_MINUTES))
    min_fill_seconds = ma.Integer(strict=True, load_default=DEFAULT_MIN_FILL_SECONDS, allow_none=True,
                                  validate=validate.Range(0, 5))

    @post_load
    def _defaults(self, data, **_kwargs):
        data = _renamed(data)
        if data.get("lead_source") is None:
            data["lead_source"] = DEFAULT_LEAD_SOURCE
        if data.get("thank_you_message") is None:
            data["thank_you_message"] = ""
        if data.get("min_fill_seconds") is None:
            data["min_fill_seconds"] = DEFAULT_MIN_FILL_SECONDS
        return data


def _renamed(data: dict) -> dict:
    if "asked" in data:
        data["fields"] = data.pop("asked")
    return data


# -- validation --------------------------------------------------------------------------------------
def flat_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages keyed by dotted paths: ``{"fields": {2: {"key": [..]}}}``
    becomes ``{"fields.2.key": [..]}``."""
    if isinstance(messages, dict):
        found = {}
        for key, value in messages.items():
            path = prefix if key == "_schema" and prefix else (f"{prefix}.{key}" if prefix else str(key))
            for name, reasons in flat_errors(value, path).items():
                found.setdefault(name, []).extend(reasons)
        return found
    if isinstance(messages, (list, tuple)):
        if all(isinstance(m, (dict, list, tuple)) for m in messages) and messages:
            found = {}
            for item in messages:
                for name, reasons in flat_errors(item, prefix).items():
                    found.setdefault(name, []).extend(reasons)
            return found
        return {prefix or "_schema": [str(m) for m in messages]}
    return {prefix or "_schema": [str(messages)]}


def current_settings(form: LeadForm) -> dict:
    """The stored form as input: what a PATCH is merged over."""
    return {key: value for key, value in dump_form(form).items() if key in SETTINGS}


def validate_form(tenant, raw, form: LeadForm | None = None) -> dict:
    """The column values of a form from ``raw`` (a whole definition, or for an existing ``form`` the
    settings to change). Raises ``ValidationError`` with every problem, keyed by dotted paths."""
    if not isinstance(raw, dict):
        raise ValidationError({"_schema": [_("Send an object.")]})
    data = {**current_settings(form), **raw} if form is not None else raw
    errors: dict[str, list[str]] = {}
    try:
        values = LeadFormIn().load(data)
    except ValidationError as exc:
        errors = flat_errors(exc.messages)
        values = _renamed(dict(exc.valid_data or {}))
    # Rows are checked one by one, so that one bad row does not hide the problems of the others.
    checked = Checked(tenant, values, errors, form, _rows(data.get("fields"), LeadFormFieldIn),
                      _rows(data.get("rules"), LeadFormRuleIn), _member_ids(data.get("assignees")))
    for check in (_check_slug, _check_fields, _check_rules, _check_members, _check_assignment):
        for name, reasons in check(checked).items():
            errors.setdefault(name, []).extend(reasons)
    if errors:
        raise ValidationError(errors)
    values["rules"] = checked.rules  # their values normalised by _check_rules
    return _stored(values)


@dataclass
class Checked:
    """What the checks that need the tenant look at: the schema's values and errors, and the rows
    as loaded one by one (a row with errors keeps the inputs that were valid)."""

    tenant: object
    values: dict
    errors: dict
    form: LeadForm | None
    fields: list[dict]
    rules: list[dict]
    assignees: list[uuid.UUID | None]

    def bad(self, *names: str) -> bool:
        """Whether the schema already refused one of ``names`` (or something inside it)."""
        return any(key == name or key.startswith(name + ".") for key in self.errors for name in names)


def _rows(raw, schema_cls) -> list[dict]:
    if not isinstance(raw, list):
        return []
    rows = []
    for item in raw:
        try:
            rows.append(schema_cls().load(item))
        except ValidationError as exc:
            rows.append(exc.valid_data if isinstance(exc.valid_data, dict) else {})
    return rows


def _member_ids(raw) -> list[uuid.UUID | None]:
    found = []
    for item in raw if isinstance(raw, list) else ():
        try:
            found.append(uuid.UUID(str(item)))
        except ValueError:
            found.append(None)
    return found


def _check_slug(c: Checked) -> dict:
    if c.bad("slug") or "slug" not in c.values:
        return {}
    stmt = select(func.count()).select_from(LeadForm).where(LeadForm.slug == c.values["slug"])
    if c.form is not None:
        stmt = stmt.where(LeadForm.id != c.form.id)
    if db.session.scalar(stmt):
        return {"slug": [_("Another form of this workspace already uses this address.")]}
    return {}


def _check_fields(c: Checked) -> dict:
    available = askable_fields(c.tenant)
    found: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for index, row in enumerate(c.fields):
        key = row.get("key")
        if key is None:
            continue
        if key not in available:
            found[f"fields.{index}.key"] = [_("Choose a core field (name, email, phone, company, message) or a "
                                              "custom lead field shown in forms (custom.<key>).")]
        elif key in seen:
            found[f"fields.{index}.key"] = [_("This field is already asked (row %(row)d).", row=seen[key] + 1)]
        else:
            seen[key] = index
    if "fields" in c.errors:
        return found  # the list itself was refused (missing, empty, too long): nothing more to say
    if not any(key in seen for key in CONTACT_KEYS):
        found.setdefault("fields", []).append(_("Ask for an email address or a phone number (or both)."))
    for key, spec in ((k, f.custom) for k, f in available.items() if f.custom is not None):
        if not spec.required or spec.default is not None:
            continue
        if key not in seen:
            found.setdefault("fields", []).append(
                _("Ask %(label)s (%(key)s): every lead needs it.", label=spec.label, key=key))
        elif c.fields[seen[key]].get("required") is False:
            found[f"fields.{seen[key]}.required"] = [_("Every lead needs this field: mark it required.")]
    return found


def _check_rules(c: Checked) -> dict:
    asked = {row.get("key") for row in c.fields}
    available = askable_fields(c.tenant)
    found: dict[str, list[str]] = {}
    for index, rule in enumerate(c.rules):
        field = rule.get("field")
        if field is not None and not c.bad("fields") and field not in asked:
            found[f"rules.{index}.field"] = [_("Choose one of the fields this form asks.")]
        if "op" in rule and "value" in rule:
            try:
                rule["value"] = _rule_value(rule["op"], rule["value"], available.get(field))
            except ValueError as exc:
                found[f"rules.{index}.value"] = [str(exc)]
    return found


def _rule_value(op: str, value, field: AskableField | None):
    """Rule values are text (``in``: a list of texts); for select fields, option values."""
    if op == "in":
        if not isinstance(value, list) or not value or len(value) > MAX_RULE_VALUES:
            raise ValueError(_("Give a list of 1 to %(max)d values.", max=MAX_RULE_VALUES))
        items = [_rule_text(item) for item in value]
    else:
        items = [_rule_text(value)]
    options = field.custom.options if field is not None and field.custom is not None else ()
    if options and op != "contains":
        allowed = {option["value"] for option in options}
        unknown = [item for item in items if item not in allowed]
        if unknown:
            raise ValueError(_("Not an option of this field: %(values)s.", values=", ".join(unknown)))
    return items if op == "in" else items[0]


def _rule_text(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 200 or "\x00" in value:
        raise ValueError(_("Give a text of 1 to 200 characters."))
    return value.strip()


def _active_members(ids: set[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    stmt = select(Membership.id).where(Membership.id.in_(ids), Membership.status == "active")
    return set(db.session.scalars(stmt))


def _check_members(c: Checked) -> dict:
    """Assignees, rule owners and the default owner are active members of this tenant."""
    named = [(f"assignees.{i}", member_id) for i, member_id in enumerate(c.assignees) if member_id is not None]
    named += [(f"rules.{i}.owner_id", rule["owner_id"]) for i, rule in enumerate(c.rules) if "owner_id" in rule]
    if c.values.get("default_owner_id") is not None:
        named.append(("default_owner_id", c.values["default_owner_id"]))
    active = _active_members({member_id for _key, member_id in named})
    message = _("Choose an active member of this workspace.")
    found = {key: [message] for key, member_id in named if member_id not in active}
    seen = set()
    for index, member_id in enumerate(c.assignees):
        if member_id is not None and member_id in seen and f"assignees.{index}" not in found:
            found[f"assignees.{index}"] = [_("This member is already in the list.")]
        seen.add(member_id)
    return found


def _check_assignment(c: Checked) -> dict:
    mode = c.values.get("assignment_mode")
    if mode == "round_robin" and not c.assignees and not c.bad("assignees"):
        return {"assignees": [_("Round-robin needs at least one member to take turns.")]}
    if mode == "rules" and not c.rules and not c.bad("rules"):
        return {"rules": [_("Add at least one rule, or choose another assignment mode.")]}
    return {}


def _stored(values: dict) -> dict:
    """Validated values as columns: JSON lists hold ids as strings; duplicates dropped where harmless."""
    stored = dict(values)
    stored["notify_emails"] = _unique(values["notify_emails"], key=str.lower)
    stored["allowed_origins"] = _unique(values["allowed_origins"])
    stored["assignees"] = [str(member_id) for member_id in values["assignees"]]
    stored["rules"] = [{**rule, "owner_id": str(rule["owner_id"])} for rule in values["rules"]]
    stored["fields"] = [{"key": row["key"], "label": row["label"], "required": row["required"]}
                        for row in values["fields"]]
    return stored


def _unique(items, key=lambda item: item) -> list:
    seen, kept = set(), []
    for item in items:
        if key(item) not in seen:
            seen.add(key(item))
            kept.append(item)
    return kept


# -- writing -----------------------------------------------------------------------------------------
class FormInUse(Exception):
    """The form still has submissions waiting for processing or review; deleting would lose them."""

    def __init__(self, waiting: int, quarantined: int):
        super().__init__(f"{waiting} waiting, {quarantined} quarantined")
        self.waiting, self.quarantined = waiting, quarantined


def create_form(values: dict, actor) -> LeadForm:
    """A new form from ``validate_form``'s values (the tenant is the active one)."""
    form = LeadForm(**values, consent_version=1 if values.get("consent_text") else 0)
    db.session.add(form)
    db.session.flush()
    created = {key: (None, value) for key, value in values.items() if value not in (None, [], "")}
    audit.log(actor, "create", AUDIT_RECORD_TYPE, form.id, created)
    return form


def update_form(form: LeadForm, values: dict, actor) -> dict:
    """Apply ``validate_form``'s values; a new consent text gets a new version (the old text stays
    with the submissions that agreed to it). Returns the changes, ``{column: (old, new)}``."""
    changes = {key: (getattr(form, key), value) for key, value in values.items() if getattr(form, key) != value}
    if not changes:
        return {}
    for key, (_old, new) in changes.items():
        setattr(form, key, new)
    if "consent_text" in changes and form.consent_text is not None:
        changes["consent_version"] = (form.consent_version, form.consent_version + 1)
        form.consent_version += 1
    db.session.flush()
    audit.log(actor, "update", AUDIT_RECORD_TYPE, form.id, changes)
    return changes


def submission_counts(form_ids=None) -> dict[uuid.UUID, dict[str, int]]:
    """``{form id: {status: count}}`` for the active tenant's forms (all, or those in ``form_ids``)."""
    stmt = select(Submission.form_id, Submission.status, func.count()).group_by(Submission.form_id, Submission.status)
    if form_ids is not None:
        stmt = stmt.where(Submission.form_id.in_(list(form_ids)))
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for form_id, status, count in db.session.execute(stmt):
        counts.setdefault(form_id, {})[status] = count
    return counts


def delete_form(form: LeadForm, actor) -> None:
    """Delete the form and its settled submissions (the leads stay). Refused with ``FormInUse``
    while submissions wait for processing or sit in quarantine: nothing is dropped unseen."""
    counts = submission_counts([form.id]).get(form.id, {})
    waiting, quarantined = counts.get("received", 0), counts.get("quarantined", 0)
    if waiting or quarantined:
        raise FormInUse(waiting, quarantined)
    snapshot = {key: (value, None) for key, value in current_settings(form).items() if value not in (None, [], "")}
    form_id = form.id
    db.session.delete(form)
    db.session.flush()
    audit.log(actor, "delete", AUDIT_RECORD_TYPE, form_id, snapshot)


def load_form(form_id: uuid.UUID) -> LeadForm | None:
    """The active tenant's form with this id (another tenant's ids find nothing)."""
    return db.session.scalar(select(LeadForm).where(LeadForm.id == form_id))


def list_forms() -> list[LeadForm]:
    return list(db.session.scalars(select(LeadForm).order_by(LeadForm.name, LeadForm.slug)))


# -- reading -----------------------------------------------------------------------------------------
def _iso(value):
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        return value.isoformat() + "+00:00"
    return value.isoformat()


def dump_form(form: LeadForm) -> dict:
    """The form as the API shows it (JSON-safe)."""
    return {
        "id": str(form.id),
        "slug": form.slug,
        "name": form.name,
        "fields": [dict(row) for row in form.fields or ()],
        "consent_text": form.consent_text,
        "consent_version": form.consent_version or 0,
        "thank_you_message": form.thank_you_message or "",
        "redirect_url": form.redirect_url,
        "notify_emails": list(form.notify_emails or ()),
        "lead_source": form.lead_source,
        "published": bool(form.published),
        "allowed_origins": list(form.allowed_origins or ()),
        "assignment_mode": form.assignment_mode,
        "assignees": list(form.assignees or ()),
        "rules": [dict(rule) for rule in form.rules or ()],
        "default_owner_id": str(form.default_owner_id) if form.default_owner_id else None,
        "follow_up_minutes": form.follow_up_minutes,
        "min_fill_seconds": form.min_fill_seconds if form.min_fill_seconds is not None else DEFAULT_MIN_FILL_SECONDS,
        "created_at": _iso(form.created_at),
        "updated_at": _iso(form.updated_at),
    }
