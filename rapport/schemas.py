"""Input schemas for the customer record: the one validator used by the web UI, the API and CSV import."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from .models.records import ACTIVITY_KINDS, STAGES

PHONE = validate.Regexp(r"^\+?[0-9 ()./-]{3,40}$", error=_l("Enter a phone number: digits, spaces, + ( ) . / -"))


def _text(max_length: int, required: bool = False) -> fields.String:
    return fields.String(
        required=required,
        allow_none=not required,
        validate=validate.Length(min=1 if required else 0, max=max_length),
    )


class UTCDateTime(fields.AwareDateTime):
    """An aware date-time, stored in UTC: SQLite keeps no offset, so 10:00+02:00 must be saved as 08:00."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(dt.timezone.utc)
        except OverflowError:  # 0001-01-01T00:00+00:01 is before year 1 in UTC
            raise ValidationError(_("Out of range.")) from None


class Amount(fields.Decimal):
    """A decimal that is 0 or more. Rounding to ``places`` comes first, and turns -0.001 into -0.00,
    which passes ``Range(min=0)``: the sign is checked after it, so a negative amount never passes."""

    def _deserialize(self, value, attr, data, **kwargs):
        number = super()._deserialize(value, attr, data, **kwargs)
        if number is not None and number.is_signed():
            raise ValidationError(_("Must be at least %(n)s.", n=0))
        return number


def _check_length_as_sent(field, key: str, value: str) -> None:
    """A text field's maximum length holds for the text as sent, as the API documents it (maxLength):
    surrounding spaces, stripped afterwards, do not buy room for more."""
    for validator in getattr(field, "validators", ()):
        if isinstance(validator, validate.Length) and validator.max is not None and len(value) > validator.max:
            try:
                validate.Length(max=validator.max)(value)  # its own message; a minimum applies after stripping
            except ValidationError as exc:
                raise ValidationError(exc.messages, field_name=key) from None


class RecordIn(Schema):
    """Strips text, turns empty strings into 'not given', and refuses unknown fields."""

    owner_id = fields.UUID(allow_none=True)
    custom = fields.Dict(keys=fields.String(), load_default=None)

    @pre_load
    def _clean(self, data, **_kwargs):
        if not isinstance(data, dict):
            raise ValidationError(_("Send a JSON object."), field_name="_schema")
        cleaned = {}
        for key, value in data.items():
            if isinstance(value, str):
                _check_length_as_sent(self.fields.get(key), key, value)
                value = value.strip()
                if "\x00" in value:
                    raise ValidationError(_("NUL characters are not allowed."), field_name=key)
                if value == "":
                    value = None
            cleaned[key] = value
        return cleaned


class AccountIn(RecordIn):
    name = _text(200, required=True)
    website = fields.URL(schemes={"http", "https"}, allow_none=True, validate=validate.Length(max=500))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=PHONE)
    industry = _text(100)


class ContactIn(RecordIn):
    first_name = _text(100)
    last_name = _text(100)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=PHONE)
    title = _text(100)
    account_id = fields.UUID(allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _needs_a_name(self, data, partial=False, **_kwargs):
        if partial:
            return
        if not data.get("first_name") and not data.get("last_name"):
            raise ValidationError(_("Give a first or last name."), field_name="last_name")

    @post_load
    def _names_not_null(self, data, **_kwargs):
        # The name columns are NOT NULL (default ""): a cleared name is stored as "", not None.
        for key in ("first_name", "last_name"):
            if key in data and data[key] is None:
                data[key] = ""
        return data


class LeadIn(RecordIn):
    name = _text(200, required=True)
    company = _text(200)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=PHONE)
    stage = fields.String(validate=validate.OneOf(STAGES))
    source = _text(100)
    value = Amount(
        places=2, allow_none=True, as_string=True, allow_nan=False,
        validate=validate.Range(min=0, max=999_999_999_999),
    )
    account_id = fields.UUID(allow_none=True)
    contact_id = fields.UUID(allow_none=True)


class ActivityIn(RecordIn):
    class Meta:
        exclude = ("custom",)  # activities have no custom column: refuse the field instead of a 500

    kind = fields.String(required=True, validate=validate.OneOf(ACTIVITY_KINDS))
    subject = _text(200, required=True)
    body = fields.String(allow_none=True, validate=validate.Length(max=10_000))
    due_at = UTCDateTime(allow_none=True, default_timezone=None)
    done_at = UTCDateTime(allow_none=True)
    account_id = fields.UUID(allow_none=True)
    contact_id = fields.UUID(allow_none=True)
    lead_id = fields.UUID(allow_none=True)

    @post_load
    def _body_not_null(self, data, **_kwargs):
        # The body column is NOT NULL (default ""): a cleared body is stored as "", not None.
        if "body" in data and data["body"] is None:
            data["body"] = ""
        return data


INPUT_SCHEMAS = {"accounts": AccountIn, "contacts": ContactIn, "leads": LeadIn, "activities": ActivityIn}
