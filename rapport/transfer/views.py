"""The import page (upload, check, report) and the CSV downloads."""
from __future__ import annotations

import datetime as dt

from flask import Response, abort, current_app, g, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import tenancy
from ..pipeline import Actor, require
from . import bp
from .columns import RECORD_TYPES, columns, custom_fields
from .csv_export import export_csv
from .csv_import import FileError, import_csv

TYPE_LABELS = {"accounts": _l("Accounts"), "contacts": _l("Contacts"), "leads": _l("Leads")}
# A report longer than this is cut on the page (the CLI prints every line).
REPORT_LIMIT = 1000


def _form_page(errors: dict | None = None, form=None, status: int = 200, report=None):
    return render_template(
        "transfer/import.html",
        errors=errors or {},
        form=form or {},
        report=report,
        report_limit=REPORT_LIMIT,
        types=[(t, TYPE_LABELS[t]) for t in RECORD_TYPES],
        columns={t: columns(t) + _custom_columns(t) for t in RECORD_TYPES},
        type_labels=TYPE_LABELS,
    ), status


def _custom_columns(record_type: str) -> tuple[str, ...]:
    # The error page for a too-large upload can come before the member is loaded: core columns only.
    member = g.get("member")
    return tuple(w.name for w in custom_fields(record_type, member)) if member is not None else ()


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    # Raised while the body is parsed (possibly by CSRF checking, before the view runs).
    message = _("The file is larger than the limit of %(size)s. Split it into smaller files.",
                size=_size(current_app.config.get("MAX_CONTENT_LENGTH") or 0))
    return _form_page({"file": [message]}, status=413)


def _size(n_bytes: int) -> str:
    if n_bytes >= 1024 * 1024:
        return _("%(n)s MB", n=f"{n_bytes / (1024 * 1024):.3g}")
    return _("%(n)s KB", n=f"{n_bytes / 1024:.3g}")


@bp.route("/import", methods=["GET", "POST"])
@require("records.import")
def import_records():
    if request.method == "GET":
        return _form_page()
    form = request.form
    upload = request.files.get("file")
    errors = {}
    record_type = form.get("record_type", "")
    if record_type not in RECORD_TYPES:
        errors["record_type"] = [_("Choose what the file holds: accounts, contacts or leads.")]
    if upload is None or not upload.filename:
        errors["file"] = [_("Choose a CSV file to import.")]
    if errors:
        return _form_page(errors, form, 422)
    actor = Actor("member", str(g.member.id), current_user.email, "import")
    try:
        report = import_csv(upload.stream, record_type, actor, g.member, good_rows_only=bool(form.get("good_rows_only")))
    except FileError as exc:
        return _form_page({"file": [str(exc)]}, form, 422)
    # A file with bad rows and nothing imported is a failed form post.
    status = 422 if report.errors and not report.imported else 200
    return _form_page(form=form, status=status, report=report)


@bp.get("/export")
@require("records.export")
def export_page():
    return render_template("transfer/export.html", types=[(t, TYPE_LABELS[t]) for t in RECORD_TYPES])


@bp.get("/export/<record_type>.csv")
@require("records.export")
def export_download(record_type: str):
    if record_type not in RECORD_TYPES:
        abort(404)
    tenant, member = g.tenant, g.member

    def body():
        # Held by the stream itself, so the tenant stays in force however the server runs the generator.
        with tenancy.tenant_scope(tenant.id):
            yield from export_csv(record_type, member)

    filename = f"{tenant.slug}-{record_type}-{dt.date.today().isoformat()}.csv"
    return Response(
        stream_with_context(body()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
