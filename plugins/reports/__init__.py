"""Reports: the sales pipeline by stage, on the dashboard and on its own page."""
from flask import Blueprint, g, render_template
from markupsafe import Markup
from sqlalchemy import func, select

from rapport import access, hookimpl
from rapport.db import db
from rapport.models import STAGES, Lead
from rapport.pipeline import require

PLUGIN_NAME = "reports"

bp = Blueprint("reports", __name__, url_prefix="/t/<tenant_slug>/reports", template_folder="templates")


def _pipeline(member):
    stmt = access.visible(select(Lead.stage, func.count(), func.coalesce(func.sum(Lead.value), 0)), Lead, member)
    rows = {stage: (count, total) for stage, count, total in db.session.execute(stmt.group_by(Lead.stage))}
    return [(stage, *rows.get(stage, (0, 0))) for stage in STAGES]


@bp.get("/")
@require("reports.view")
def pipeline():
    return render_template("reports/pipeline.html", rows=_pipeline(g.member))


@hookimpl
def register_permissions():
    return [{"name": "reports.view", "label": "View reports", "roles": ["owner", "admin", "manager", "viewer"]}]


@hookimpl
def register_blueprints():
    return [bp]


@hookimpl
def menu_items(member):
    return [{"section": "nav", "label": "Reports", "endpoint": "reports.pipeline", "permission": "reports.view"}]


@hookimpl
def dashboard_panels(member):
    if not member.can("reports.view"):
        return []
    cells = Markup("").join(
        Markup("<tr><th scope='row'>{}</th><td>{}</td></tr>").format(stage, count)
        for stage, count, _total in _pipeline(member)
    )
    return [{"title": "Pipeline", "html": Markup("<table class='pipeline'>{}</table>").format(cells)}]
