"""Two fully stocked tenants and a walker over the app's tenant URL rules, shared by the isolation
and security tests.

Every tenant object that a URL can name gets one row per tenant, and every name or email that
identifies tenant B's data is listed in :attr:`TenantData.secrets`, so a test can assert that none of
it ever reaches tenant A.
"""
from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from rapport import crm, tenancy, tokens
from rapport.auth import tokens as link_tokens
from rapport.db import db
from rapport.fields.definitions import create_definition
from rapport.models import AuditEvent, Membership, Role, User
from rapport.pipeline import Actor, grant
from rapport.plugin_host import set_plugin_enabled
from rapport.provisioning import create_tenant, user_by_email
from rapport.security import hash_password
from plugins.lead_capture.models import LeadForm, Submission  # plugin objects that URLs name
from tests.conftest import PASSWORD

# URL variables that name a tenant's objects, and which fixture row fills each.
OBJECT_VARIABLES = {
    "account_id": "account",
    "contact_id": "contact",
    "lead_id": "lead",
    "activity_id": "activity",
    "membership_id": "member",
    "role_id": "role",
    "token_id": "token",
    "event_id": "event",
    "form_id": "form",  # a lead-capture form (plugins/lead_capture)
    "submission_id": "submission",  # a lead-capture submission
}
# URL variables that name no tenant object: the same value serves every tenant.
FIXED_VARIABLES = {"plugin": "reports", "record_type": "accounts", "filename": "lead_capture/public.css"}
# ``token`` is an invitation link token of the tenant (an object of that tenant, but not a UUID).
INVITE_VARIABLE = "token"
# ``field_key`` names a custom-field definition of the tenant (by key, not by UUID).
FIELD_VARIABLE = "field_key"
# ``form_slug`` names a published lead-capture form of the tenant (by slug).
FORM_SLUG_VARIABLE = "form_slug"

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
METHODS = ("GET",) + STATE_CHANGING


@dataclass(frozen=True)
class Ref:
    """A snapshot of a row's id: ORM objects expire on rollback, and reloading one later under
    another tenant (or none) would find nothing, by design."""

    id: uuid.UUID
    slug: str = ""


@dataclass(frozen=True)
class TenantData:
    tenant: Ref
    owner_email: str
    account: Ref
    contact: Ref
    lead: Ref
    activity: Ref
    member: Ref
    role: Ref
    token: Ref
    token_secret: str
    event: Ref
    invite: Ref
    invite_token: str
    field_key: str
    form: Ref
    submission: Ref
    secrets: tuple[str, ...] = field(default=())

    @property
    def slug(self) -> str:
        return self.tenant.slug

    def url_values(self) -> dict[str, object]:
        """The value of every URL variable this tenant's objects can fill."""
        values = {name: getattr(self, attr).id for name, attr in OBJECT_VARIABLES.items()}
        values.update(FIXED_VARIABLES)
        values[INVITE_VARIABLE] = self.invite_token
        values[FIELD_VARIABLE] = self.field_key
        values[FORM_SLUG_VARIABLE] = self.form.slug
        return values


