"""Field types: how each type of custom field validates, stores and describes its values.

A type turns a definition into a marshmallow field (the validator), checks the definition's own
``config``, and says how its values sort and filter. Stored values are plain JSON: text, numbers,
booleans, ISO dates (``YYYY-MM-DD``), UTC date-times (``YYYY-MM-DDTHH:MM:SSZ``), E.164 phone numbers,
lists of option values, member ids. Plugins add types through the ``register_field_types`` hook.
"""
from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid

import phonenumbers
import regex
from babel.numbers import list_currencies
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

MAX_VALUE_LENGTH = 10_000
MAX_OPTIONS = 200
PATTERN_TIMEOUT = 0.05  # seconds: a tenant's pattern can never hang a worker


class FieldType:
    """Base class. ``kind`` tells lists how to filter and sort: text, number, date, bool, choice, many."""

    name = ""
    label = ""
    kind = "text"
    config_schema: type[Schema] | None = None

    def field(self, definition) -> fields.Field:
        raise NotImplementedError

    def check_config(self, config: dict, options: list) -> dict:
        """Validate the definition's ``config``; return it cleaned."""
        if self.config_schema is None:
            if config:
                raise ValidationError({"config": [str(_l("This field type takes no settings."))]})
            return {}
        return self.config_schema().load(config or {})

    def json_schema(self, definition) -> dict:
        """OpenAPI (JSON Schema) description of one value."""
        return {"type": "string"}


def _opts(definition, **extra) -> dict:
    return {"required": False, "allow_none": not definition.required, **extra}


