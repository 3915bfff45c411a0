"""Custom fields between HTML forms, pages and CSV cells, and the field types' stored values.

Only conversion lives here: turning what a browser posts or a CSV cell holds into the input the
field types expect (a checkbox into a bool, ticked boxes into a list, an empty input into "not
given"), and stored values back into form values, page text and CSV cells. Validation is the
compiled schema's job (through ``crm``), so every channel gets the same answer.

Date-times are UTC throughout: a ``datetime-local`` input has no zone, so the form says "UTC" and
the stored ``YYYY-MM-DDTHH:MM:SSZ`` value is shown and read back in UTC.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Mapping

from flask_babel import format_currency, format_date, format_datetime, format_decimal
from flask_babel import gettext as _

from . import FieldSpec, compiled, field_types, role_key_of

PREFIX = "custom."
# The HTML control of each built-in type; a type a plugin adds gets a text input unless it says
# otherwise with a ``widget`` attribute.
INPUTS = {
    "text": "text", "long_text": "textarea", "number": "number", "currency": "number", "date": "date",
    "datetime": "datetime-local", "boolean": "checkbox", "select": "select", "multi_select": "checkboxes",
    "email": "email", "phone": "tel", "url": "url", "user": "member",
}
TRUE_WORDS = {"true", "yes", "1"}
FALSE_WORDS = {"false", "no", "0"}
LIST_SEPARATOR = ";"


@dataclass(frozen=True)
class Widget:
    """How one custom field is asked for: the input's name, control and extras."""

    spec: FieldSpec
    input: str

    @property
    def name(self) -> str:
        return PREFIX + self.spec.key

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def options(self) -> list[tuple[str, str]]:
        return [(o["value"], o["label"]) for o in self.spec.options]

    @property
    def step(self) -> str:
        """The number input's step, from the field's decimal places (currencies default to 2)."""
        default = 2 if self.spec.type == "currency" else 0
        decimals = self.spec.config.get("decimals", default)
        return "1" if decimals == 0 else "0." + "0" * (decimals - 1) + "1"

    @property
    def currency(self) -> str | None:
        return self.spec.config.get("currency")

    @property
    def help(self) -> str:
        """The admin's help text, plus what the control needs said (currency, time zone)."""
        notes = [self.spec.help_text] if self.spec.help_text else []
        if self.currency:
            notes.append(_("Amount in %(code)s", code=self.currency))
        if self.input == "datetime-local":
            notes.append(_("Date and time in UTC"))
        return " · ".join(notes)


def widgets(tenant, record_type: str, member, audience: str = "staff") -> list[Widget]:
    """The fields ``member`` may see and fill in, in definition order."""
    specs = compiled(tenant, record_type, audience, role_key_of(member)).definitions
    types = field_types()
    return [Widget(s, INPUTS.get(s.type) or getattr(types.get(s.type), "widget", "text")) for s in specs]


# --- forms --------------------------------------------------------------------------------------

def from_form(form, fields_: list[Widget], editing: bool) -> dict:
    """The posted custom inputs as the ``custom`` object crm validates.

    An empty input is "not given" on create (defaults apply, required fields are reported). On
    edit it clears the value (None), except for a required field, which is left out so that the
    validator says "required" rather than "may not be null".
    """
    custom = {}
    for w in fields_:
        if w.input == "checkbox":
            # Browsers post a ticked box only; an unticked one means "no".
            custom[w.spec.key] = w.name in form
            continue
        if w.input == "checkboxes":
            value = [v for v in form.getlist(w.name) if v] or None
        else:
            if w.name not in form:
                continue  # not on the page (e.g. a field added meanwhile): leave it as it is
            value = form.get(w.name, "").strip() or None
        if value is not None:
            custom[w.spec.key] = value
        elif editing and not w.spec.required:
            custom[w.spec.key] = None
    return custom


