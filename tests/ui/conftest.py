"""Fixtures for the staff UI tests: a tenant with one member of each role, and records made
through ``crm`` exactly as the app makes them."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import event, inspect, select

from rapport import crm, tenancy
from rapport.db import db
from rapport.models import Membership, Role, Tenant, User
from rapport.pipeline import Actor
from rapport.security import hash_password

from tests.conftest import PASSWORD

SEED = Actor("operator", None, "seed script", "cli")


@dataclass
class Shop:
    """A tenant and its members by role, with helpers to make records and log in."""

    tenant: Tenant
    members: dict
    world: object

    @property
    def slug(self) -> str:
        return self.tenant.slug

    def url(self, path: str = "") -> str:
        return f"/t/{self.slug}/{path.lstrip('/')}"

    def make(self, record_type: str, owner: str | None = None, **data):
        """Create a record through crm; ``owner`` is a role key of ``members`` (or None)."""
        if owner is not None:
            data["owner_id"] = str(self.members[owner].id)
        with tenancy.tenant_scope(self.tenant.id):
            record = crm.create(record_type, data, SEED)
            db.session.commit()
        return _detached(record)

    def login(self, client, role: str = "owner"):
        self.world.login(client, self.email(role))
        return client

    def email(self, role: str) -> str:
        return f"{role}@{self.slug}.test"


def build_shop(world, slug: str) -> Shop:
    tenant = world.tenant(slug, owner_email=f"owner@{slug}.test")
    members = {}
    for role, name in (("manager", "Mona Manager"), ("agent", "Arthur Agent"), ("agent2", "Bea Agent"), ("viewer", "Vic Viewer")):
        members[role] = add_member(tenant, f"{role}@{slug}.test", "agent" if role == "agent2" else role, name)
    with tenancy.tenant_scope(tenant.id):
        members["owner"] = db.session.scalar(
            select(Membership).join(User, User.id == Membership.user_id).where(User.email == f"owner@{slug}.test")
        )
    return Shop(tenant, {role: _detached(m) for role, m in members.items()}, world)


@functools.cache
def _password_hash() -> str:
    # scrypt is slow on purpose; one hash serves every test user (all share PASSWORD).
    return hash_password(PASSWORD)


def add_member(tenant, email: str, role: str, name: str) -> Membership:
    """A user with a membership of ``role`` in ``tenant`` (as tests/conftest.py's World.member,
    with a cached password hash)."""
    user = User(email=email, name=name, password_hash=_password_hash())
    db.session.add(user)
    db.session.flush()
    with tenancy.tenant_scope(tenant.id):
        role_id = db.session.scalar(select(Role.id).where(Role.key == role))
        membership = Membership(user_id=user.id, role_id=role_id, status="active")
        db.session.add(membership)
        db.session.commit()
    return membership


def _detached(obj):
    """Keep a test's handle readable: ``reload``/``count`` expire the session, and reading an
    expired row again would need a tenant in context (on PostgreSQL, row-level security)."""
    db.session.expunge(obj)
    return obj


@pytest.fixture
def shop(world):
    return build_shop(world, "acme")


@pytest.fixture
def other_shop(world):
    return build_shop(world, "globex")


def count(record_type: str, tenant: Tenant, **where) -> int:
    """Rows of ``record_type`` in ``tenant`` matching ``where`` (read straight from the database)."""
    from rapport.models.records import RECORD_MODELS

    model = RECORD_MODELS[record_type]
    db.session.expire_all()
    with tenancy.tenant_scope(tenant.id):
        stmt = select(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return len(db.session.scalars(stmt).all())


def reload(record):
    """The record as stored now, or None if it is gone."""
    tenant_id, record_id = inspect(record).identity  # read before expiring: a reload needs a tenant
    db.session.expire_all()
    with tenancy.tenant_scope(tenant_id):
        return db.session.get(type(record), (tenant_id, record_id))


def text(response) -> str:
    return response.get_data(as_text=True)


def links(response, pattern: str) -> list[str]:
    return re.findall(pattern, text(response))


@pytest.fixture
def sql_counter(app):
    """Counts the SQL queries (not transaction control) sent inside ``with sql_counter:``."""

    class Counter:
        counting = False
        statements: list = []

        def __enter__(self):
            self.statements = []
            self.counting = True
            return self

        def __exit__(self, *exc):
            self.counting = False

    counter = Counter()

    def _before(conn, cursor, statement, *args):
        if counter.counting and not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "SET")):
            counter.statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _before)
    yield counter
    event.remove(db.engine, "before_cursor_execute", _before)
