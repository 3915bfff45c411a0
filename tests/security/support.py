"""Tenants stocked for the attack tests: every object a URL can name (``tests.isolation.support``),
a member and an API token for every built-in role, custom fields of many types on accounts,
contacts and leads (one of them hidden from all but owners and admins), and records whose names and
emails carry the tenant's unique marker, so a test can prove that no answer ever shows another
tenant's data.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from rapport import crm, tenancy, tokens
from rapport.db import db
from rapport.fields.definitions import create_definition
from rapport.models import Membership, Role, Tenant, User
from rapport.pipeline import Actor, grant
from tests.isolation.support import TenantData, password_hash, populate

ROLES = ("owner", "admin", "manager", "agent", "viewer")
HIDDEN_FIELD = "secret_note"  # a leads field that only owners and admins may see
HIDDEN_ROLES = ["owner", "admin"]

# One of each type the brief names, spread over the three record types with custom fields.
CUSTOM_FIELDS = {
    "accounts": [
        {"key": "tier", "label": "Tier", "type": "select",
         "options": [{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}]},
        {"key": "seats", "label": "Seats", "type": "number", "config": {"min": 0, "max": 10000}},
        {"key": "renewal", "label": "Renewal", "type": "date"},
        {"key": "code", "label": "Code", "type": "text", "config": {"max_length": 12}},
    ],
    "contacts": [
        {"key": "interests", "label": "Interests", "type": "multi_select",
         "options": [{"value": "crm", "label": "CRM"}, {"value": "erp", "label": "ERP"}, {"value": "bi", "label": "BI"}]},
        {"key": "vip", "label": "VIP", "type": "boolean"},
        {"key": "alt_email", "label": "Other email", "type": "email"},
        {"key": "mobile", "label": "Mobile", "type": "phone"},
    ],
    "leads": [
        {"key": "homepage", "label": "Homepage", "type": "url"},
        {"key": "budget", "label": "Budget", "type": "currency", "config": {"currency": "EUR", "min": 0, "max": 1000000}},
        {"key": "met_at", "label": "Met at", "type": "datetime"},
        {"key": "notes", "label": "Notes", "type": "long_text"},
        {"key": HIDDEN_FIELD, "label": "Secret note", "type": "text", "roles": HIDDEN_ROLES},
    ],
}


@dataclass(frozen=True)
class Stocked:
    """A populated tenant plus what the attack tests need on top."""

    data: TenantData
    marker: str
    members: dict[str, object]  # role -> membership id
    emails: dict[str, str]  # role -> email of the member with that role
    api_tokens: dict[str, str]  # role -> bearer secret
    records: dict[str, object] = field(default_factory=dict)  # record type -> id of a marked record

    @property
    def slug(self) -> str:
        return self.data.slug

    @property
    def tenant_id(self):
        return self.data.tenant.id


def marker_of(slug: str) -> str:
    """A string no generated request contains by chance, and no other tenant's data contains."""
    return f"zqx{slug}mark"


def stock(slug: str) -> Stocked:
    """``populate(slug)`` plus members and tokens for every role, custom fields and marked records."""
    data = populate(slug)
    marker = marker_of(slug)
    tenant = db.session.get(Tenant, data.tenant.id)
    with tenancy.tenant_scope(tenant.id):
        owner = grant(db.session.scalar(
            select(Membership).join(User, User.id == Membership.user_id).where(User.email == data.owner_email)))
        actor = Actor("member", str(owner.id), data.owner_email, "web")
        members, emails = {"owner": owner.id}, {"owner": data.owner_email}
        for role in ROLES[1:]:
            email = f"{role}.{marker}@{slug}.test"
            members[role], emails[role] = _add_member(email, role).id, email
        api_tokens = {}
        for role, member_id in members.items():
            _row, api_tokens[role] = tokens.create_token(db.session.get(Membership, (tenant.id, member_id)), f"{role} {marker}")
        for record_type, definitions in CUSTOM_FIELDS.items():
            for definition in definitions:
                create_definition(tenant, record_type, definition, actor)
        records = _marked_records(marker, slug, actor)
        db.session.commit()
    return Stocked(data, marker, members, emails, api_tokens, records)


def _add_member(email: str, role_key: str) -> Membership:
    user = User(email=email, name=f"{role_key.title()} Member", password_hash=password_hash())
    db.session.add(user)
    db.session.flush()
    role = db.session.scalar(select(Role).where(Role.key == role_key))
    member = Membership(user_id=user.id, role_id=role.id, status="active")
    db.session.add(member)
    db.session.flush()
    return member


def _marked_records(marker: str, slug: str, actor) -> dict[str, object]:
    account = crm.create("accounts", {
        "name": f"Account {marker}", "email": f"account.{marker}@{slug}.test", "industry": marker,
        "custom": {"tier": "gold", "seats": 12, "renewal": "2027-01-31", "code": marker[:12]},
    }, actor)
    contact = crm.create("contacts", {
        "first_name": marker, "last_name": f"Contact {marker}", "email": f"contact.{marker}@{slug}.test",
        "account_id": str(account.id),
        "custom": {"interests": ["crm", "bi"], "vip": True, "alt_email": f"alt.{marker}@{slug}.test",
                   "mobile": "+8613800138000"},
    }, actor)
    lead = crm.create("leads", {
        "name": f"Lead {marker}", "email": f"lead.{marker}@{slug}.test", "company": marker,
        "account_id": str(account.id), "contact_id": str(contact.id),
        "custom": {"homepage": f"https://{slug}.example/{marker}", "budget": 1234.5, "met_at": "2026-03-01T09:30:00Z",
                   "notes": f"Notes {marker}", HIDDEN_FIELD: f"hidden {marker}"},
    }, actor)
    activity = crm.create("activities", {"kind": "note", "subject": f"Note {marker}", "lead_id": str(lead.id)}, actor)
    return {"accounts": account.id, "contacts": contact.id, "leads": lead.id, "activities": activity.id}
