"""Helpers for the tests of the public side: read a rendered form like a browser does (its inputs,
labels and hidden values), submit it, and look at what was stored."""
from __future__ import annotations

from html.parser import HTMLParser

from sqlalchemy import select

from plugins.lead_capture.models import Submission
from rapport.db import db
from rapport.models import Lead
from tests.plugins.support import acting_in

PATH = "/t/acme/f/contact-us"
ALLOWED = "https://www.acme.example"
EVIL = "https://evil.example"


class FormPage(HTMLParser):
    """The inputs, labels and attributes of a rendered page."""

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.label_for: list[str] = []
        self.textareas: dict[str, str] = {}
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        self.elements.append((tag, attrs))
        if tag == "label" and attrs.get("for"):
            self.label_for.append(attrs["for"])
        if tag == "textarea":
            self._textarea = attrs.get("name")
            self.textareas[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.textareas[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None

    def by_id(self, element_id: str) -> dict:
        for _tag, attrs in self.elements:
            if attrs.get("id") == element_id:
                return attrs
        raise AssertionError(f"no element #{element_id}")

    def controls(self) -> list[tuple[str, dict]]:
        """Every input a person fills in (hidden inputs aside)."""
        return [(t, a) for t, a in self.elements
                if t in ("input", "select", "textarea") and a.get("type") != "hidden"]

    def hidden(self) -> dict[str, str]:
        return {a["name"]: a.get("value", "") for t, a in self.elements if t == "input" and a.get("type") == "hidden"}

    def value(self, name: str) -> str:
        if name in self.textareas:
            return self.textareas[name]
        for tag, attrs in self.elements:
            if tag == "input" and attrs.get("name") == name:
                return attrs.get("value", "")
        raise AssertionError(f"no input {name}")


def page_of(response) -> FormPage:
    return FormPage(response.get_data(as_text=True))


def fill_and_send(client, data: dict, path: str = PATH, get_headers: dict | None = None, **post_kwargs):
    """GET the page (as a browser does), then POST its hidden inputs with ``data``."""
    shown = client.get(path, headers=get_headers or {})
    assert shown.status_code == 200, shown.get_data(as_text=True)[:300]
    return client.post(path, data={**page_of(shown).hidden(), **data}, **post_kwargs)


def fresh_token(client, path: str = PATH) -> str:
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 200
    return response.get_json()["token"]


def submissions(tenant) -> list[Submission]:
    with acting_in(tenant):
        return list(db.session.scalars(select(Submission).order_by(Submission.received_at, Submission.id)))


def leads(tenant) -> list[Lead]:
    with acting_in(tenant):
        return list(db.session.scalars(select(Lead).order_by(Lead.created_at)))


# --- a served app on a database of its own (gunicorn tests) ---------------------------------------
class LiveDatabase:
    """A fresh, migrated database for a served app (PostgreSQL when configured, else SQLite), and
    in-process access to it through the app's own code, to set up a tenant and read what was stored."""

    def __init__(self, tmp_path):
        import uuid as _uuid

        from rapport.migrate import upgrade
        from tests.conftest import create_postgres_database, postgres_server_url

        self.tmp_path, self.server = tmp_path, postgres_server_url()
        self.name = f"rapport_lc_{_uuid.uuid4().hex[:8]}"
        if self.server:
            self.owner_url, self.app_url = create_postgres_database(self.server, self.name)
        else:
            self.owner_url = self.app_url = f"sqlite:///{tmp_path / 'live.db'}"
            upgrade(self.owner_url)

    def drop(self) -> None:
        from tests.conftest import drop_postgres_database

        if self.server:
            drop_postgres_database(self.server, self.name)

    def _run(self, work):
        """``work()`` inside an app context on this database (the app's own code, committed)."""
        import uuid as _uuid

        from rapport.app import create_app

        instance = self.tmp_path / f"direct-{_uuid.uuid4().hex[:6]}"
        app = create_app({"DATABASE_URL": self.app_url, "MIGRATE_DATABASE_URL": self.owner_url,
                          "INSTANCE_PATH": str(instance), "SECRET_KEY": "direct", "TASKS_IMMEDIATE": True,
                          "TESTING": True})
        try:
            with app.app_context():
                return work()
        finally:
            db.session.remove()
            db.engine.dispose()

    def provision(self, tenant_slug: str, forms: list[dict]) -> None:
        """A tenant with the plugin on and these published forms (LeadForm columns)."""
        from plugins.lead_capture.models import LeadForm
        from rapport import tenancy
        from rapport.plugin_host import current_host, set_plugin_enabled
        from rapport.provisioning import create_tenant
        from tests.conftest import PASSWORD

        def work():
            tenant = create_tenant(tenant_slug, f"{tenant_slug.title()} Ltd", f"owner@{tenant_slug}.test", PASSWORD)
            with tenancy.tenant_scope(tenant.id):
                set_plugin_enabled(current_host(), tenant, "lead_capture", True)
                for columns in forms:
                    db.session.add(LeadForm(**{"published": True, "min_fill_seconds": 0, **columns}))
                db.session.commit()

        self._run(work)

    def submissions(self, tenant_slug: str) -> list[dict]:
        """The tenant's submissions as plain dicts, oldest first."""
        from rapport import tenancy
        from rapport.models import Tenant

        def work():
            tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
            with tenancy.tenant_scope(tenant.id):
                rows = db.session.scalars(select(Submission).order_by(Submission.received_at, Submission.id))
                return [{c: getattr(r, c) for c in ("status", "spam_reason", "data", "utm", "referrer", "landing_page",
                                                    "dedupe_key", "consent_text", "consent_version", "lead_id")}
                        for r in rows]

        return self._run(work)
