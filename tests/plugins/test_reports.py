"""The built-in reports plugin: off until a tenant switches it on; then a pipeline page and a
dashboard panel counting leads by stage, with lead names escaped."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from rapport import crm
from rapport.db import db, utcnow
from rapport.models import Lead
from rapport.plugin_host import current_host, save_plugin_settings
from tests.plugins.support import ACTOR, acting_in, logged_in, switch

LEADS = [
    ("Ada", "target", None),
    ("Brian", "target", None),
    ("Chen", "prospect", "250.00"),
    ("Dora", "opportunity", "1200.00"),
    ("Emil", "lost", "80.00"),
]
STAGE_ROW = re.compile(r'<tr data-stage="(\w+)"><th scope="row">[^<]*</th><td><a href="([^"]*)">(\d+)</a></td>')


@pytest.fixture
def alpha(pair):
    alpha, _beta = pair
    with acting_in(alpha):
        for name, stage, value in LEADS:
            crm.create("leads", {"name": name, "stage": stage, "value": value}, ACTOR)
        db.session.commit()
    return alpha


def counts_by_stage(html: str) -> dict[str, int]:
    return {stage: int(count) for stage, _href, count in STAGE_ROW.findall(html)}


EXPECTED = {"target": 2, "prospect": 1, "opportunity": 1, "customer": 0, "lost": 1}


def test_reports_are_off_by_default(alpha):
    owner = logged_in("owner@alpha.test")
    assert owner.get("/t/alpha/reports/").status_code == 404
    dashboard = owner.get("/t/alpha/").get_data(as_text=True)
    assert "Pipeline" not in dashboard and 'href="/t/alpha/reports/"' not in dashboard


def test_pipeline_page_counts_leads_by_stage(alpha):
    switch(alpha, "reports", True)
    page = logged_in("owner@alpha.test").get("/t/alpha/reports/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert counts_by_stage(html) == EXPECTED
    assert "<td>1,200.00</td>" in html and "<td>250.00</td>" in html  # value per stage
    assert html.index("Dora") < html.index("Chen")  # largest open deals first; lost ones left out
    assert "Emil" not in html


def test_dashboard_panel_counts_and_links_to_the_lists(alpha):
    switch(alpha, "reports", True)
    dashboard = logged_in("owner@alpha.test").get("/t/alpha/").get_data(as_text=True)
    assert "<h2>Pipeline</h2>" in dashboard and 'href="/t/alpha/reports/"' in dashboard
    panel = dashboard[dashboard.index("<h2>Pipeline</h2>"):]
    assert counts_by_stage(panel) == EXPECTED
    links = {stage: href for stage, href, _count in STAGE_ROW.findall(panel)}
    assert links["target"] == "/t/alpha/leads?stage=target"


def test_reports_need_the_permission(alpha):
    switch(alpha, "reports", True)
    agent = logged_in("agent@alpha.test")  # agents do not hold reports.view
    assert agent.get("/t/alpha/reports/").status_code == 403
    assert "<h2>Pipeline</h2>" not in agent.get("/t/alpha/").get_data(as_text=True)


def test_panel_escapes_lead_names(alpha):
    with acting_in(alpha):
        crm.create("leads", {"name": '<script>alert("x")</script>', "company": "<b>Evil</b>", "stage": "opportunity", "value": "5000"}, ACTOR)
        db.session.commit()
    switch(alpha, "reports", True)
    dashboard = logged_in("owner@alpha.test").get("/t/alpha/").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in dashboard and "&lt;b&gt;Evil&lt;/b&gt;" in dashboard
    assert "<script>alert" not in dashboard and "<b>Evil" not in dashboard


def test_reports_in_one_tenant_only(alpha, pair):
    _alpha, beta = pair
    switch(alpha, "reports", True)
    assert logged_in("owner@beta.test").get("/t/beta/reports/").status_code == 404


def test_new_leads_follow_the_period_setting(alpha):
    with acting_in(alpha):
        old = db.session.scalar(select(Lead).where(Lead.name == "Ada"))
        old.created_at = utcnow() - dt.timedelta(days=10)
        db.session.commit()
    switch(alpha, "reports", True)
    owner = logged_in("owner@alpha.test")
    assert "New leads in the last 30 days: 5" in owner.get("/t/alpha/reports/").get_data(as_text=True)  # the default
    with acting_in(alpha):
        save_plugin_settings(current_host(), "reports", {"default_period_days": 7})
        db.session.commit()
    assert "New leads in the last 7 days: 4" in owner.get("/t/alpha/reports/").get_data(as_text=True)