# -- text ------------------------------------------------------------------------------------------
class CleanString(fields.String):
    """Text without NUL characters or lone surrogates."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in value:
            raise ValidationError(str(_l("NUL characters are not allowed.")))
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(str(_l("Not valid Unicode text."))) from None
        return value


class TextConfig(Schema):
    max_length = fields.Integer(strict=True, validate=validate.Range(1, MAX_VALUE_LENGTH))
    pattern = CleanString(validate=validate.Length(max=500))

    @validates_schema
    def _compiles(self, data, **_kw):
        if data.get("pattern"):
            try:
                regex.compile(data["pattern"])
            except regex.error as exc:
                raise ValidationError({"pattern": [f"Not a valid pattern: {exc}"]}) from None


class PatternValidator(validate.Validator):
    def __init__(self, pattern: str):
        self.pattern = regex.compile(pattern)

    def __call__(self, value):
        try:
            matched = self.pattern.fullmatch(value, timeout=PATTERN_TIMEOUT)
        except TimeoutError:
            raise ValidationError(str(_l("The value could not be checked against the field's pattern."))) from None
        if not matched:
            raise ValidationError(str(_l("Does not match the required format.")))
        return value


class Text(FieldType):
    name, label, kind, config_schema = "text", _l("Text"), "text", TextConfig

    def field(self, definition):
        checks = [validate.Length(max=definition.config.get("max_length", MAX_VALUE_LENGTH))]
        if definition.config.get("pattern"):
            checks.append(PatternValidator(definition.config["pattern"]))
        return CleanString(validate=checks, **_opts(definition))

    def json_schema(self, definition):
        out = {"type": "string", "maxLength": definition.config.get("max_length", MAX_VALUE_LENGTH)}
        if definition.config.get("pattern"):
            out["pattern"] = definition.config["pattern"]
        return out


class LongText(Text):
    name, label, kind, config_schema = "long_text", _l("Long text"), "text", None

    def field(self, definition):
        return CleanString(validate=validate.Length(max=MAX_VALUE_LENGTH), **_opts(definition))

    def json_schema(self, definition):
        return {"type": "string", "maxLength": MAX_VALUE_LENGTH}


# -- numbers ---------------------------------------------------------------------------------------
class NumberConfig(Schema):
    min = fields.Float(allow_nan=False)
    max = fields.Float(allow_nan=False)
    decimals = fields.Integer(strict=True, validate=validate.Range(0, 6))

    @validates_schema
    def _ordered(self, data, **_kw):
        if "min" in data and "max" in data and data["min"] > data["max"]:
            raise ValidationError({"max": ["Must be at least min."]})


class CurrencyConfig(NumberConfig):
    currency = fields.String(required=True, validate=validate.OneOf(sorted(list_currencies())))


class NumberField(fields.Field):
    """A JSON number (or a numeric string from a form); stored as an int or a float."""

    def __init__(self, decimals: int, minimum=None, maximum=None, **kwargs):
        super().__init__(**kwargs)
        self.decimals, self.minimum, self.maximum = decimals, minimum, maximum

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValidationError(str(_l("Enter a number.")))
        try:
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise ValidationError(str(_l("Enter a number."))) from None
        if not number.is_finite() or abs(number) >= decimal.Decimal(10) ** 15:
            raise ValidationError(str(_l("Enter a finite number below one quadrillion.")))
        if -number.as_tuple().exponent > self.decimals and number != number.quantize(decimal.Decimal(1).scaleb(-self.decimals)):
            raise ValidationError(str(_l("Use at most %(n)s decimal places.", n=self.decimals)))
        if self.minimum is not None and number < decimal.Decimal(str(self.minimum)):
            raise ValidationError(str(_l("Must be at least %(n)s.", n=self.minimum)))
        if self.maximum is not None and number > decimal.Decimal(str(self.maximum)):
            raise ValidationError(str(_l("Must be at most %(n)s.", n=self.maximum)))
        if self.decimals == 0 or number == number.to_integral_value():
            return int(number)
        result = float(number)
        return result if math.isfinite(result) else None


class Number(FieldType):
    name, label, kind, config_schema = "number", _l("Number"), "number", NumberConfig
    default_decimals = 0

    def field(self, definition):
        c = definition.config
        return NumberField(c.get("decimals", self.default_decimals), c.get("min"), c.get("max"), **_opts(definition))

    def json_schema(self, definition):
        out = {"type": "number"}
        if "min" in definition.config:
            out["minimum"] = definition.config["min"]
        if "max" in definition.config:
            out["maximum"] = definition.config["max"]
        return out


class Currency(Number):
    name, label, kind, config_schema = "currency", _l("Currency"), "number", CurrencyConfig
    default_decimals = 2

    def json_schema(self, definition):
        return {**super().json_schema(definition), "description": f"Amount in {definition.config.get('currency')}"}


# -- dates -----------------------------------------------------------------------------------------
class DateConfig(Schema):
    min = fields.Date()
    max = fields.Date()


class DateTimeConfig(Schema):
    min = fields.AwareDateTime(default_timezone=dt.timezone.utc)
    max = fields.AwareDateTime(default_timezone=dt.timezone.utc)


class DateField(fields.Field):
    """``YYYY-MM-DD``, stored as that text (it sorts as the date does)."""

    def __init__(self, minimum=None, maximum=None, **kwargs):
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            day = dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
        except ValueError:
            day = None
        if day is None:
            raise ValidationError(str(_l("Enter a date as YYYY-MM-DD.")))
        if self.minimum and day < dt.date.fromisoformat(self.minimum):
            raise ValidationError(str(_l("Must be on or after %(d)s.", d=self.minimum)))
        if self.maximum and day > dt.date.fromisoformat(self.maximum):
            raise ValidationError(str(_l("Must be on or before %(d)s.", d=self.maximum)))
        return day.isoformat()


class DateTimeField(fields.Field):
    """ISO 8601 with an offset (none means UTC), to the second; stored as ``YYYY-MM-DDTHH:MM:SSZ``."""

    def __init__(self, minimum=None, maximum=None, **kwargs):
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            has_time = isinstance(value, str) and len(value) > 10 and value[10] in "Tt "
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if has_time else None
        except ValueError:
            moment = None
        if moment is None or not 1 <= moment.year <= 9999:
            raise ValidationError(str(_l("Enter a date and time in ISO 8601, e.g. 2026-01-31T09:30:00+08:00.")))
        if moment.microsecond:
            raise ValidationError(str(_l("Give the time to the second.")))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        try:
            moment = moment.astimezone(dt.timezone.utc)
        except OverflowError:
            raise ValidationError(str(_l("Out of range."))) from None
        text = moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"  # zero-padded years too
        if self.minimum and moment < dt.datetime.fromisoformat(self.minimum):
            raise ValidationError(str(_l("Must be on or after %(d)s.", d=self.minimum)))
        if self.maximum and moment > dt.datetime.fromisoformat(self.maximum):
            raise ValidationError(str(_l("Must be on or before %(d)s.", d=self.maximum)))
        return text


class Date(FieldType):
    name, label, kind, config_schema = "date", _l("Date"), "date", DateConfig

    def check_config(self, config, options):
        return {k: v.isoformat() for k, v in super().check_config(config, options).items()}

    def field(self, definition):
        return DateField(definition.config.get("min"), definition.config.get("max"), **_opts(definition))

    def json_schema(self, definition):
        return {"type": "string", "format": "date"}


class DateTime(FieldType):
    name, label, kind, config_schema = "datetime", _l("Date and time"), "date", DateTimeConfig

    def check_config(self, config, options):
        return {k: v.isoformat() for k, v in super().check_config(config, options).items()}

    def field(self, definition):
        return DateTimeField(definition.config.get("min"), definition.config.get("max"), **_opts(definition))

    def json_schema(self, definition):
        return {"type": "string", "format": "date-time"}


# -- choices ---------------------------------------------------------------------------------------
class StrictBoolean(fields.Boolean):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError(str(_l("Must be true or false.")))
        return value


class Boolean(FieldType):
    name, label, kind = "boolean", _l("Yes / no"), "bool"

    def field(self, definition):
        return StrictBoolean(**_opts(definition))

    def json_schema(self, definition):
        return {"type": "boolean"}


OPTION_VALUE = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$", error="Use lower-case letters, digits, _ and -, up to 64.")


class OptionSchema(Schema):
    value = fields.String(required=True, validate=OPTION_VALUE)
    label = CleanString(required=True, validate=validate.Length(1, 200))


class Select(FieldType):
    name, label, kind = "select", _l("Select"), "choice"

    def check_config(self, config, options):
        super().check_config(config, options)
        return {}

    def field(self, definition):
        values = [o["value"] for o in definition.options]
        # Lazy messages: the compiled schema is cached for every member, each reads it in their language.
        return CleanString(validate=validate.OneOf(values, error=_l("Choose one of the options.")), **_opts(definition))

    def json_schema(self, definition):
        return {"type": "string", "enum": [o["value"] for o in definition.options]}


class MultiSelect(Select):
    name, label, kind = "multi_select", _l("Multi-select"), "many"

    def field(self, definition):
        values = [o["value"] for o in definition.options]
        item = fields.String(validate=validate.OneOf(values, error=_l("Choose among the options.")))
        return UniqueList(item, validate=validate.Length(max=MAX_OPTIONS), **_opts(definition))

    def json_schema(self, definition):
        return {"type": "array", "uniqueItems": True, "items": {"type": "string", "enum": [o["value"] for o in definition.options]}}


class UniqueList(fields.List):
    def _deserialize(self, value, attr, data, **kwargs):
        items = super()._deserialize(value, attr, data, **kwargs)
        if len(set(items)) != len(items):
            raise ValidationError(str(_l("Each option at most once.")))
        return items


# -- contact details -------------------------------------------------------------------------------
class Email(FieldType):
    name, label = "email", _l("Email")

    def field(self, definition):
        return LowerDomainEmail(validate=validate.Length(max=254), **_opts(definition))

    def json_schema(self, definition):
        return {"type": "string", "format": "email", "maxLength": 254}


class LowerDomainEmail(fields.Email):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip()
        local, _, domain = value.rpartition("@")
        return f"{local}@{domain.lower()}"


class PhoneConfig(Schema):
    default_region = fields.String(validate=validate.OneOf(sorted(phonenumbers.SUPPORTED_REGIONS)))


class PhoneField(fields.Field):
    """A phone number, stored in E.164 (``+8613800138000``)."""

    def __init__(self, region: str | None, **kwargs):
        super().__init__(**kwargs)
        self.region = region

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError(str(_l("Enter a phone number.")))
        try:
            number = phonenumbers.parse(value, self.region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValidationError(str(_l("Enter a valid phone number with its country code, e.g. +86 138 0013 8000.")))
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Phone(FieldType):
    name, label, config_schema = "phone", _l("Phone"), PhoneConfig

    def field(self, definition):
        return PhoneField(definition.config.get("default_region"), **_opts(definition))

    def json_schema(self, definition):
        return {"type": "string", "pattern": r"^\+[1-9]\d{1,14}$", "description": "E.164"}


class Url(FieldType):
    name, label = "url", _l("Web address")

    def field(self, definition):
        return fields.URL(schemes={"http", "https"}, validate=validate.Length(max=2000), **_opts(definition))

    def json_schema(self, definition):
        return {"type": "string", "format": "uri", "maxLength": 2000}


class MemberField(fields.UUID):
    """A member of this tenant (their membership id); the record service checks it exists."""

    def _deserialize(self, value, attr, data, **kwargs):
        return str(super()._deserialize(value, attr, data, **kwargs))


class User(FieldType):
    name, label, kind = "user", _l("Member"), "choice"

    def field(self, definition):
        return MemberField(**_opts(definition))

    def json_schema(self, definition):
        return {"type": "string", "format": "uuid"}


BUILTIN_TYPES = [Text(), LongText(), Number(), Currency(), Date(), DateTime(), Boolean(), Select(), MultiSelect(),
                 Email(), Phone(), Url(), User()]


def is_member_id(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
