"""Record lists: search, filters, sortable columns and keyset paging, all through ``listing``.

A page costs one query for its rows plus a fixed number of look-ups (members, referenced titles),
whatever its length and however deep the cursor: no N+1.
"""
from __future__ import annotations

import datetime as dt

from flask import g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from .. import listing
from ..fields import forms as custom_forms
from . import forms, lookups
from .record_types import KIND_LABELS, RECORD_TYPES, REFERENCE_TYPES, STAGE_LABELS, Column, RecordType

# The list form speaks in dates a person picks ("created from / to", both inclusive); listing takes
# instants (``created_after`` inclusive, ``created_before`` exclusive).
DATE_PARAMS = {"created_from": "created_after", "created_to": "created_before"}
LISTING_TO_UI = {v: k for k, v in DATE_PARAMS.items()}
PARAM_LABELS = {
    "q": _l("Search"),
    "owner": _l("Owner"),
    "stage": _l("Stage"),
    "kind": _l("Kind"),
    "created_from": _l("Created from"),
    "created_to": _l("Created to"),
    "sort": _l("Sort"),
    "cursor": _l("Page"),
    "limit": _l("Rows per page"),
    "account_id": _l("Account"),
    "contact_id": _l("Contact"),
    "lead_id": _l("Lead"),
}


# Custom-field filters: the control each kind of field gets, and the listing operators it uses.
CUSTOM_OPERATORS = ("", "__in", "__gte", "__lte", "__contains", "__empty")
MAX_CUSTOM_COLUMNS = 3


def ui_params(rtype: RecordType, custom: list | None = None) -> dict[str, str]:
    """The list's own query parameters that were given (others, e.g. tracking tags, are ignored).

    Custom-field parameters pass only for the member's filterable fields, with listing's operators;
    ``listing`` validates their values against the definitions."""
    names = (listing.allowed_params(rtype.key) - set(LISTING_TO_UI)) | set(DATE_PARAMS)
    names |= {w.name + op for w in custom or () for op in CUSTOM_OPERATORS}
    return {name: value for name in sorted(names) if (value := request.args.get(name, "").strip())}


def filterable(rtype: RecordType) -> list[custom_forms.Widget]:
    return [w for w in forms.custom_widgets(rtype) if w.spec.filterable]


def custom_filter(w: custom_forms.Widget, members: list) -> dict:
    """The control of one filterable custom field: its kind and what it needs to render."""
    kind = w.spec.type
    if kind in ("select", "multi_select"):
        return {"widget": w, "control": "select", "options": w.options}
    if kind == "user":
        return {"widget": w, "control": "select", "options": members}
    if kind == "boolean":
        return {"widget": w, "control": "select", "options": [("true", _("Yes")), ("false", _("No"))]}
    if kind in ("number", "currency"):
        return {"widget": w, "control": "range", "input": "number", "step": w.step}
    if kind in ("date", "datetime"):
        return {"widget": w, "control": "range", "input": "date" if kind == "date" else "datetime-local", "step": ""}
    return {"widget": w, "control": "contains"}


def custom_columns(custom: list) -> tuple[Column, ...]:
    """Up to three filterable custom fields as sortable list columns."""
    return tuple(Column(w.name, w.label, w.name) for w in custom[:MAX_CUSTOM_COLUMNS])


def custom_cells(page, custom: list, people: lookups.People) -> dict:
    """(record id, column) -> the value as text, for the custom columns of this page."""
    shown = custom[:MAX_CUSTOM_COLUMNS]
    if not shown:
        return {}

    def member_name(value) -> str:
        return people.name(lookups.as_uuid(value))

    return {(r.id, w.name): custom_forms.as_text(w, (r.custom or {}).get(w.spec.key), member_name)
            for r in page.items for w in shown}


