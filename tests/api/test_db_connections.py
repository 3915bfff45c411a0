"""How the app uses its PostgreSQL connections.

It recovers by itself when PostgreSQL drops them (a restart, a failover, an operator's
``pg_terminate_backend``), without a ping before every checkout: the first statement on a dead
connection fails, SQLAlchemy sees a disconnect and discards the whole pool, and the next request
connects afresh. A request may fail meanwhile, with a 5xx, never with a wrong answer such as 401/404.

And its hot queries stay prepared from one request to the next, although every read-only request ends
with a rollback (after which psycopg would forget them).
"""
from __future__ import annotations

import http.client
import json
import tempfile
import uuid

import psycopg
import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from rapport import tenancy
from rapport.db import db, make_engine
from rapport.models import Membership
from rapport.provisioning import create_tenant
from rapport.tokens import create_token
from tests.conftest import create_postgres_database, drop_postgres_database, make_test_app, postgres_server_url
from tests.livesupport import LiveServer

pytestmark = pytest.mark.postgres

TERMINATE = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


@pytest.fixture(scope="module")
def own_database(tmp_path_factory):
    """A database of this module's own: terminating its backends disturbs no other test."""
    server = postgres_server_url()
    if not server:
        pytest.skip("needs PostgreSQL (set RAPPORT_TEST_DATABASE_URL)")
    name = f"rapport_recovery_{uuid.uuid4().hex[:6]}"
    owner_url, app_url = create_postgres_database(server, name)
    yield {"owner_url": owner_url, "app_url": app_url, "instance": tmp_path_factory.mktemp("recovery")}
    drop_postgres_database(server, name)


def terminate_backends(owner_url: str) -> int:
    """Kill every other connection to the database, as a superuser would (the app's role cannot)."""
    admin = create_engine(owner_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(text(TERMINATE)).all())
    finally:
        admin.dispose()


def test_pool_is_discarded_after_one_failed_statement(own_database):
    engine = make_engine(own_database["app_url"])
    try:
        first, second, third = engine.connect(), engine.connect(), engine.connect()
        for conn in (first, second, third):
            conn.close()  # three live connections back in the pool
        assert engine.pool.checkedin() == 3
        assert terminate_backends(own_database["owner_url"]) >= 3

        with pytest.raises(DBAPIError) as failed, engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert failed.value.connection_invalidated
        for _ in range(3):  # the other pooled connections were dead too: none is handed out again
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def client_queries(engine, work) -> list[str]:
    """The simple-protocol queries the client sent while ``work()`` ran, from libpq's protocol trace."""
    with tempfile.TemporaryFile("w+") as trace:
        def start(dbapi_connection, _record):
            dbapi_connection.pgconn.trace(trace.fileno())
            dbapi_connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

        event.listen(engine.pool, "connect", start)
        event.listen(engine.pool, "close", lambda dbapi_connection, _record: dbapi_connection.pgconn.untrace())
        try:
            work()
        finally:
            engine.dispose()
        trace.seek(0)
        return [line.rstrip("\n").split("\t")[3].strip() for line in trace if line.startswith("F\t") and "\tQuery\t" in line]


def test_a_transaction_opens_with_its_tenant_in_one_round_trip(own_database):
    """``BEGIN`` and the row-level-security setting travel as one message, not as two exchanges."""
    engine = make_engine(own_database["app_url"])
    tenant_id = uuid.uuid4()
    seen = {}

    def work():
        with Session(engine) as session, tenancy.tenant_scope(tenant_id):
            seen["tenant"] = session.execute(text(
                "SELECT current_setting('app.tenant_id'), current_setting('app.unscoped', true)")).one()
            session.commit()
        with Session(engine) as session, tenancy.unscoped():
            seen["unscoped"] = session.execute(text("SELECT current_setting('app.unscoped')")).scalar()
        with Session(engine) as session:  # no tenant: psycopg's own BEGIN, nothing to set
            seen["none"] = session.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar()

    control = [q for q in client_queries(engine, work) if q.startswith(('"BEGIN', '"SET', '"COMMIT', '"ROLLBACK'))]
    assert seen == {"tenant": (str(tenant_id), None), "unscoped": "on", "none": ""}
    assert control == [f"\"BEGIN; SET LOCAL app.tenant_id = '{tenant_id}'\"", '"COMMIT"',
                       "\"BEGIN; SET LOCAL app.unscoped = 'on'\"", '"ROLLBACK"', '"BEGIN"', '"ROLLBACK"'], control


@pytest.fixture(scope="module")
def served(own_database):
    """Gunicorn (one worker: one pool, so each failure is seen) and an API token of one tenant."""
    instance = own_database["instance"]
    app = make_test_app({"url": own_database["owner_url"], "owner_url": own_database["owner_url"]}, instance / "seed")
    with app.app_context():
        tenant = create_tenant("recovery", "Recovery Ltd", "owner@recovery.test", "a long password 1")
        db.session.flush()
        with tenancy.tenant_scope(tenant.id):
            _row, secret = create_token(db.session.scalar(select(Membership)), "recovery")
            db.session.commit()
    db.engine.dispose()
    server = LiveServer(own_database["app_url"], instance, workers=1, migrate_url=own_database["owner_url"]).start()
    yield server, secret
    server.stop()


def test_hot_queries_stay_prepared_from_request_to_request(served, own_database):
    _server, token = served
    app = make_test_app({"url": own_database["app_url"], "owner_url": own_database["owner_url"]},
                        own_database["instance"] / "in-process")
    client = app.test_client()
    for _ in range(8):  # psycopg prepares a query on its sixth run on a connection
        response = client.get("/t/recovery/api/v1/contacts", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
    with app.app_context():
        prepared = db.session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    db.engine.dispose()
    assert any("FROM tenants" in s and "api_tokens" in s for s in prepared), prepared  # tenant and token
    assert any("FROM contacts" in s for s in prepared), prepared  # the list
    assert not any("SET LOCAL" in s for s in prepared), prepared  # one a tenant: never worth keeping


def get(server, path: str, token: str | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def statuses_until_ok(server, path: str, token: str | None = None, tries: int = 3) -> list[int]:
    statuses = []
    for _ in range(tries):
        status, _body = get(server, path, token)
        statuses.append(status)
        if status == 200:
            break
    return statuses


def test_api_answers_again_after_the_backends_are_terminated(served, own_database):
    server, token = served
    path = "/t/recovery/api/v1/contacts?limit=50"
    assert get(server, path, token)[0] == 200
    assert terminate_backends(own_database["owner_url"]) >= 1

    statuses = statuses_until_ok(server, path, token)
    assert statuses[-1] == 200 and len(statuses) <= 2, statuses
    assert all(status >= 500 for status in statuses[:-1]), statuses  # a failure, never a wrong answer
    status, body = get(server, path, token)
    assert status == 200 and body["items"] == []


def test_readyz_tells_the_truth_after_the_backends_are_terminated(served, own_database):
    server, _token = served
    assert get(server, "/readyz") == (200, {"status": "ok", "database": "ok"})
    assert terminate_backends(own_database["owner_url"]) >= 1

    statuses = statuses_until_ok(server, "/readyz")
    assert statuses[-1] == 200 and len(statuses) <= 2, statuses
    assert all(status == 503 for status in statuses[:-1]), statuses
    assert get(server, "/readyz") == (200, {"status": "ok", "database": "ok"})
