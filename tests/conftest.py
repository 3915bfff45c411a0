"""Test fixtures: real migrations once per session, then every test inside a transaction that is
rolled back (``join_transaction_mode="create_savepoint"``), so application code commits freely.

Databases: SQLite by default; PostgreSQL when ``RAPPORT_TEST_DATABASE_URL`` is set (a server URL with
a superuser, e.g. ``postgresql+psycopg://postgres@127.0.0.1/postgres``). On PostgreSQL the suite
creates its own database, migrates it as the superuser and runs the app as the plain role
``rapport_app``, so row-level security applies exactly as in production.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, make_url, text

from rapport import tenancy
from rapport.app import create_app
from rapport.db import db
from rapport.migrate import APP_ROLE, upgrade

PASSWORD = "correct horse battery"


def _ci_forced(what: str) -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get(f"RAPPORT_REQUIRE_{what}") == "1"


def postgres_server_url() -> str | None:
    url = os.environ.get("RAPPORT_TEST_DATABASE_URL")
    if not url and _ci_forced("POSTGRES"):
        pytest.fail("CI requires RAPPORT_TEST_DATABASE_URL for the PostgreSQL tests")
    return url


def create_postgres_database(server_url: str, name: str) -> tuple[str, str]:
    """Create database ``name``, migrate it as the superuser; return (owner URL, app-role URL)."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    owner_url = make_url(server_url).set(database=name)
    owner = owner_url.render_as_string(hide_password=False)
    upgrade(owner)
    engine = create_engine(owner, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"ALTER ROLE {APP_ROLE} LOGIN"))
        conn.execute(text(f'GRANT CONNECT ON DATABASE "{name}" TO {APP_ROLE}'))
    engine.dispose()
    app_url = owner_url.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)
    return owner, app_url


def drop_postgres_database(server_url: str, name: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def redis_url():
    """A Redis server for the tests that share state through it (a test database index)."""
    url = os.environ.get("RAPPORT_TEST_REDIS_URL")
    if url:
        return url
    if _ci_forced("REDIS"):
        pytest.fail("CI requires RAPPORT_TEST_REDIS_URL for the Redis tests")
    pytest.skip("needs a Redis server: set RAPPORT_TEST_REDIS_URL (CI sets it)")


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """A migrated database for the session: ``{"url", "owner_url", "dialect"}``."""
    server = postgres_server_url()
    if server:
        name = f"rapport_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        owner, app_url = create_postgres_database(server, name)
        yield {"url": app_url, "owner_url": owner, "dialect": "postgresql"}
        db.session.remove()
        if db.engine is not None:
            db.engine.dispose()
        drop_postgres_database(server, name)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade(url)
        yield {"url": url, "owner_url": url, "dialect": "sqlite"}


def make_test_app(database, instance_path, **overrides):
    config = {
        "TESTING": True,
        "DATABASE_URL": database["url"],
        "MIGRATE_DATABASE_URL": database["owner_url"],
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": "test-secret-key-not-for-production",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MAIL_SERVER": None,
        "SERVER_NAME": None,
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",  # still scrypt, at a cost tests can afford
        "TASKS_IMMEDIATE": True,  # jobs run inside the call that queues them; tests of the worker say otherwise
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app_config():
    """Override to change the app's configuration for one module or test."""
    return {}


@pytest.fixture
def app(database, tmp_path, app_config):
    app = make_test_app(database, tmp_path / "instance", **app_config)
    connection = db.engine.connect()
    outer = connection.begin()
    db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        with app.app_context():
            yield app
    finally:
        db.session.remove()
        outer.rollback()
        connection.close()
        db.factory.configure(bind=db.engine)
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class World:
    """Builds tenants and members for a test."""

    def __init__(self, app):
        self.app = app

    def tenant(self, slug: str, owner_email: str | None = None, name: str | None = None):
        from rapport.provisioning import create_tenant

        tenant = create_tenant(slug, name or slug.title(), owner_email or f"owner@{slug}.test", PASSWORD)
        db.session.commit()
        return tenant

    def member(self, tenant, email: str, role: str = "agent", name: str = ""):
        from rapport.models import Membership, Role
        from rapport.provisioning import user_by_email
        from rapport.models import User
        from rapport.security import hash_password

        user = user_by_email(email)
        if user is None:
            user = User(email=email, name=name, password_hash=hash_password(PASSWORD))
            db.session.add(user)
            db.session.flush()
        with tenancy.tenant_scope(tenant.id):
            role_row = db.session.scalar(
                __import__("sqlalchemy").select(Role).where(Role.key == role)
            )
            membership = Membership(user_id=user.id, role_id=role_row.id, status="active")
            db.session.add(membership)
            db.session.commit()
        return membership

    def login(self, client, email: str, password: str = PASSWORD):
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response


@pytest.fixture
def world(app):
    return World(app)