def listing_args(params: dict[str, str]) -> dict[str, str]:
    args = {k: v for k, v in params.items() if k not in DATE_PARAMS}
    if "created_from" in params:
        args["created_after"] = params["created_from"]
    if "created_to" in params:
        try:
            day = dt.date.fromisoformat(params["created_to"])
        except ValueError:
            raise ValidationError({"created_to": [_("Use a date such as 2026-01-31.")]}) from None
        args["created_before"] = (day + dt.timedelta(days=1)).isoformat()
    return args


def _sort_links(rtype: RecordType, params: dict[str, str], columns=None) -> dict[str, tuple[str | None, dict]]:
    """For each sortable column: its aria-sort state and the parameters of its header link."""
    current = params.get("sort") or listing.DEFAULT_SORT[rtype.key]
    links = {}
    for column in columns or rtype.columns:
        if not column.sort:
            continue
        state = None
        if current.lstrip("-") == column.sort:
            state = "descending" if current.startswith("-") else "ascending"
            target = column.sort if state == "descending" else f"-{column.sort}"
        else:
            # Dates read best newest first; names A to Z.
            target = f"-{column.sort}" if column.sort.endswith("_at") else column.sort
        links[column.key] = (state, {**_without(params, "cursor"), "sort": target})
    return links


def _without(params: dict, *names: str) -> dict:
    return {k: v for k, v in params.items() if k not in names}


def _filter_options(rtype: RecordType, people: lookups.People) -> dict:
    options = {
        "owner": [("me", _("Me")), ("none", _("Unassigned"))] + people.active(),
    }
    if "stage" in rtype.filters:
        options["stage"] = list(STAGE_LABELS.items())
    if "kind" in rtype.filters:
        options["kind"] = list(KIND_LABELS.items())
    return options


def render_list(rtype: RecordType):
    custom = filterable(rtype)
    params = ui_params(rtype, custom)
    errors = {}
    try:
        page = listing.fetch(rtype.key, listing_args(params), g.member)
    except ValidationError as exc:
        errors = {LISTING_TO_UI.get(k, k): v for k, v in exc.normalized_messages().items()}
        page = listing.Page([], None)
    people = lookups.People()
    refs = {}
    if any(c.key in ("account_id", "related") for c in rtype.columns):
        refs = lookups.reference_titles(page.items, g.member)
    scope = _scope_note(params)
    columns = rtype.columns + custom_columns(custom)
    return render_template(
        "ui/list.html",
        rtype=rtype,
        columns=columns,
        labels={c.key: str(c.label) for c in columns},  # resolved once, not once per cell
        custom_filters=[custom_filter(w, people.active()) for w in custom],
        custom_cells=custom_cells(page, custom, people),
        page=page,
        params=params,
        errors=errors,
        param_labels=PARAM_LABELS | {w.name + op: w.label for w in custom for op in CUSTOM_OPERATORS},
        people=people,
        refs=refs,
        scope=scope,
        scope_prefill={k: v for k, v in params.items() if k in REFERENCE_TYPES},
        sort_links=_sort_links(rtype, params, columns),
        options=_filter_options(rtype, people),
        next_url=url_for(request.endpoint, **{**params, "cursor": page.next_cursor}) if page.next_cursor else None,
        first_url=url_for(request.endpoint, **_without(params, "cursor")) if "cursor" in params else None,
        clear_url=url_for(request.endpoint),
    ), (400 if errors else 200)


def _scope_note(params: dict[str, str]) -> list[tuple[str, str, str]]:
    """Reference filters in force (e.g. contacts of one account): (label, title, URL without it)."""
    notes = []
    for column, record_type in REFERENCE_TYPES.items():
        if column not in params:
            continue
        found = lookups.titles(record_type, [lookups.as_uuid(params[column])], g.member)
        name = next(iter(found.values()), _("a record you cannot see"))
        notes.append((RECORD_TYPES[record_type].singular, name, url_for(request.endpoint, **_without(params, column, "cursor"))))
    return notes