def populate(slug: str) -> TenantData:
    """Create tenant ``slug`` with one of every object a URL can name, every plugin enabled."""
    label = slug.capitalize()
    tenant = create_tenant(slug, f"{label} Holdings", f"owner@{slug}.test", None)
    user_by_email(f"owner@{slug}.test").password_hash = password_hash()
    with tenancy.tenant_scope(tenant.id):
        owner = grant(db.session.scalar(select(Membership)))
        member = _member(f"second@{slug}.test", f"{label} Second", "agent", password_hash(), "active")
        actor = Actor("member", str(owner.id), f"owner@{slug}.test", "web")
        account = crm.create("accounts", {"name": f"{label} Account", "email": f"account@{slug}.test"}, actor)
        contact = crm.create(
            "contacts",
            {"first_name": label, "last_name": "Contact", "email": f"contact@{slug}.test", "account_id": str(account.id)},
            actor,
        )
        lead = crm.create(
            "leads",
            {"name": f"{label} Lead", "email": f"lead@{slug}.test", "account_id": str(account.id), "contact_id": str(contact.id)},
            actor,
        )
        activity = crm.create("activities", {"kind": "call", "subject": f"{label} Call", "lead_id": str(lead.id)}, actor)
        role = Role(key="custom", name=f"{label} Role", permissions=["records.read"], builtin=False)
        db.session.add(role)
        token, secret = tokens.create_token(owner, f"{label} Token")
        invite = _invite(slug)
        create_definition(tenant, "accounts", {"key": f"{slug}_tier", "label": f"{label} Tier", "type": "text"}, actor)
        form = LeadForm(slug=f"{slug}-form", name=f"{label} Form", published=True,
                        fields=[{"key": "email", "label": None, "required": True}])
        db.session.add(form)
        db.session.flush()
        submission = Submission(form_id=form.id, dedupe_key=f"{slug}-1", status="quarantined",
                                spam_reason="honeypot", data={"email": f"spam@{slug}.test"})
        db.session.add(submission)
        host = current_app.extensions["rapport.plugins"]
        for plugin in host.plugin_names:  # plugin routes must answer, not hide behind the switch
            set_plugin_enabled(host, tenant, plugin, True)
        db.session.commit()
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.at)).first()
    secrets = (
        f"{label} Holdings", f"{label} Account", f"account@{slug}.test", f"contact@{slug}.test",
        f"{label} Lead", f"lead@{slug}.test", f"{label} Call", f"second@{slug}.test", f"{label} Second",
        f"{label} Role", f"{label} Token", f"{label} Tier", f"owner@{slug}.test", f"invitee@{slug}.test", secret,
        f"{label} Form",
    )
    return TenantData(
        tenant=Ref(tenant.id, tenant.slug), owner_email=f"owner@{slug}.test", account=Ref(account.id),
        contact=Ref(contact.id), lead=Ref(lead.id), activity=Ref(activity.id), member=Ref(member.id),
        role=Ref(role.id), token=Ref(token.id), token_secret=secret, event=Ref(event.id), invite=Ref(invite.id),
        invite_token=link_tokens.invite_token(invite), field_key=f"{slug}_tier", form=Ref(form.id, form.slug),
        submission=Ref(submission.id), secrets=secrets,
    )


@functools.cache
def password_hash() -> str:
    """The hash of the test password, computed once: scrypt is slow on purpose."""
    return hash_password(PASSWORD)


def _member(email: str, name: str, role_key: str, hashed: str | None, status: str) -> Membership:
    user = User(email=email, name=name, password_hash=hashed)
    db.session.add(user)
    db.session.flush()
    role = db.session.scalar(select(Role).where(Role.key == role_key))
    member = Membership(user_id=user.id, role_id=role.id, status=status)
    db.session.add(member)
    db.session.flush()
    return member


def _invite(slug: str) -> Membership:
    return _member(f"invitee@{slug}.test", "", "agent", None, "invited")


# -- the URL map ---------------------------------------------------------------------------------


def tenant_rules(app):
    """Every URL rule under a tenant, with the methods it answers (HEAD and OPTIONS left out)."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "tenant_slug" in rule.arguments:
            yield rule, [m for m in METHODS if m in (rule.methods or ())]


def is_api(rule) -> bool:
    return "/api/" in rule.rule


def object_variables(rule) -> set[str]:
    return {name for name in rule.arguments if name in OBJECT_VARIABLES or name in (INVITE_VARIABLE, FIELD_VARIABLE)}


def unknown_variables(rule) -> set[str]:
    known = {"tenant_slug"} | set(OBJECT_VARIABLES) | set(FIXED_VARIABLES) | {INVITE_VARIABLE, FIELD_VARIABLE, FORM_SLUG_VARIABLE}
    return set(rule.arguments) - known


def build_path(rule, slug: str, values: dict) -> str:
    """The path of ``rule`` for tenant ``slug`` with its other variables taken from ``values``."""
    args = {name: values[name] for name in rule.arguments if name != "tenant_slug"}
    args["tenant_slug"] = slug
    built = rule.build(args, append_unknown=False)
    assert built is not None, f"cannot build {rule.rule} from {args}"
    return built[1]


def missing_ids() -> dict[str, object]:
    """Values for every object variable that name nothing at all (the 'no such object' answer)."""
    values = {name: uuid.uuid4() for name in OBJECT_VARIABLES}
    values.update(FIXED_VARIABLES)
    values[INVITE_VARIABLE] = "forged-invite-token"
    values[FIELD_VARIABLE] = "no_such_field"
    values[FORM_SLUG_VARIABLE] = "no-such-form"
    return values


def request(client, method: str, path: str, api: bool, bearer: str | None = None):
    """One request with an empty body of the kind the route expects."""
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    if method == "GET":
        return client.open(path, method=method, headers=headers)
    if api:
        return client.open(path, method=method, headers=headers, json={})
    return client.open(path, method=method, headers=headers, data={})
