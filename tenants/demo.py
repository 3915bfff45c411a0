"""The demo tenant ``demo``: a few accounts, contacts, leads and activities. Idempotent."""
from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from flask import current_app, g
from sqlalchemy import select

from rapport import crm, tenancy
from rapport.db import db
from rapport.models import Membership, Tenant
from rapport.pipeline import Actor
from rapport.plugin_host import set_plugin_enabled
from rapport.provisioning import create_tenant

DEMO_EMAIL = "demo@rapport.example"

ACCOUNTS = [
    ("Northwind Traders", "https://northwind.example", "Retail"),
    ("Contoso Ltd", "https://contoso.example", "Manufacturing"),
    ("上海星辰科技", "https://xingchen.example", "Technology"),
]
CONTACTS = [
    ("Nancy", "Davolio", "nancy@northwind.example", "+1 206 555 0101", 0),
    ("Andrew", "Fuller", "andrew@northwind.example", "+1 206 555 0102", 0),
    ("Maria", "Anders", "maria@contoso.example", "+49 30 555 0103", 1),
    ("伟", "王", "wang.wei@xingchen.example", "+86 21 5555 0104", 2),
]
LEADS = [
    ("Janet Leverling", "Fabrikam", "janet@fabrikam.example", "prospect", "120000"),
    ("Steven Buchanan", "Tailspin Toys", "steven@tailspin.example", "opportunity", "45000"),
    ("Laura Callahan", "Wingtip", "laura@wingtip.example", "target", None),
]


def _password() -> str:
    path = Path(current_app.instance_path) / "demo_password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def seed_demo() -> tuple[bool, str, str]:
    password = _password()
    if db.session.scalar(select(Tenant).where(Tenant.slug == "demo")) is not None:
        return False, DEMO_EMAIL, password
    tenant = create_tenant("demo", "Demo Company", DEMO_EMAIL, password, owner_name="Demo Owner")
    g.tenant = tenant
    actor = Actor("system", None, "demo data", "cli")
    with tenancy.tenant_scope(tenant.id):
        owner = db.session.scalar(select(Membership))
        set_plugin_enabled(current_app.extensions["rapport.plugins"], tenant, "reports", True)
        accounts = [
            crm.create("accounts", {"name": n, "website": w, "industry": i, "owner_id": owner.id}, actor)
            for n, w, i in ACCOUNTS
        ]
        contacts = [
            crm.create(
                "contacts",
                {"first_name": f, "last_name": ln, "email": e, "phone": p,
                 "account_id": accounts[a].id, "owner_id": owner.id},
                actor,
            )
            for f, ln, e, p, a in CONTACTS
        ]
        for name, company, email, stage, value in LEADS:
            lead = crm.create("leads", {"name": name, "company": company, "email": email, "value": value,
                                        "owner_id": owner.id, "source": "demo"}, actor)
            if stage != "target":
                crm.update(lead, {"stage": stage}, actor)
        due = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)).isoformat()
        crm.create("activities", {"kind": "call", "subject": "Intro call with Nancy",
                                  "contact_id": contacts[0].id, "account_id": accounts[0].id}, actor)
        crm.create("activities", {"kind": "task", "subject": "Send the Contoso proposal", "due_at": due,
                                  "account_id": accounts[1].id, "owner_id": owner.id}, actor)
        db.session.commit()
    return True, DEMO_EMAIL, password
