from flask import current_app, g, render_template
from sqlalchemy import func, select

from .. import access
from ..db import db
from ..models import Account, Activity, Contact, Lead
from ..pipeline import require
from . import bp


@bp.get("/")
@require()
def dashboard():
    member = g.member
    counts = {}
    if member.can("records.read"):
        for key, model in (("accounts", Account), ("contacts", Contact), ("leads", Lead)):
            counts[key] = db.session.scalar(access.visible(select(func.count()).select_from(model), model, member))
        open_tasks = db.session.scalars(
            access.visible(
                select(Activity).where(Activity.kind == "task", Activity.done_at.is_(None)), Activity, member
            ).order_by(Activity.due_at.is_(None), Activity.due_at).limit(10)
        ).all()
    else:
        open_tasks = []
    panels = current_app.extensions["rapport.plugins"].dashboard_panels(g.tenant, member)
    return render_template("ui/dashboard.html", counts=counts, open_tasks=open_tasks, panels=panels)
