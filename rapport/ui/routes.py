"""URL rules of the record pages: the same five views for each record type, plus the lead stage
control and "mark done". Endpoints are ``ui.<action>_<type>``, e.g. ``ui.list_accounts``,
``ui.show_leads``; URL variables use the isolation test's names (``account_id``, ``lead_id``, ...)."""
from __future__ import annotations

from flask import g

from ..pipeline import require
from . import bp, forms, lists, records, urls
from .formatting import iso, when
from .record_types import KIND_LABELS, RECORD_TYPES, STAGE_LABELS, RecordType, title

# action -> (URL after /<type>, handler, permission checked before the view, methods). Edit and
# delete check write rights after loading the record, so an unknown id answers 404 first.
ACTIONS = {
    "list": ("", lists.render_list, "records.read", ["GET"]),
    "new": ("/new", forms.new, "records.write", ["GET", "POST"]),
    "show": ("/<uuid:{id}>", records.view, "records.read", ["GET"]),
    "edit": ("/<uuid:{id}>/edit", forms.edit, "records.read", ["GET", "POST"]),
    "delete": ("/<uuid:{id}>/delete", forms.delete, "records.read", ["GET", "POST"]),
}


def _bind(rtype: RecordType, action: str, handler, permission: str):
    """A view for one record type: passes the record type and the id from the URL, if any."""

    def view(**ids):
        return handler(rtype, *ids.values())

    view.__name__ = f"{action}_{rtype.key}"
    return require(permission)(view)


for _rtype in RECORD_TYPES.values():
    for _action, (_path, _handler, _permission, _methods) in ACTIONS.items():
        bp.add_url_rule(
            f"/{_rtype.key}{_path.format(id=_rtype.id_arg)}",
            view_func=_bind(_rtype, _action, _handler, _permission),
            methods=_methods,
        )


@bp.post("/leads/<uuid:lead_id>/stage")
@require("records.read")
def lead_stage(lead_id):
    return forms.change_stage(lead_id)


@bp.post("/activities/<uuid:activity_id>/done")
@require("records.read")
def activity_done(activity_id):
    return forms.mark_done(activity_id)


@bp.context_processor
def _record_helpers():
    return {
        "record_url": urls.record_url,
        "show_url": urls.show_url,
        "reference_url": urls.reference_url,
        "record_title": title,
        "record_types": RECORD_TYPES,
        "stage_labels": STAGE_LABELS,
        "kind_labels": KIND_LABELS,
        "when": when,
        "iso": iso,
        "member": g.get("member"),
    }
