"""Loads that follow an earlier load are scoped too. The tenant criteria reach every statement as one
bound parameter set by the ``do_orm_execute`` listener, not as options carried along by the loaded
objects: a lazy load gets the tenant active when it runs, and a reload of an expired object goes by its
primary key, which holds its tenant_id."""
from __future__ import annotations

from sqlalchemy import select

from rapport import tenancy
from rapport.db import db
from rapport.models import Contact, Membership


def test_expired_member_reloads_with_role_and_user(alpha, bravo):
    with tenancy.tenant_scope(alpha.tenant.id):
        member = db.session.scalar(select(Membership).where(Membership.id == alpha.member.id))
        db.session.rollback()  # expires every loaded object, as a failed form does before re-rendering
        assert (member.role.tenant_id, member.role.key) == (alpha.tenant.id, "agent")
        assert member.user.email == "second@alpha.test"


def test_lazy_load_takes_the_tenant_active_when_it_runs(alpha, bravo):
    with tenancy.tenant_scope(alpha.tenant.id):
        contact = db.session.scalar(select(Contact))
    with tenancy.tenant_scope(bravo.tenant.id):
        assert contact.account is None  # A's account is not B's to load
    db.session.expire(contact, ["account"])
    with tenancy.tenant_scope(alpha.tenant.id):
        assert contact.account.id == alpha.account.id
