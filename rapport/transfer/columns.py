"""The CSV columns of each record type, shared by import and export so that an export imports back.

Columns come from the record's input schema (the one validator), so a field added there becomes a
column here; each custom field the reader sees adds a ``custom.<key>`` column. References are written by name instead of id: ``account`` holds an account's name and
``owner`` a member's email.
"""
from __future__ import annotations

from .. import crm
from ..fields import forms as custom_forms
from ..schemas import INPUT_SCHEMAS

RECORD_TYPES = ("accounts", "contacts", "leads")

# CSV column -> the record field it fills once resolved
REFERENCE_COLUMNS = {"account": "account_id", "owner": "owner_id"}
# Fields that are not plain CSV values: references by id (written by name above) and custom JSON
_NOT_COLUMNS = {"owner_id", "account_id", "contact_id", "custom"}

# OWASP CSV injection: a spreadsheet runs a cell starting with one of these as a formula
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def columns(record_type: str) -> tuple[str, ...]:
    declared = INPUT_SCHEMAS[record_type]._declared_fields
    plain = [name for name in declared if name not in _NOT_COLUMNS]
    refs = [column for column, field in REFERENCE_COLUMNS.items() if field in declared]
    return tuple(plain + refs)


def custom_fields(record_type: str, member) -> list[custom_forms.Widget]:
    """The custom fields the member sees (the operator, with no member: every staff field), each a
    ``custom.<key>`` column."""
    return custom_forms.widgets(crm.current_tenant(), record_type, member)


def required_columns(record_type: str) -> tuple[str, ...]:
    return tuple(name for name, f in INPUT_SCHEMAS[record_type]._declared_fields.items() if f.required)


def field_of(column: str) -> str:
    return REFERENCE_COLUMNS.get(column, column)


def column_of(field: str) -> str:
    for column, ref_field in REFERENCE_COLUMNS.items():
        if ref_field == field:
            return column
    return field


def _looks_like_formula(value: str) -> bool:
    return value.lstrip("'").startswith(FORMULA_PREFIXES)


def escape_formula(value: str) -> str:
    """Prefix a quote so a spreadsheet shows the cell as text.

    Leading quotes count too (``'=x`` becomes ``''=x``), so :func:`unescape_formula` restores every
    value exactly and an export imports back unchanged.
    """
    return "'" + value if _looks_like_formula(value) else value


def unescape_formula(value: str) -> str:
    return value[1:] if value.startswith("'") and _looks_like_formula(value) else value
