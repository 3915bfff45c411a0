"""Reports: the sales pipeline by stage, on the dashboard and on its own page."""
import datetime as dt

from flask import Blueprint, g, render_template
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from rapport import access, hookimpl
from rapport.db import db, utcnow
from rapport.models import STAGES, Lead
from rapport.pipeline import require
from rapport.plugin_host import current_host, plugin_settings
from rapport.ui.record_types import STAGE_LABELS

PLUGIN_NAME = "reports"
PLUGIN_DESCRIPTION = _l("Reports: the sales pipeline by stage, on the dashboard and on its own page.")
OPEN_STAGES = ("prospect", "opportunity")
LARGEST_DEALS = 5

bp = Blueprint("reports", __name__, url_prefix="/t/<tenant_slug>/reports", template_folder="templates")


def pipeline_rows(member) -> list[tuple[str, int, object]]:
    """``(stage, number of leads, total value)`` for every stage, counting the leads ``member`` may see."""
    stmt = access.visible(select(Lead.stage, func.count(), func.coalesce(func.sum(Lead.value), 0)), Lead, member)
    rows = {stage: (count, total) for stage, count, total in db.session.execute(stmt.group_by(Lead.stage))}
    return [(stage, *rows.get(stage, (0, 0))) for stage in STAGES]


def largest_open_deals(member) -> list[Lead]:
    stmt = select(Lead).where(Lead.stage.in_(OPEN_STAGES), Lead.value.is_not(None))
    stmt = access.visible(stmt, Lead, member).order_by(Lead.value.desc(), Lead.id).limit(LARGEST_DEALS)
    return list(db.session.scalars(stmt))


def new_leads(member, days: int) -> int:
    since = utcnow() - dt.timedelta(days=days)
    stmt = access.visible(select(func.count()).select_from(Lead).where(Lead.created_at >= since), Lead, member)
    return db.session.scalar(stmt)


@bp.get("/")
@require("reports.view")
def pipeline():
    days = plugin_settings(current_host(), PLUGIN_NAME)["default_period_days"]
    return render_template(
        "reports/pipeline.html",
        rows=pipeline_rows(g.member),
        deals=largest_open_deals(g.member),
        labels=STAGE_LABELS,
        days=days,
        new_count=new_leads(g.member, days),
    )


@hookimpl
def register_permissions():
    return [{"name": "reports.view", "label": _l("View reports"), "roles": ["owner", "admin", "manager", "viewer"]}]


@hookimpl
def register_blueprints():
    return [bp]


@hookimpl
def menu_items(member):
    return [{"section": "nav", "label": _l("Reports"), "endpoint": "reports.pipeline", "permission": "reports.view"}]


@hookimpl
def dashboard_panels(member):
    if not member.can("reports.view"):
        return []
    # Rendered by an autoescaping template, so lead names arrive escaped; hence Markup.
    html = render_template(
        "reports/panel.html", rows=pipeline_rows(member), deals=largest_open_deals(member), labels=STAGE_LABELS
    )
    return [{"title": _l("Pipeline"), "html": Markup(html)}]


class ReportSettings(Schema):
    """Per-tenant settings, edited on the admin plugins page and stored in ``PluginState.settings``."""

    default_period_days = fields.Integer(
        strict=True,
        load_default=30,
        validate=validate.Range(min=1, max=366),
        metadata={"label": _l("Default period (days)"), "description": _l("From 1 to 366 days.")},
    )


@hookimpl
def plugin_settings_schema():
    return ReportSettings()
