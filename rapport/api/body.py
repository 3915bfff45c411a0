"""Reading a JSON request body: 415 for another media type, 400 for malformed JSON, and nothing the
database would choke on (NaN, Infinity, lone surrogates, NUL characters) gets past this point."""
from __future__ import annotations

import json
import math

from flask import request
from flask_babel import gettext as _
from marshmallow import ValidationError

from .errors import ApiProblem


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def json_body():
    """The parsed body of a JSON request (the request's size limit applies first: 413)."""
    if not _is_json(request.mimetype):
        raise ApiProblem(415, _("Unsupported media type"), _("Send the body as application/json."))
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constants, parse_float=_finite)
    except UnicodeDecodeError:
        raise _malformed(_("it is not UTF-8")) from None
    except RecursionError:
        raise _malformed(_("it is nested too deeply")) from None
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, numbers out of range
        raise _malformed(str(exc)) from None
    if isinstance(data, dict):
        _check_text(data)
    return data


def _malformed(reason: str) -> ApiProblem:
    return ApiProblem(400, _("Malformed JSON"), _("The body is not valid JSON: %(reason)s.", reason=reason))


def _check_text(data: dict) -> None:
    """Refuse text that no database column can hold, naming the field it came in."""
    errors = {}
    for key, value in data.items():
        name = key if _printable(key) else "_schema"
        # An object's fields are named one level down (custom.code), the way the validator names them.
        items = value.items() if isinstance(value, dict) and name == key else [(None, value)]
        for inner, item in items:
            try:
                _walk(inner)
                _walk(item)
            except (ValueError, RecursionError):
                where = f"{name}.{inner}" if inner is not None and _printable(inner) else name
                errors[where] = [_("Text must be valid Unicode without NUL characters.")]
    if errors:
        raise ValidationError(errors)


def _walk(value) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("NUL")
        value.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError (a ValueError)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(key)
            _walk(item)
    elif isinstance(value, list):
        for item in value:
            _walk(item)


def _printable(key: str) -> bool:
    try:
        _walk(key)
    except ValueError:
        return False
    return True