def form_values(custom: Mapping | None, fields_: list[Widget]) -> dict[str, object]:
    """Stored values as the inputs show them: text, or a list of values for checkboxes."""
    custom = custom or {}
    values = {}
    for w in fields_:
        value = custom.get(w.spec.key)
        if value is None:
            continue
        if w.input == "checkboxes":
            values[w.name] = list(value)
        elif w.input == "checkbox":
            values[w.name] = "on" if value else ""
        elif w.input == "datetime-local":
            values[w.name] = _local_input(value)
        else:
            values[w.name] = str(value)
    return values


def posted_values(form, fields_: list[Widget]) -> dict[str, object]:
    """What was typed, to show again beside the errors."""
    values = {}
    for w in fields_:
        if w.input == "checkboxes":
            values[w.name] = form.getlist(w.name)
        elif w.name in form:
            values[w.name] = form.get(w.name, "")
    return values


def _local_input(stored: str) -> str:
    """``2026-01-31T09:30:00Z`` as a datetime-local value in UTC (seconds kept only when set)."""
    text = str(stored).rstrip("Z")
    return text[:16] if text.endswith(":00") and len(text) == 19 else text


# --- pages --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shown:
    """One value on a record page: ``kind`` says how the template shows it (always escaped)."""

    label: str
    kind: str  # empty, text, prose, link, list, time
    text: str = ""
    href: str = ""
    items: tuple = ()
    machine: str = ""  # for <time datetime=...>


def shown(custom: Mapping | None, fields_: list[Widget], member_name: Callable[[str], str]) -> list[Shown]:
    """Every field the reader may see, with its value as a person reads it (— when empty)."""
    custom = custom or {}
    return [display(w, custom.get(w.spec.key), member_name) for w in fields_]


def display(w: Widget, value, member_name: Callable[[str], str]) -> Shown:
    label = w.label
    if value is None or value == "" or value == []:
        return Shown(label, "empty")
    kind = w.spec.type
    if kind in ("select", "multi_select"):
        names = dict(w.options)
        chosen = value if isinstance(value, list) else [value]
        return Shown(label, "list", items=tuple(names.get(v, v) for v in chosen))
    if kind == "user":
        return Shown(label, "text", member_name(value))
    if kind == "url" and str(value).startswith(("https://", "http://")):
        return Shown(label, "link", str(value), str(value))
    if kind == "email":
        return Shown(label, "link", str(value), "mailto:" + str(value))
    if kind == "phone":
        return Shown(label, "link", str(value), "tel:" + str(value))
    if kind == "long_text":
        return Shown(label, "prose", str(value))
    if kind in ("date", "datetime"):
        return Shown(label, "time", as_text(w, value), machine=str(value))
    return Shown(label, "text", as_text(w, value))


def as_text(w: Widget, value, member_name: Callable[[str], str] | None = None) -> str:
    """A value as plain text in the reader's language (timelines, list cells)."""
    if value is None or value == "" or value == []:
        return "—"
    kind = w.spec.type
    try:
        if kind == "boolean":
            return _("Yes") if value else _("No")
        if kind == "currency" and w.currency:
            return format_currency(value, w.currency)
        if kind == "number":
            return format_decimal(value)
        if kind == "date":
            return format_date(dt.date.fromisoformat(value), "medium")
        if kind == "datetime":
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return format_datetime(moment, "yyyy-MM-dd HH:mm") + " UTC"
    except (ValueError, TypeError, ArithmeticError):
        return str(value)  # a value stored before a definition change: shown as stored
    if kind in ("select", "multi_select"):
        names = dict(w.options)
        return ", ".join(names.get(v, v) for v in (value if isinstance(value, list) else [value]))
    if kind == "user" and member_name is not None:
        return member_name(value)
    return str(value)


# --- CSV ----------------------------------------------------------------------------------------

def from_cell(w: Widget, cell: str):
    """A CSV cell as the field's input: ``yes``/``no``-style booleans, ``a;b`` lists, else text
    (which the validator then checks, e.g. a number)."""
    if w.spec.type == "boolean":
        word = cell.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        return cell  # reported by the validator ("Must be true or false.")
    if w.spec.type == "multi_select":
        return [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]
    return cell


def to_cell(w: Widget, value) -> str:
    """A stored value as a CSV cell that :func:`from_cell` reads back to the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return str(value)
